"""How a LangGraph item (namespace, key, value) lives in agentmem as memories.

An item is one memory, its *item record*, with a deterministic id derived from (namespace, key), so a
second put of the same key updates that memory (agentmem keeps the old version in its history) and
any process finds it again without a lookup table. The item's value is the record's metadata, so
LangGraph filters run as agentmem metadata filters, plus reserved keys saying which item it is.

LangGraph embeds each text found at the index paths as its own vector and scores an item by its
best one. agentmem holds one vector per memory, so the first text is the item record's text and
every further text is a *facet*: a memory of its own in the same namespace with the same metadata,
pointing back at the item. A search ranks memories and keeps each item's best-scoring one. An item
with nothing to embed keeps its value as JSON text and is stored with `index=False`.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langgraph.store.base import Item, SearchItem, get_text_at_path, tokenize_path

from agentmem.records import MemoryRecord
from agentmem.validate import MAX_TEXT_CHARS

# Fixed, so ids are the same in every process and every version of this package.
_ID_SPACE = uuid.UUID("6f1c2f55-0a43-4a53-9a8e-2d6c1c1e7a11")

KEY = "__lg_key__"  # the item's key
ROLE = "__lg_role__"  # "item" or "facet"
FACETS = "__lg_facets__"  # on an item record: the ids of its facets
ZERO = "__lg_zero__"  # on a memory whose text embeds to the zero vector (stored unindexed, scored 0.0)
RESERVED = frozenset({KEY, ROLE, FACETS, ZERO})

ITEM, FACET = "item", "facet"
ITEMS_ONLY = {ROLE: ITEM}  # metadata filter: one record per item (listing, counting)
STORE_RECORDS = {ROLE: {"$in": [ITEM, FACET]}}  # metadata filter: what this store wrote


# Characters an agentmem namespace segment cannot hold (controls, lone surrogates), and "%", the
# escape itself: each is written "%XX" (or "%uXXXX" for a surrogate), so every LangGraph label has a
# segment that reads back as the same label.
_UNSTORABLE = re.compile(r"[%\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_ESCAPED = re.compile(r"%u([0-9A-F]{4})|%([0-9A-F]{2})")


def to_segment(label: str) -> str:
    """A LangGraph namespace label (or item key) as agentmem stores it."""
    return _UNSTORABLE.sub(lambda m: f"%{ord(m.group()):02X}" if ord(m.group()) < 0x100 else f"%u{ord(m.group()):04X}", label)


def from_segment(segment: str) -> str:
    """`to_segment` undone."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), segment)


def to_namespace(namespace: Sequence[str]) -> tuple[str, ...]:
    return tuple(to_segment(label) for label in namespace)


def from_namespace(namespace: Sequence[str]) -> tuple[str, ...]:
    return tuple(from_segment(segment) for segment in namespace)


def item_id(namespace: Sequence[str], key: str) -> str:
    """The memory id of the item at (namespace, key): stable across processes."""
    return str(uuid.uuid5(_ID_SPACE, json.dumps([list(namespace), key])))


def facet_id(parent: str, path: str) -> str:
    """The memory id of the facet embedding `path` (e.g. "tags.2") of item `parent`."""
    return str(uuid.uuid5(_ID_SPACE, f"{parent}#{path}"))


def tokenized(fields: Sequence[str]) -> list[tuple[str, Any]]:
    """Index paths paired with their parsed form ("$" stands for the whole value)."""
    return [(p, p if p == "$" else tokenize_path(p)) for p in fields]


def texts_to_embed(value: Mapping[str, Any], paths: Sequence[tuple[str, Any]]) -> list[tuple[str, str]]:
    """(path label, text) for each text at the paths, as LangGraph labels them. A blank text is
    embedded too, as InMemoryStore embeds it (its item is scored, not left unscored).

    A path that yields several texts (a `[*]` path, a list) labels them `path.0`, `path.1`, ...
    """
    out: list[tuple[str, str]] = []
    for path, parsed in paths:
        texts = get_text_at_path(value, parsed)
        labels = [f"{path}.{i}" for i in range(len(texts))] if len(texts) > 1 else [path] * len(texts)
        out += list(zip(labels, texts, strict=True))
    return out


@dataclass(frozen=True)
class PlannedMemory:
    """One memory to write for a put: id, text, metadata, whether its text is embedded, and the text
    the embeddings are given (the item's own text; `text` is it as agentmem can store it)."""

    id: str
    text: str
    metadata: dict[str, Any]
    indexed: bool
    source: str = ""


def plan_item(
    namespace: tuple[str, ...], key: str, value: Mapping[str, Any], texts: Sequence[tuple[str, str]]
) -> list[PlannedMemory]:
    """The item record (first) and its facets for a put of `value` with these embedded texts."""
    clash = RESERVED.intersection(value)
    if clash:
        raise ValueError(f"item value uses reserved key(s) {sorted(clash)}; rename them")
    parent = item_id(namespace, key)
    # A memory's text is what is searched; the whole value is its metadata. Past agentmem's limit on
    # one text, only the start of a long text is searched (an encoder reads only its start anyway).
    stored_key = to_segment(key)
    stored = encoded(value)
    facets = [
        PlannedMemory(
            facet_id(parent, path),
            searchable(text[:MAX_TEXT_CHARS]),
            {**stored, KEY: stored_key, ROLE: FACET},
            True,
            text[:MAX_TEXT_CHARS],
        )
        for path, text in texts[1:]
    ]
    meta = {**stored, KEY: stored_key, ROLE: ITEM, FACETS: [f.id for f in facets]}
    if texts:
        text = texts[0][1][:MAX_TEXT_CHARS]
        head = PlannedMemory(parent, searchable(text), meta, True, text)
    else:
        dumped = searchable(json.dumps(value, sort_keys=True, ensure_ascii=False)[:MAX_TEXT_CHARS])
        head = PlannedMemory(parent, dumped, meta, False, dumped)
    return [head, *facets]


_INT64 = 2**63


def storable(value: Any) -> Any:
    """A put value as the store gives it back. As LangGraph's persistent stores (SqliteStore,
    PostgresStore) keep values, tuples and sets become lists and non-string keys strings; what JSON
    cannot hold (NaN and infinity, integers past 64 bits, bytes, dates, any other object) is kept as
    its string form. Strings are kept exactly, lone surrogates included (`encoded` stores them)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {storable(k if isinstance(k, str) else str(k)): storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [storable(v) for v in items]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return storable(str(value))


# agentmem stores UTF-8 without NUL, so no lone surrogate and no NUL character. A string holding
# one, or starting with the marker (U+FDD0, a noncharacter no text needs), is stored as the marker
# followed by the string with "%" and each of them escaped as `to_segment` escapes them; every other
# string is stored as it is, so ordinary values, and the filters SQL applies to them, are untouched.
# Decoding is the inverse, so strings differing by a lone surrogate or a NUL stay different.
_MARK = "\ufdd0"
_UNSTORED = re.compile("[\x00\ud800-\udfff]")
_STORED_ESCAPES = re.compile("[%\x00\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    char = m.group()
    return f"%{ord(char):02X}" if char in "%\x00" else f"%u{ord(char):04X}"


def encoded_text(text: str) -> str:
    """A string as agentmem's metadata holds it (see `_MARK`)."""
    if not text.startswith(_MARK) and not _UNSTORED.search(text):
        return text
    return _MARK + _STORED_ESCAPES.sub(_escape, text)


def decoded_text(text: str) -> str:
    """`encoded_text` undone."""
    return from_segment(text[1:]) if text.startswith(_MARK) else text


def encoded(value: Any) -> Any:
    """A `storable` value with every string (keys too) as agentmem's metadata holds it."""
    return _strings(value, encoded_text)


def decoded(value: Any) -> Any:
    """`encoded` undone."""
    return _strings(value, decoded_text)


def _strings(value: Any, f: Callable[[str], str]) -> Any:
    """`value` with `f` applied to every string in it, dict keys included."""
    if isinstance(value, str):
        return f(value)
    if isinstance(value, dict):
        return {f(k): _strings(v, f) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v, f) for v in value]
    return value


def searchable(text: str) -> str:
    """A text agentmem can store and search: a lone surrogate or a NUL becomes U+FFFD (the value keeps
    it), and a blank text, which agentmem refuses, is written as its JSON string ('""', '"  "')."""
    return _UNSTORED.sub("\ufffd", text) if text.strip() else json.dumps(text)


def value_of(record: MemoryRecord) -> dict[str, Any]:
    """The item value a record holds (its metadata without the reserved keys)."""
    return decoded({k: v for k, v in record.metadata.items() if k not in RESERVED})


def facets_of(record: MemoryRecord) -> list[str]:
    return list(record.metadata.get(FACETS, ()))


def parent_of(record: MemoryRecord) -> str:
    """The item record id a record belongs to (itself for an item record)."""
    if record.metadata.get(ROLE) == FACET:
        return item_id(from_namespace(record.namespace), from_segment(record.metadata[KEY]))
    return record.id


def to_item(record: MemoryRecord) -> Item:
    return Item(
        value=value_of(record),
        key=from_segment(record.metadata[KEY]),
        namespace=from_namespace(record.namespace),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def to_search_item(record: MemoryRecord, score: float | None) -> SearchItem:
    return SearchItem(
        namespace=from_namespace(record.namespace),
        key=from_segment(record.metadata[KEY]),
        value=value_of(record),
        created_at=record.created_at,
        updated_at=record.updated_at,
        score=score,
    )
