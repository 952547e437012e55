"""The metadata filter language of `recall`, `list`, `count` and `forget`, checked once at the API boundary.

A filter is a dict of conditions on a memory's metadata, all of which must hold:

    {"speaker": "Alice"}                       equality (a dict or list value compares as JSON)
    {"turn": {"$gte": 3, "$ne": 5}}            operators: $eq $ne $gt $gte $lt $lte, and $in / $nin
    {"speaker": {"$in": ["Alice", "Bob"]}}     with a list
    {"place.city": "Lisbon"}                   a dotted key addresses a nested field

`parse_filter` turns it into `Condition`s, refusing anything malformed with one line that names the
fix; each storage backend translates conditions into its own query language. Orderings ($gt, $gte,
$lt, $lte) take a number or a string; equality and membership take any JSON value. There is no $or or
$and (every condition must hold), so a key starting with "$" is refused rather than read as a field
name, as is a dict mixing operators and field names. A filter has at most MAX_FILTER_TERMS terms (a
condition, or one value of a $in / $nin list): SQLite refuses deeper expressions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentmem.errors import InputTooLargeError, InvalidInputError, InvalidTypeError
from agentmem.validate import json_value

ORDERINGS = ("$gt", "$gte", "$lt", "$lte")
COMPARISONS = ("$eq", "$ne", *ORDERINGS)
MEMBERSHIP = ("$in", "$nin")
OPERATORS = (*COMPARISONS, *MEMBERSHIP)
MAX_FILTER_TERMS = 500


@dataclass(frozen=True)
class Condition:
    """One condition: the metadata field at `path` (a key per level) `op` `value`."""

    path: tuple[str, ...]
    op: str
    value: Any


Filter = tuple[Condition, ...]


def parse_filter(filter: Mapping[str, Any] | None) -> Filter:
    """Conditions of a filter dict (none for None or {}), in the order given.

    A value that is a non-empty dict whose keys all start with "$" holds operators; any other value
    (a dict of fields included) means equality.
    """
    if filter is None:
        return ()
    if not isinstance(filter, Mapping):
        raise InvalidTypeError(
            f"filter is a {type(filter).__name__}, not a dict; pass e.g. {{\"speaker\": \"Alice\"}}"
        )
    out: list[Condition] = []
    for key, cond in filter.items():
        if (
            not isinstance(key, str)
            or not key
            or any(not part for part in key.split("."))
            or '"' in key
            or any(c < " " or "\x7f" <= c <= "\x9f" for c in key)
        ):
            raise InvalidInputError(
                f"filter key {key!r} is not a field name a filter can address; use a non-empty string "
                'without quotes or control characters, dots between nested fields'
            )
        if key.startswith("$"):
            raise InvalidInputError(
                f"filter key {key!r} is an operator, not a field; a filter has no $or or $and: every "
                'condition must hold, as in {"speaker": "Alice", "turn": {"$gte": 3}}'
            )
        json_value(key, "a filter key")
        path = tuple(key.split("."))
        # which of the value's keys are operators: {True} a dict of operators, else equality
        kinds = {str(k).startswith("$") for k in cond} if isinstance(cond, Mapping) else set()
        if len(kinds) == 2:
            raise InvalidInputError(
                f"filter {key!r} mixes operators and field names ({', '.join(map(str, cond))}); use "
                "operators only, or a dict of fields for equality"
            )
        conds = cond if kinds == {True} else {"$eq": cond}
        for op, value in conds.items():
            where = f"filter {key!r} {op}"
            if op not in OPERATORS:
                raise InvalidInputError(
                    f"filter {key!r}: unknown operator {op!r}; use one of {', '.join(OPERATORS)}"
                )
            if op in MEMBERSHIP:
                if not isinstance(value, (list, tuple)):
                    raise InvalidInputError(f"filter {key!r}: {op} takes a list, got {value!r}")
                value = [json_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
            elif op in ORDERINGS:
                if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                    raise InvalidInputError(
                        f"filter {key!r}: {op} compares with a number or a string, got {value!r}"
                    )
                json_value(value, where)
            else:
                json_value(value, where)
            out.append(Condition(path, op, value))
    terms = sum(len(c.value) if c.op in MEMBERSHIP else 1 for c in out)
    if terms > MAX_FILTER_TERMS:
        raise InputTooLargeError(
            f"filter has {terms} terms (conditions and $in / $nin values), over {MAX_FILTER_TERMS}; "
            "narrow it, or split the call"
        )
    return tuple(out)
