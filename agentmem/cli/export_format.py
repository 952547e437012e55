"""The `agentmem export` JSONL format (version 1), written and read back losslessly.

Line 1 is a header: `{"format": "agentmem-export", "version": 1, "encoder": ..., "dim": ...,
"exported_at": ..., "count": N}`. Every further line is one memory: `MemoryRecord.to_dict()` plus
`"history"`, its versions oldest first (the last one is the current version), each
`MemoryVersion.to_dict()`. Lines come in write order, so importing them in order into an empty
store rebuilds the same temporal links. docs/cli-json.md documents the shape.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from itertools import pairwise
from typing import Any

from agentmem.cli.inputs import decode_utf8
from agentmem.errors import InvalidInputError
from agentmem.records import MemoryRecord, MemoryVersion

FORMAT = "agentmem-export"
VERSION = 1

Entry = tuple[MemoryRecord, list[MemoryVersion]]


def header(*, encoder: str, dim: int, count: int) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "encoder": encoder,
        "dim": dim,
        "exported_at": datetime.now(timezone.utc).isoformat(),
        "count": count,
    }


def line(record: MemoryRecord, history: list[MemoryVersion]) -> str:
    """One memory as one JSON line."""
    return json.dumps({**record.to_dict(), "history": [v.to_dict() for v in history]}, ensure_ascii=False)


def parse(data: bytes, *, source: str) -> tuple[dict[str, Any], list[Entry]]:
    """Validate a whole export before anything is written; errors name the line and the fix."""
    lines = [
        (n, text) for n, text in enumerate(decode_utf8(data, source=source).splitlines(), 1) if text.strip()
    ]
    if not lines:
        raise InvalidInputError(f"{source} is empty; give a file written by `agentmem export`")
    head = _object(*lines[0], source)
    if head.get("format") != FORMAT:
        raise InvalidInputError(
            f"{source} line {lines[0][0]} is not an agentmem export header; give a file written by "
            "`agentmem export` (to load plain texts use `agentmem add --jsonl`)"
        )
    if head.get("version") != VERSION:
        raise InvalidInputError(
            f"{source} is export format version {head.get('version')!r}; this agentmem reads version {VERSION}"
        )
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for n, text in lines[1:]:
        entry = _entry(_object(n, text, source), f"{source} line {n}")
        if entry[0].id in seen:
            raise InvalidInputError(
                f"{source} line {n} repeats id {entry[0].id!r} from line {seen[entry[0].id]}"
            )
        seen[entry[0].id] = n
        entries.append(entry)
    if head.get("count") not in (None, len(entries)):
        raise InvalidInputError(
            f"{source} header says {head['count']} memories but holds {len(entries)}; the file is truncated, "
            "export it again"
        )
    return head, entries


def _object(n: int, text: str, source: str) -> dict[str, Any]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidInputError(
            f"{source} line {n} is not valid JSON ({e.msg} at column {e.colno}); export the store again"
        ) from None
    if not isinstance(obj, dict):
        raise InvalidInputError(f"{source} line {n} must be a JSON object; export the store again")
    return obj


def _get(obj: dict[str, Any], key: str, kinds: type | tuple[type, ...], where: str) -> Any:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, kinds):  # JSON true is not a number here
        raise InvalidInputError(
            f"{where}: field {key!r} is missing or has the wrong type; export the store again"
        )
    return value


def _time(obj: dict[str, Any], key: str, where: str, *, optional: bool = False) -> datetime | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{where}: field {key!r} is not an ISO 8601 time; export the store again"
        ) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _text(obj: dict[str, Any], where: str) -> str:
    text = _get(obj, "text", str, where)
    if not text.strip():
        raise InvalidInputError(f"{where}: text is empty; remove the line or give it text")
    return text


def _entry(obj: dict[str, Any], where: str) -> Entry:
    namespace = _get(obj, "namespace", list, where)
    if not namespace or not all(isinstance(p, str) and p for p in namespace):
        raise InvalidInputError(f"{where}: namespace must be a non-empty list of non-empty strings")
    record = MemoryRecord(
        id=_get(obj, "id", str, where),
        namespace=tuple(namespace),
        text=_text(obj, where),
        metadata=_get(obj, "metadata", dict, where),
        created_at=_time(obj, "created_at", where),
        updated_at=_time(obj, "updated_at", where),
        event_time=_time(obj, "event_time", where, optional=True),
        usage=float(_get(obj, "usage", (int, float), where)),
        write_order=int(obj.get("write_order") or 0),
        prev_id=obj.get("prev_id"),
        next_id=obj.get("next_id"),
        version=_get(obj, "version", int, where),
        expires_at=_time(obj, "expires_at", where, optional=True),
        indexed=bool(obj.get("indexed", True)),
        last_read_at=_time(obj, "last_read_at", where, optional=True),
    )
    history = []
    for i, v in enumerate(_get(obj, "history", list, where), 1):
        vwhere = f"{where} history[{i}]"
        if not isinstance(v, dict):
            raise InvalidInputError(f"{vwhere} must be a JSON object; export the store again")
        history.append(
            MemoryVersion(
                version=_get(v, "version", int, vwhere),
                text=_text(v, vwhere),
                metadata=_get(v, "metadata", dict, vwhere),
                event_time=_time(v, "event_time", vwhere, optional=True),
                updated_at=_time(v, "updated_at", vwhere),
            )
        )
    if not history or history[-1].version != record.version or history[-1].text != record.text:
        raise InvalidInputError(
            f"{where}: history must end with the current version ({record.version}); export the store again"
        )
    if any(a.version >= b.version for a, b in pairwise(history)):
        raise InvalidInputError(f"{where}: history versions must increase; export the store again")
    return record, history
