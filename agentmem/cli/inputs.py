"""Parsing and validating what the CLI is given, before anything touches a store.

Every check here raises `InvalidInputError` with a one-line message naming the problem and the fix,
so `agentmem.cli.main` prints it as `error: ...`. Commands validate their whole input first and
write afterwards: a JSONL file with a bad line 57 writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from agentmem import validate
from agentmem.errors import EmptyTextError, InvalidInputError
from agentmem.notation import parse_event_time, parse_namespace
from agentmem.service import MAX_CALL_CHARS, MAX_CALL_TEXTS

Namespace = tuple[str, ...]
DEFAULT_NAMESPACE: Namespace = ("default",)
JSONL_KEYS = ("text", "namespace", "metadata", "event_time", "id")


@dataclass
class Item:
    """One memory to write, fully validated."""

    text: str
    namespace: Namespace = DEFAULT_NAMESPACE
    metadata: dict[str, Any] = field(default_factory=dict)
    event_time: datetime | None = None
    id: str | None = None


def parse_json_object(value: str, *, where: str) -> dict[str, Any]:
    """A JSON object given on the command line (`--metadata`, `--filter`), checked as the API's
    metadata is."""
    if not value.strip():
        raise InvalidInputError(f"{where} is empty; give a JSON object like '{{\"source\": \"chat\"}}'")
    try:
        obj = json.loads(value)
    except json.JSONDecodeError as e:
        raise InvalidInputError(
            f"{where} is not valid JSON ({e.msg} at column {e.colno}); quote it for the shell, "
            f'e.g. {where} \'{{"source": "chat"}}\''
        ) from None
    except RecursionError:
        raise InvalidInputError(f"{where} nests too deeply to read; flatten it") from None
    if not isinstance(obj, dict):
        raise InvalidInputError(f'{where} must be a JSON object like \'{{"source": "chat"}}\', got {value!r}')
    return validate.metadata(obj, where)


def check_text(text: str, *, where: str, fix: str = "give the text to remember") -> str:
    """Refuse empty or whitespace-only text, text that is not valid Unicode (undecodable bytes in argv
    arrive as lone surrogates) and text over the length limit."""
    if not text.strip():
        raise EmptyTextError(f"{where} is empty or only whitespace; {fix}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(f"{where} is not valid UTF-8; pass UTF-8 text") from None
    return validate.text(text, where)


def check_id(value: str, *, where: str = "the id") -> str:
    """A memory id from the command line, checked as the API checks it."""
    try:
        return validate.identifier(value, where)
    except InvalidInputError as e:
        raise InvalidInputError(f"{e}; find ids with `agentmem inspect`") from None


def decode_utf8(data: bytes, *, source: str) -> str:
    """Strictly decode bytes (a leading BOM is allowed); say where the first bad byte is."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InvalidInputError(
            f"{source} is not valid UTF-8 (byte 0x{data[e.start]:02x} on line {line}); "
            "convert it first, e.g. iconv -f latin1 -t utf-8"
        ) from None


def texts_from_args(texts: tuple[str, ...], *, template: Item) -> list[Item]:
    """Text arguments -> items sharing the namespace, metadata and event time of `template`."""
    return [
        Item(
            check_text(t, where=f"text argument {i}"),
            template.namespace,
            dict(template.metadata),
            template.event_time,
        )
        for i, t in enumerate(texts, 1)
    ]


def texts_from_stdin(data: bytes, *, whole: bool, template: Item) -> list[Item]:
    """stdin -> one item per non-blank line, or one item for all of it when `whole`."""
    text = decode_utf8(data, source="stdin")
    if whole:
        chunks = [text.rstrip("\r\n")] if text.strip() else []
    else:
        chunks = [line for line in text.splitlines() if line.strip()]
    if not chunks:
        raise EmptyTextError(
            "stdin holds no text; pipe some in, e.g. echo 'Alice moved to Lisbon' | agentmem add"
        )
    return [Item(c, template.namespace, dict(template.metadata), template.event_time) for c in chunks]


def items_from_jsonl(data: bytes, *, source: str, template: Item) -> list[Item]:
    """Each non-blank line: {"text", "namespace"?, "metadata"?, "event_time"?, "id"?}.

    Keys a line lacks come from the command-line options (`template`). Duplicate ids are refused
    because the second would silently overwrite the first.
    """
    items: list[Item] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(decode_utf8(data, source=source).splitlines(), 1):
        if not line.strip():
            continue
        where = f"{source} line {n}"
        try:
            obj = json.loads(line)
        except RecursionError:
            raise InvalidInputError(f"{where} nests too deeply to read; flatten it") from None
        except json.JSONDecodeError as e:
            raise InvalidInputError(
                f"{where} is not valid JSON ({e.msg} at column {e.colno}); "
                'each line must be one object like {"text": "..."}'
            ) from None
        if not isinstance(obj, dict):
            raise InvalidInputError(f'{where} must be a JSON object like {{"text": "..."}}')
        unknown = sorted(set(obj) - set(JSONL_KEYS))
        if unknown:
            raise InvalidInputError(
                f"{where} has unknown key {unknown[0]!r}; allowed: {', '.join(JSONL_KEYS)}"
            )
        text = obj.get("text")
        if not isinstance(text, str):
            raise InvalidInputError(f'{where} needs a "text" string')
        metadata = obj.get("metadata", template.metadata)
        if not isinstance(metadata, dict):
            raise InvalidInputError(f'{where}: "metadata" must be a JSON object')
        validate.metadata(metadata, f'{where} "metadata"')
        id_ = obj.get("id")
        if id_ is not None:
            if not isinstance(id_, str) or not id_.strip():
                raise InvalidInputError(f'{where}: "id" must be a non-empty string')
            check_id(id_, where=f'{where} "id"')
            if id_ in seen:
                raise InvalidInputError(
                    f"{where} repeats id {id_!r} from line {seen[id_]}; ids must be unique"
                )
            seen[id_] = n
        items.append(
            Item(
                text=check_text(text, where=f'{where} "text"'),
                namespace=parse_namespace(obj["namespace"], where=where)
                if "namespace" in obj
                else template.namespace,
                metadata=dict(metadata),
                event_time=parse_event_time(obj["event_time"], where=where)
                if "event_time" in obj
                else template.event_time,
                id=id_,
            )
        )
    if not items:
        raise EmptyTextError(
            f'{source} holds no lines; write one JSON object per line like {{"text": "..."}}'
        )
    return items


def batches(items: list[Item], size: int, max_chars: int = MAX_CALL_CHARS) -> list[list[Item]]:
    """Consecutive runs that one `Memory.remember` call can take: same namespace, ids all given or none,
    at most `size` texts and (past its first text) `max_chars` characters, what a server takes per call."""
    out: list[list[Item]] = []
    chars = 0
    for item in items:
        last = out[-1] if out else None
        if (
            last is not None
            and len(last) < min(size, MAX_CALL_TEXTS)
            and chars + len(item.text) <= max_chars
            and last[0].namespace == item.namespace
            and (last[0].id is None) == (item.id is None)
        ):
            last.append(item)
            chars += len(item.text)
        else:
            out.append([item])
            chars = len(item.text)
    return out


def read_bytes(path: str) -> bytes:
    """Read a file given on the command line, with a one-line error if it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise InvalidInputError(f"cannot read {path}: {e.strerror}; check the path") from None
    except ValueError as e:  # a NUL byte in the path, which no file name can hold
        raise InvalidInputError(f"cannot read {path!r}: {e}; check the path") from None
