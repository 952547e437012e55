"""Checks at the API boundary: every argument a caller gives `Memory` is checked here before anything
is touched, and a bad one raises the library's own error with one line naming the fix.

The filter language has its own module (filters.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from agentmem.errors import InvalidInputError

Namespace = tuple[str, ...]
TimeLike = datetime | str | float | int | None


def namespace(value: Any) -> Namespace:
    """A namespace is a non-empty tuple of non-empty strings without control characters ("a" = ("a",))."""
    ns = (value,) if isinstance(value, str) else tuple(value)
    if not ns or not all(isinstance(s, str) and s and min(s) >= " " for s in ns):
        raise InvalidInputError(
            f"invalid namespace {value!r}: use a non-empty tuple of non-empty strings without control "
            "characters, e.g. ('user-42', 'memories')"
        )
    return ns


def namespace_prefix(value: Sequence[str] | str | None) -> Namespace | None:
    """A namespace prefix for reads: None or () means the whole store."""
    return None if value in (None, ()) else namespace(value)


def segments_match(segments: Sequence[str], pattern: Sequence[str]) -> bool:
    """Whether namespace `segments` match `pattern` segment for segment, "*" matching any one segment."""
    return len(segments) == len(pattern) and all(
        p == "*" or p == s for s, p in zip(segments, pattern, strict=True)
    )


def parse_time(t: TimeLike) -> float | None:
    """datetime (naive = UTC), ISO 8601 string, or unix seconds -> unix seconds."""
    if t is None:
        return None
    if isinstance(t, bool):
        raise InvalidInputError(f"invalid time {t!r}; pass a datetime, an ISO 8601 string or unix seconds")
    if isinstance(t, (int, float)):
        if not math.isfinite(t):
            raise InvalidInputError(f"invalid time {t!r}; pass a finite number of unix seconds")
        return float(t)
    if isinstance(t, str):
        try:
            t = datetime.fromisoformat(t.strip().replace("Z", "+00:00"))
        except ValueError as e:
            raise InvalidInputError(f"invalid time {t!r}; use ISO 8601, e.g. 2024-05-08T13:56:00") from e
    if isinstance(t, datetime):
        return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()
    raise InvalidInputError(f"invalid time {t!r}; pass a datetime, an ISO 8601 string or unix seconds")


def per_item(value: Any, n: int, name: str, *, default: Any) -> list[Any]:
    """Broadcast a single value to n items, or check a per-item list has n entries."""
    if value is None:
        return [default] * n
    if isinstance(value, (list, tuple)) and not (name == "event_time" and isinstance(value, str)):
        if len(value) != n:
            raise InvalidInputError(
                f"got {len(value)} {name} values for {n} texts; pass one per text or a single one"
            )
        return list(value)
    return [value] * n
