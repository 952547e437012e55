"""Checks at the API boundary: every argument a caller gives `Memory` (and, through it, the CLI, the
LangGraph store and the MCP server) is checked here before anything is touched. A bad one raises the
library's own error, an `InvalidInputError` (a `ValueError`; `InvalidTypeError` is also a `TypeError`),
with one line naming the argument and the fix; nothing is written.

What is refused, and why:
- text that is not a `str`, is empty, cannot be stored as UTF-8 (a lone surrogate), holds a NUL
  character (PostgreSQL's text and jsonb cannot hold one, and a text one backend keeps the other must
  keep too), or is longer than `MAX_TEXT_CHARS` (every chunk of a text is embedded: an unbounded text
  is unbounded work); a query may hold a NUL, as it is never stored;
- ids and namespace segments that are empty, not strings, not UTF-8, or hold control characters (C0,
  DEL, C1: they cannot be typed, and U+001F joins segments in storage);
- metadata that would not read back as given: keys that are not strings, tuples and sets, integers
  outside 64 bits (SQLite's), non-finite floats, strings holding a NUL character, nesting deeper than
  `MAX_JSON_DEPTH`, more than `MAX_METADATA_BYTES` of JSON;
- times outside years 1-9999 in UTC, the range a `datetime` can hold;
- counts (`k`, `limit`, `offset`) that are not non-negative integers within `MAX_K` / 64 bits.

The filter language has its own module (filters.py), which uses the value checks here.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from agentmem.errors import EmptyTextError, InputTooLargeError, InvalidInputError, InvalidTypeError

if TYPE_CHECKING:
    import numpy as np

Namespace = tuple[str, ...]
TimeLike = datetime | str | float | int | None

MAX_TEXT_CHARS = 100_000
MAX_ID_CHARS = 512
MAX_SEGMENT_CHARS = 512
MAX_NAMESPACE_DEPTH = 32
MAX_JSON_DEPTH = 32
MAX_METADATA_BYTES = 16 << 20
MAX_K = 10_000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# The instants a datetime can hold, as unix seconds: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z
# (unix seconds are floats, which cannot tell the last microsecond of year 9999 from year 10000).
MIN_TIME = datetime(1, 1, 1, tzinfo=timezone.utc).timestamp()
MAX_TIME = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc).timestamp()


def clipped(text: str, width: int) -> str:
    """`text` cut to at most `width` characters, "..." marking the cut: an argument shown in an error."""
    return text if len(text) <= width else text[: width - 3] + "..."


def _type_name(value: Any) -> str:
    return type(value).__name__


def _unicode(value: str, what: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(
            f"{what} holds a lone surrogate and cannot be stored as UTF-8; pass valid Unicode text"
        ) from None
    return value


def _no_nul(value: str, what: str) -> str:
    if "\x00" in value:
        raise InvalidInputError(
            f"{what} holds a NUL character (\\x00), which a store cannot keep (PostgreSQL's text cannot); "
            "remove it"
        )
    return value


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _control(value: str) -> bool:
    """Whether `value` holds a C0 control, DEL or a C1 control character (a regex: one C-level scan,
    which a request of many ids needs)."""
    return _CONTROL.search(value) is not None


def text(value: Any, what: str = "text", *, stored: bool = True) -> str:
    """A memory text (or, not `stored`, a query): a non-empty `str`, storable as UTF-8 (a stored one
    without NUL), at most MAX_TEXT_CHARS long."""
    if not isinstance(value, str):
        raise InvalidTypeError(f"{what} is a {_type_name(value)}, not a str; pass a string")
    if not value.strip():
        raise EmptyTextError(f"{what} is empty or whitespace; pass non-empty text")
    if len(value) > MAX_TEXT_CHARS:
        raise InputTooLargeError(
            f"{what} has {len(value):,} characters, over the limit of {MAX_TEXT_CHARS:,}; split it into "
            "several memories"
        )
    return _no_nul(_unicode(value, what), what) if stored else _unicode(value, what)


def texts(value: Any, what: str = "texts") -> list[str]:
    """One text or a sequence of them."""
    if isinstance(value, str):
        return [text(value, what)]
    if not isinstance(value, Sequence) or isinstance(value, (bytes, bytearray)):
        raise InvalidTypeError(f"{what} is a {_type_name(value)}; pass a string or a list of strings")
    n = len(value)
    return [text(t, f"{what}[{i}]" if n > 1 else "text") for i, t in enumerate(value)]


def identifier(value: Any, what: str = "id") -> str:
    """A memory id: a non-empty `str` of at most MAX_ID_CHARS printable characters."""
    if not isinstance(value, str):
        raise InvalidTypeError(f"{what} is a {_type_name(value)}, not a str; pass a memory id string")
    if not value or len(value) > MAX_ID_CHARS or _control(value):
        raise InvalidInputError(
            f"invalid {what} {value[:40]!r}: use 1 to {MAX_ID_CHARS} characters, no control characters"
        )
    return _unicode(value, what)


def identifiers(value: Any, what: str = "ids") -> list[str]:
    """One id or a sequence of them."""
    if isinstance(value, str):
        return [identifier(value, what)]
    if not isinstance(value, Sequence) or isinstance(value, (bytes, bytearray)):
        raise InvalidTypeError(f"{what} is a {_type_name(value)}; pass an id string or a list of them")
    return [identifier(v, f"{what}[{i}]") for i, v in enumerate(value)]


def namespace(value: Any) -> Namespace:
    """A namespace is a non-empty tuple of non-empty strings without control characters ("a" = ("a",))."""
    ns = (value,) if isinstance(value, str) else value
    if isinstance(ns, (list, tuple)) and all(isinstance(s, str) for s in ns):
        ns = tuple(ns)
        if (
            ns
            and len(ns) <= MAX_NAMESPACE_DEPTH
            and all(s and len(s) <= MAX_SEGMENT_CHARS and not _control(s) for s in ns)
        ):
            for s in ns:
                _unicode(s, "a namespace segment")
            return ns
    shown = clipped(repr(value), 80)
    raise InvalidInputError(
        f"invalid namespace {shown}: use a tuple of 1 to {MAX_NAMESPACE_DEPTH} non-empty strings without "
        "control characters, e.g. ('user-42', 'memories')"
    )


def namespace_prefix(value: Sequence[str] | str | None) -> Namespace | None:
    """A namespace prefix for reads: None (or an empty tuple) means the whole store."""
    if value is None or (isinstance(value, (tuple, list)) and len(value) == 0):
        return None
    return namespace(value)


def segments_match(segments: Sequence[str], pattern: Sequence[str]) -> bool:
    """Whether namespace `segments` match `pattern` segment for segment, "*" matching any one segment."""
    return len(segments) == len(pattern) and all(
        p == "*" or p == s for s, p in zip(segments, pattern, strict=True)
    )


def json_value(value: Any, what: str, depth: int = 0) -> Any:
    """A value that JSON stores and reads back exactly as given (see the module docstring)."""
    if depth > MAX_JSON_DEPTH:
        raise InputTooLargeError(f"{what} nests deeper than {MAX_JSON_DEPTH} levels; flatten it")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise InvalidInputError(f"{what} holds {value}, outside 64-bit integers; store it as a string")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(f"{what} holds {value}; JSON has no NaN or infinity, use null or a string")
        return value
    if isinstance(value, str):
        return _no_nul(_unicode(value, what), what)
    if isinstance(value, list):
        for i, v in enumerate(value):
            json_value(v, f"{what}[{i}]", depth + 1)
        return value
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidTypeError(
                    f"{what} has a key {k!r} of type {_type_name(k)}; JSON keys are strings, convert it"
                )
            _no_nul(_unicode(k, f"a key of {what}"), f"a key of {what}")
            json_value(v, f"{what}[{k!r}]", depth + 1)
        return value
    fix = "use a list" if isinstance(value, (tuple, set, frozenset)) else "convert it to str, int, float, list or dict"
    raise InvalidTypeError(f"{what} holds a {_type_name(value)}, which JSON does not read back as given; {fix}")


def metadata(value: Any, what: str = "metadata") -> dict[str, Any]:
    """A metadata dict: JSON that reads back as given, at most MAX_METADATA_BYTES once serialised."""
    if not isinstance(value, Mapping):
        raise InvalidTypeError(f"{what} is a {_type_name(value)}, not a dict; pass a dict")
    json_value(value, what)
    size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    if size > MAX_METADATA_BYTES:
        raise InputTooLargeError(f"{what} is {size:,} bytes of JSON, over {MAX_METADATA_BYTES:,}; store less")
    return dict(value)


def parse_time(t: TimeLike, what: str = "time") -> float | None:
    """datetime (naive = UTC), ISO 8601 string, or unix seconds -> unix seconds in years 1-9999 (UTC)."""
    if t is None:
        return None
    if isinstance(t, bool):
        raise InvalidTypeError(f"invalid {what} {t!r}; pass a datetime, an ISO 8601 string or unix seconds")
    if isinstance(t, (int, float)):
        if isinstance(t, float) and not math.isfinite(t):
            raise InvalidInputError(f"invalid {what} {t!r}; pass a finite number of unix seconds")
        seconds = t  # an int stays exact for the range check: one past a float's range must not overflow
    elif isinstance(t, str):
        try:
            parsed = datetime.fromisoformat(t.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(
                f"invalid {what} {t[:40]!r}; use ISO 8601, e.g. 2024-05-08T13:56:00"
            ) from None
        return parse_time(parsed, what)
    elif isinstance(t, datetime):
        try:
            seconds = (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()
        except (OverflowError, ValueError):
            seconds = math.inf
    else:
        raise InvalidTypeError(
            f"invalid {what} of type {_type_name(t)}; pass a datetime, an ISO 8601 string or unix seconds"
        )
    if not MIN_TIME <= seconds <= MAX_TIME:
        shown = t.isoformat() if isinstance(t, datetime) else clipped(repr(t), 60)
        raise InvalidInputError(f"{what} {shown} is outside years 1-9999 UTC; pass a time in that range")
    return float(seconds)


def ttl(value: Any, now: float) -> float | None:
    """A time to live: positive seconds, expiring within years 1-9999."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTypeError(f"ttl is a {_type_name(value)}; pass a positive number of seconds")
    if not 0 < value <= MAX_TIME - now:  # false for NaN; int against float compares exactly, never overflows
        raise InvalidInputError(
            f"ttl must be a positive number of seconds expiring before the year 10000, got {clipped(repr(value), 60)}"
        )
    return float(value)


def count(value: Any, what: str, *, minimum: int = 0, maximum: int = INT64_MAX) -> int:
    """A whole number in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidTypeError(f"{what} is a {_type_name(value)}; pass an integer")
    if not minimum <= int(value) <= maximum:
        raise (InputTooLargeError if value > maximum else InvalidInputError)(
            f"{what} must be between {minimum} and {maximum:,}, got {value}"
        )
    return int(value)


def k(value: Any) -> int:
    """How many hits a read returns: 1 to MAX_K."""
    return count(value, "k", minimum=1, maximum=MAX_K)


def limit(value: Any) -> int | None:
    """A page size (None: everything)."""
    return None if value is None else count(value, "limit")


def offset(value: Any) -> int:
    """A page start (None: 0)."""
    return 0 if value is None else count(value, "offset")


def embeddings(value: Any, n: int, dim: int, what: str = "embeddings") -> np.ndarray:
    """Precomputed vectors `(n, dim)`, finite, returned as unit float32 rows."""
    import numpy as np

    try:
        e = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise InvalidTypeError(f"{what} is not an array of numbers; pass a float array of shape ({n}, {dim})") from None
    if e.shape != (n, dim):
        raise InvalidInputError(f"{what} have shape {e.shape}, expected ({n}, {dim})")
    if not np.isfinite(e).all():
        raise InvalidInputError(f"{what} hold NaN or infinity; pass finite vectors")
    norm = np.linalg.norm(e.astype(np.float64), axis=1, keepdims=True)  # float32 squares overflow past 1e19
    if e.size and not norm.all():
        row = int(np.flatnonzero(norm[:, 0] == 0)[0])
        raise InvalidInputError(f"{what} row {row} is all zeros, which points nowhere; pass a nonzero vector")
    return (e / norm).astype(np.float32)


def flag(value: Any, what: str) -> bool:
    """True or False (numpy's bool too), nothing else."""
    if not (isinstance(value, bool) or type(value).__name__ == "bool_"):
        raise InvalidTypeError(f"{what} is a {_type_name(value)}; pass True or False")
    return bool(value)


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
