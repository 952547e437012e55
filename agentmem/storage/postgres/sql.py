"""What a read may see, as SQL: a namespace prefix (tenant and key range), a metadata filter (jsonb), an
expiry time, being indexed. The local backend's `filter_sql` (storage/local/sqlite.py) is the
reference: conditions select the same memories here as there.

SQLite's json_extract gives a field as an SQL value (JSON booleans as 1 and 0, objects and lists as
their JSON text), and SQLite orders NULL < numbers < text. The conditions below follow those rules on
jsonb:
- equality with a number or a boolean compares numerically, booleans as 1 and 0; with a string, a
  string field; with null, a missing field or JSON null; with an object or a list, the jsonb value
  (jsonb equality does not depend on key order, where SQLite compares the JSON text);
- `$ne` and `$nin` hold for a missing field, except against an object or a list (then neither a
  missing field nor JSON null matches, as SQLite's NULL comparison has it);
- orderings compare numbers with numbers, strings with strings by code point, and rank every number
  below every string (and below a field holding an object or a list); a missing field or JSON null
  matches no ordering.
"""

from __future__ import annotations

import json
from typing import Any

from agentmem.filters import Condition, Filter
from agentmem.storage.base import Namespace, ns_prefix_range

_COMPARE = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
# A field's value as SQLite's json_extract has it, for numeric comparisons: JSON booleans are 1 and 0.
_NUMBER = (
    "(CASE jsonb_typeof({f}) WHEN 'number' THEN ({f})::numeric "
    "WHEN 'boolean' THEN ({f})::boolean::int::numeric END)"
)


def scope_sql(namespace: Namespace | None, alias: str = "") -> tuple[str, list[Any]]:
    """SQL for "under the namespace prefix": its tenant (the first segment) and its key range, one
    range of the (tenant, ns, slot) index."""
    if not namespace:
        return "TRUE", []
    lo, hi = ns_prefix_range(namespace)
    a = f"{alias}." if alias else ""
    return f"({a}tenant = %s AND {a}ns >= %s AND {a}ns < %s)", [namespace[0], lo, hi]


def filter_sql(conditions: Filter, alias: str = "") -> tuple[str, list[Any]]:
    """SQL for parsed filter conditions (filters.parse_filter), all of which must hold."""
    if not conditions:
        return "TRUE", []
    clauses: list[str] = []
    params: list[Any] = []
    column = f"{alias}.metadata" if alias else "metadata"
    for c in conditions:
        sql, p = _condition(c, column)
        clauses.append(sql)
        params += p
    return " AND ".join(clauses), params


def _condition(c: Condition, column: str) -> tuple[str, list[Any]]:
    f = f"({column} #> %s)"
    path = list(c.path)
    if c.op in ("$in", "$nin"):
        parts = [_equal(f, path, v) for v in c.value]
        inner = " OR ".join(s for s, _ in parts) or "FALSE"
        params = [p for _, ps in parts for p in ps]
        return (f"({inner})" if c.op == "$in" else f"NOT ({inner})"), params
    if c.op in ("$eq", "$ne"):
        sql, params = _equal(f, path, c.value)
        return (sql if c.op == "$eq" else f"NOT ({sql})"), params
    return _order(f, path, _COMPARE[c.op], c.value)


def _equal(f: str, path: list[str], value: Any) -> tuple[str, list[Any]]:
    """Equality as SQLite's `json_extract(...) IS value` (never NULL), or `= json(value)` for an object
    or a list (NULL for a missing field or JSON null, so that NOT keeps it out)."""
    typeof = f"jsonb_typeof({f})"
    if value is None:
        return f"coalesce({typeof}, 'null') = 'null'", [path]
    if isinstance(value, (dict, list)):  # JSON null is SQL NULL to json_extract
        return f"nullif({f}, 'null'::jsonb) = %s::jsonb", [path, json.dumps(value, ensure_ascii=False)]
    if isinstance(value, str):
        return f"coalesce({typeof} = 'string' AND {f} #>> '{{}}' = %s, FALSE)", [path, path, value]
    number = _NUMBER.format(f=f)
    return f"coalesce({number} = %s::numeric, FALSE)", [path, path, path, _numeric(value)]


def _order(f: str, path: list[str], op: str, value: Any) -> tuple[str, list[Any]]:
    """An ordering as SQLite's `json_extract(...) op value`: NULL (no match) for a missing field."""
    typeof = f"jsonb_typeof({f})"
    above = op in (">", ">=")  # every text ranks above every number
    if isinstance(value, str):
        sql = (
            f"(CASE WHEN {typeof} IN ('number', 'boolean') THEN {not above} "
            f"WHEN {typeof} = 'string' THEN ({f} #>> '{{}}') COLLATE \"C\" {op} %s "
            f"WHEN {typeof} IN ('object', 'array') THEN ({f})::text COLLATE \"C\" {op} %s END)"
        )
        return sql, [path, path, path, value, path, path, value]
    number = _NUMBER.format(f=f)
    sql = (
        f"(CASE WHEN {typeof} IN ('number', 'boolean') THEN {number} {op} %s::numeric "
        f"WHEN {typeof} IN ('string', 'object', 'array') THEN {above} END)"
    )
    return sql, [path, path, path, path, _numeric(value), path]


def _numeric(value: Any) -> str:
    """A number (or a boolean, as 1 or 0) as the text of an SQL numeric, exact for every int and
    float JSON holds."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(value) if isinstance(value, float) else str(int(value))


def live_sql(now: float | None, alias: str = "") -> tuple[str, list[Any]]:
    """SQL for "unexpired at `now`" (TRUE when `now` is None: expired memories count too)."""
    if now is None:
        return "TRUE", []
    a = f"{alias}." if alias else ""
    return f"({a}expires_at IS NULL OR {a}expires_at > %s)", [now]


def visible_sql(
    namespace: Namespace | None,
    filter: Filter,
    now: float | None,
    *,
    indexed_only: bool,
    alias: str = "",
) -> tuple[str, list[Any]]:
    """The conjunction of scope, filter, expiry and (with `indexed_only`) having a key."""
    parts = [scope_sql(namespace, alias), filter_sql(filter, alias), live_sql(now, alias)]
    sql = " AND ".join(s for s, _ in parts if s != "TRUE") or "TRUE"
    if indexed_only:
        sql += f" AND {alias + '.' if alias else ''}vector IS NOT NULL"
    return sql, [p for _, ps in parts for p in ps]
