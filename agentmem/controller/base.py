"""The controller seam: between `Memory` and the policy that reads and writes slots.

`Memory` owns encoding, transactions, locking and bookkeeping (links in write order, usage growth
from read weights, history). A controller decides:
- at write time, for each incoming observation: a new slot, an update of an existing slot, or skip;
- at read time, which slots to return, with a score, a read weight and each signal's contribution.

It sees the memory only through a `storage.SlotReader` (dense and lexical top-K, neighbours, rows, key
vectors), so the cosine baseline (cosine.py) and the trained controller (learned.py) are
interchangeable behind it, and so is the backend under them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from agentmem.filters import Filter
from agentmem.storage.base import SlotReader


@dataclass(frozen=True)
class ReadQuery:
    """One read: the query text, its key `(d,)`, how many hits, and the visible part of memory (a
    namespace prefix, None for the whole store, and parsed filter conditions)."""

    text: str
    vector: np.ndarray
    k: int
    namespace: tuple[str, ...] | None = None
    filter: Filter = ()
    time: float | None = None


@dataclass(frozen=True)
class ReadHit:
    """A slot the controller returns: score, read weight, and signal contributions (sum = score)."""

    slot: int
    score: float
    weight: float
    why: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PendingWrite:
    """An observation about to be written; `vector` is None for memories stored with index=False."""

    text: str
    namespace: tuple[str, ...]
    metadata: Mapping[str, Any]
    event_time: float | None
    vector: np.ndarray | None


@dataclass(frozen=True)
class WriteDecision:
    """new: allocate a fresh slot; update: rewrite `slot` keeping its history; skip: write nothing
    and answer with `slot` (an existing memory that already holds the observation).

    Instead of `slot`, `pending` may name an earlier write of the same batch (its position), which
    gets its slot first: a batch can then state a fact and, later on, supersede it."""

    op: Literal["new", "update", "skip"]
    slot: int | None = None
    pending: int | None = None
    vector: np.ndarray | None = None  # the key an update stores, when not the observation's own


@runtime_checkable
class Controller(Protocol):
    """A read and write policy. `name` is what `Memory.stats` reports. A controller may also offer
    `explain(query, slots, memory) -> {slot: (rank, ReadHit)}`, the rank and parts of each of `slots`
    among what it would consider for the query (`Memory.explain`)."""

    name: str

    def read(self, queries: Sequence[ReadQuery], memory: SlotReader) -> list[list[ReadHit]]: ...

    def plan_writes(self, writes: Sequence[PendingWrite], memory: SlotReader) -> list[WriteDecision]: ...
