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
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langgraph.store.base import Item, SearchItem, get_text_at_path, tokenize_path

from agentmem.records import MemoryRecord

# Fixed, so ids are the same in every process and every version of this package.
_ID_SPACE = uuid.UUID("6f1c2f55-0a43-4a53-9a8e-2d6c1c1e7a11")

KEY = "__lg_key__"  # the item's key
ROLE = "__lg_role__"  # "item" or "facet"
FACETS = "__lg_facets__"  # on an item record: the ids of its facets
RESERVED = frozenset({KEY, ROLE, FACETS})

ITEM, FACET = "item", "facet"
ITEMS_ONLY = {ROLE: ITEM}  # metadata filter: one record per item (listing, counting)
STORE_RECORDS = {ROLE: {"$in": [ITEM, FACET]}}  # metadata filter: what this store wrote


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
    """(path label, text) for each non-blank text at the paths, as LangGraph labels them.

    A path that yields several texts (a `[*]` path, a list) labels them `path.0`, `path.1`, ...
    """
    out: list[tuple[str, str]] = []
    for path, parsed in paths:
        texts = get_text_at_path(value, parsed)
        labels = [f"{path}.{i}" for i in range(len(texts))] if len(texts) > 1 else [path] * len(texts)
        out += [(label, text) for label, text in zip(labels, texts, strict=True) if text.strip()]
    return out


@dataclass(frozen=True)
class PlannedMemory:
    """One memory to write for a put: id, text, metadata, and whether its text is embedded."""

    id: str
    text: str
    metadata: dict[str, Any]
    indexed: bool


def plan_item(
    namespace: tuple[str, ...], key: str, value: Mapping[str, Any], texts: Sequence[tuple[str, str]]
) -> list[PlannedMemory]:
    """The item record (first) and its facets for a put of `value` with these embedded texts."""
    clash = RESERVED.intersection(value)
    if clash:
        raise ValueError(f"item value uses reserved key(s) {sorted(clash)}; rename them")
    parent = item_id(namespace, key)
    facets = [
        PlannedMemory(facet_id(parent, path), text, {**value, KEY: key, ROLE: FACET}, True)
        for path, text in texts[1:]
    ]
    meta = {**value, KEY: key, ROLE: ITEM, FACETS: [f.id for f in facets]}
    if texts:
        head = PlannedMemory(parent, texts[0][1], meta, True)
    else:
        head = PlannedMemory(parent, json.dumps(value, sort_keys=True, ensure_ascii=False), meta, False)
    return [head, *facets]


def value_of(record: MemoryRecord) -> dict[str, Any]:
    """The item value a record holds (its metadata without the reserved keys)."""
    return {k: v for k, v in record.metadata.items() if k not in RESERVED}


def facets_of(record: MemoryRecord) -> list[str]:
    return list(record.metadata.get(FACETS, ()))


def parent_of(record: MemoryRecord) -> str:
    """The item record id a record belongs to (itself for an item record)."""
    if record.metadata.get(ROLE) == FACET:
        return item_id(record.namespace, record.metadata[KEY])
    return record.id


def to_item(record: MemoryRecord) -> Item:
    return Item(
        value=value_of(record),
        key=record.metadata[KEY],
        namespace=record.namespace,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def to_search_item(record: MemoryRecord, score: float | None) -> SearchItem:
    return SearchItem(
        namespace=record.namespace,
        key=record.metadata[KEY],
        value=value_of(record),
        created_at=record.created_at,
        updated_at=record.updated_at,
        score=score,
    )
