"""What a read may see, as SQL: a namespace prefix (tenant and key range), a metadata filter (jsonb), an
expiry time, being indexed. The local backend's `filter_sql` (storage/local/sqlite.py) is the
reference: conditions select the same memories here as there.

SQLite's json_extract gives a field as an SQL value (JSON booleans as 1 and 0, objects and lists as
their JSON text), and SQLite orders NULL < numbers < text. The conditions below follow those rules on
jsonb:
- a dotted key steps into objects only, as SQLite's `$."a"."0"` does: a list on the way holds no
  field (jsonb's `#>` would read "0" as a list index), so each step is `-> key::text`;
- equality with a number or a boolean compares numerically, booleans as 1 and 0; with a string, a
  string field; with null, a missing field or JSON null; with an object or a list, the JSON text, as
  SQLite compares it, so 1 and 1.0 differ inside one. jsonb keeps an object's keys in an order of its
  own, so here the keys' order does not count, where it does in SQLite (docs/scale-out.md);
- numbers are written as the stored metadata writes them (`dumps`): a float from 1e16 up in full, so
  that it compares equal to the same float stored;
- `$ne` and `$nin` hold for a missing field, except against an object or a list (then neither a
  missing field nor JSON null matches, as SQLite's NULL comparison has it);
- orderings compare numbers with numbers, strings with strings by code point, and rank every number
  below every string (and below a field holding an object or a list); a missing field or JSON null
  matches no ordering.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from typing import Any

from agentmem.errors import InvalidInputError
from agentmem.filters import Condition, Filter
from agentmem.storage.base import Namespace, ns_prefix_range

_COMPARE = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_WHOLE = 1e16  # floats from here up are whole numbers Python writes in exponent form (`dumps`)
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
    # `path` stands for the field's keys wherever the field occurs: `_expand` puts them in its place.
    path: list[Any] = []
    f = "(" + column + " -> %s::text" * len(c.path) + ")"
    if c.op in ("$in", "$nin"):
        parts = [_equal(f, path, v) for v in c.value]
        inner = " OR ".join(s for s, _ in parts) or "FALSE"
        params = [p for _, ps in parts for p in ps]
        sql = f"({inner})" if c.op == "$in" else f"NOT ({inner})"
    elif c.op in ("$eq", "$ne"):
        sql, params = _equal(f, path, c.value)
        sql = sql if c.op == "$eq" else f"NOT ({sql})"
    else:
        sql, params = _order(f, path, _COMPARE[c.op], c.value)
    return sql, _expand(params, path, list(c.path))


def _expand(params: list[Any], path: list[Any], keys: list[str]) -> list[Any]:
    """`params` with each occurrence of the `path` placeholder (by identity) replaced by the keys."""
    return [x for p in params for x in (keys if p is path else [p])]


def _equal(f: str, path: list[str], value: Any) -> tuple[str, list[Any]]:
    """Equality as SQLite's `json_extract(...) IS value` (never NULL), or `= json(value)` for an object
    or a list (NULL for a missing field or JSON null, so that NOT keeps it out)."""
    typeof = f"jsonb_typeof({f})"
    if value is None:
        return f"coalesce({typeof}, 'null') = 'null'", [path]
    if isinstance(value, (dict, list)):  # JSON null is SQL NULL to json_extract
        return f"nullif({f}, 'null'::jsonb)::text = %s::jsonb::text", [path, dumps(value)]
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
    """A number (or a boolean, as 1 or 0) as the text of an SQL numeric, written as `dumps` writes it
    into the stored metadata, so that a float equals the same float stored."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if abs(value) >= _WHOLE else repr(value)
    return str(int(value))


def dumps(value: Any) -> str:
    """`value` as JSON that jsonb gives back as it was. jsonb keeps a number's digits, not whether it
    was a float: Python writes floats from 1e16 up in exponent form ("2.1e+16"), which jsonb turns into
    an integer. Those are written out in full with ".0" ("21000000000000000.0"): every float that large
    is a whole number, so this is exact."""
    big: list[float] = []
    tag = uuid.uuid4().hex  # stands for a large float in the first pass; no caller's string holds it

    def mark(v: Any) -> Any:
        if isinstance(v, float) and math.isfinite(v) and abs(v) >= _WHOLE:
            big.append(v)
            return f"{tag}{len(big) - 1}"
        if isinstance(v, dict):
            return {k: mark(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [mark(x) for x in v]
        return v

    try:
        text = json.dumps(mark(value), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(
            f"metadata must be JSON-serialisable ({e}); convert values to str/int/float/list/dict"
        ) from e
    if big:
        text = re.sub(f'"{tag}(\\d+)"', lambda m: f"{int(big[int(m.group(1))])}.0", text)
    return text


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
