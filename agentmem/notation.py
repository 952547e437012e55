"""How a namespace and a time are written as text: on the command line and in the JSON that MCP and
HTTP clients send. One reading for all of them, so `user-42/notes` means the same everywhere.

- A namespace is `"user-42/notes"` (segments separated by "/") or a list of segments
  `["user-42", "notes"]`; a JSON list written as a string (`'["a/b", "c"]'`) keeps a "/" inside a
  segment.
- A time is ISO 8601 (a trailing Z is fine; no offset means UTC) or unix seconds.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from agentmem import validate
from agentmem.errors import InvalidInputError

Namespace = tuple[str, ...]


def parse_namespace(value: Any, *, where: str = "--namespace") -> Namespace:
    """`"user-42/notes"` or `["user-42", "notes"]` (also as a JSON string, for segments holding a "/":
    `'["a/b", "c"]'`) -> `("user-42", "notes")`."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise InvalidInputError(
                f"{where}: {value!r} is not a JSON list ({e.msg}); write e.g. '[\"a/b\", \"notes\"]'"
            ) from None
    if isinstance(value, str):
        parts = value.split("/")
    elif isinstance(value, list) and all(isinstance(p, str) for p in value):
        parts = value
    else:
        raise InvalidInputError(f"{where}: a namespace is a string like 'user-42/notes' or a list of strings")
    if not parts or any(not p.strip() for p in parts):
        raise InvalidInputError(
            f"{where}: namespace {value!r} has an empty segment; use non-empty parts separated by '/', "
            "e.g. 'user-42/notes'"
        )
    try:
        return validate.namespace(tuple(parts))
    except InvalidInputError as e:
        raise InvalidInputError(f"{where}: {e}") from None


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def parse_event_time(value: Any, *, where: str = "--event-time") -> datetime | None:
    """ISO 8601 (a trailing Z is fine; no offset means UTC) or unix seconds -> aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, bool):  # bool is an int subclass; `true` is never a time
        value = str(value)
    seconds: float | None = None
    if isinstance(value, (int, float)):
        seconds = validate.parse_time(value, where)
    elif isinstance(value, str):
        text = value.strip()
        try:
            if not _NUMBER.fullmatch(text):  # float() also reads "1_000", "١٢٣" and "nan"
                raise ValueError(text)
            number = float(text)
        except ValueError:
            try:
                dt = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
            except ValueError:
                pass
            else:
                seconds = validate.parse_time(dt, where)
        else:
            seconds = validate.parse_time(number, where)
    if seconds is None:
        raise InvalidInputError(
            f"{where}: cannot read {str(value)[:40]!r} as a time; use ISO 8601 like 2026-05-04T18:15:00Z or "
            "unix seconds"
        )
    return datetime.fromtimestamp(seconds, tz=timezone.utc)
