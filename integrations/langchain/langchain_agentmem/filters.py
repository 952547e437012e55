"""LangGraph's search filters: their exact semantics, and the part agentmem's SQL can pre-apply.

A LangGraph filter maps a top-level key of an item's value to either a value (equality; dicts match
nested keys, lists match element-wise) or a dict of operators (`$eq $ne $gt $gte $lt $lte`), the
semantics `InMemoryStore` gives them. `matches` is that semantics and is always the final word.
`pushdown` picks the conditions agentmem's metadata filter evaluates the same way, so the store
narrows candidates in SQL before a page is cut instead of scanning every item in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentmem.errors import InvalidInputError
from agentmem.filters import parse_filter
from agentmem.validate import json_value
from langchain_agentmem.items import encoded_text

_COMPARISONS = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}
OPERATORS = frozenset({"$eq", "$ne", *_COMPARISONS})


def matches(value: Mapping[str, Any], filter: Mapping[str, Any] | None) -> bool:
    """Whether an item's value satisfies a LangGraph filter."""
    return not filter or all(_compare(value.get(k), cond) for k, cond in filter.items())


def _compare(actual: Any, expected: Any) -> bool:
    if isinstance(expected, Mapping):
        if any(str(k).startswith("$") for k in expected):
            return all(_apply(actual, op, operand) for op, operand in expected.items())
        return isinstance(actual, Mapping) and all(_compare(actual.get(k), v) for k, v in expected.items())
    if isinstance(expected, (list, tuple)):
        return (
            isinstance(actual, (list, tuple))
            and len(actual) == len(expected)
            and all(_compare(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return actual == expected


def _apply(actual: Any, op: str, operand: Any) -> bool:
    if op == "$eq":
        return actual == operand
    if op == "$ne":
        return actual != operand
    if op not in _COMPARISONS:
        raise ValueError(_unsupported(op))
    # Numbers compare as floats, as in LangGraph's stores; a missing or non-numeric value simply
    # does not match (InMemoryStore would raise a TypeError mid-search instead).
    try:
        return _COMPARISONS[op](float(actual), float(operand))
    except (TypeError, ValueError):
        return False


def _unsupported(op: Any) -> str:
    return f"unsupported filter operator {op!r}; LangGraph supports {', '.join(sorted(OPERATORS))}"


def check(filter: Any) -> None:
    """Raise `ValueError` unless `filter` is a LangGraph filter whose operators all exist.

    `matches` meets an unknown operator only on an item that reaches it, so a search over an empty
    namespace would accept one; callers that answer a model (the memory tools) check up front.
    """
    if filter is None:
        return
    if not isinstance(filter, Mapping):
        raise ValueError(f"a filter is a dict of field -> value or operators, not {type(filter).__name__}")
    for cond in filter.values():
        _check_condition(cond)


def _check_condition(cond: Any) -> None:
    if isinstance(cond, Mapping):
        if any(str(k).startswith("$") for k in cond):
            unknown = sorted(str(k) for k in cond if k not in OPERATORS)
            if unknown:
                raise ValueError(_unsupported(unknown[0]))
            return
        for nested in cond.values():
            _check_condition(nested)
    elif isinstance(cond, (list, tuple)):
        for nested in cond:
            _check_condition(nested)


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (str, int, float)) and not isinstance(v, bool) and _storable(v)


def _addressable(key: str) -> bool:
    """Whether agentmem's filter can address this top-level key (no dot: it would read a nested path)."""
    try:
        parse_filter({key: 0})
    except InvalidInputError:
        return False
    return "." not in key and _storable(key)


def _storable(v: Any) -> bool:
    """Whether agentmem stores and compares `v` as given (see agentmem.validate.json_value)."""
    try:
        json_value(v, "a filter value")
    except InvalidInputError:
        return False
    return True


def pushdown(filter: Mapping[str, Any] | None) -> tuple[dict[str, Any], bool]:
    """Split a filter into (conditions agentmem can pre-apply, whether they are exactly the filter).

    Only conditions SQL can never make stricter than LangGraph are pushed: equality with a string
    or a number (exact), and `$gt`/`$gte` with a number (looser: SQLite ranks text above every
    number, so a numeric string passes them and is re-checked; `$lt`/`$lte` would wrongly drop it).
    Keys with a dot are not pushed, because agentmem reads a dot as a nested path, nor keys and values
    agentmem's filters refuse (an empty key, integers past 64 bits, NaN). When the pushed part is not
    exact, callers re-check every candidate with `matches`.
    """
    pushed: dict[str, Any] = {}
    complete = True
    for key, cond in (filter or {}).items():
        # Strings are compared as the store holds them (items.encoded: unchanged unless they hold a
        # lone surrogate or start with its marker).
        stored_key = encoded_text(key) if isinstance(key, str) else key
        cond = encoded_text(cond) if isinstance(cond, str) else cond
        if not isinstance(key, str) or not _addressable(stored_key):
            complete = False
        elif _is_scalar(cond):
            pushed[stored_key] = cond
        elif isinstance(cond, Mapping) and cond and all(str(k).startswith("$") for k in cond):
            ops = {
                op: encoded_text(v) if isinstance(v, str) else v
                for op, v in cond.items()
                if (op == "$eq" and _is_scalar(encoded_text(v) if isinstance(v, str) else v))
                or (op in ("$gt", "$gte") and _is_number(v))
            }
            if ops:
                pushed[stored_key] = ops
            complete = complete and set(ops) == set(cond) == {"$eq"}
        else:
            complete = False
    return pushed, complete


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and _storable(v)
