"""The controller interface: the seam between `Memory` and the policy that reads and writes slots.

`Memory` owns encoding, transactions, locking and bookkeeping (links in write order, usage growth
from read weights, history). A controller decides:
- at write time, for each incoming observation: a new slot, an update of an existing slot, or skip;
- at read time, which slots to return, with a score, a read weight and each signal's contribution.

It sees the memory only through `SlotAccess` (index top-K, slot rows, key vectors), so the
non-learned `CosineController` here and a trained controller are interchangeable behind it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from agentmem.errors import InvalidInputError
from agentmem.read_columns import ReadBatch
from agentmem.store import SlotRow


@dataclass(frozen=True)
class ReadQuery:
    """One read: the query text, its key `(d,)`, how many hits, and the visible part of memory."""

    text: str
    vector: np.ndarray
    k: int
    namespace: tuple[str, ...] | None = None
    filter: Mapping[str, Any] | None = None
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


class SlotAccess(Protocol):
    """What a controller may see of the memory."""

    dim: int

    def search(
        self,
        vector: np.ndarray,
        k: int,
        *,
        namespace: tuple[str, ...] | None,
        filter: Mapping[str, Any] | None,
    ) -> list[tuple[int, float]]:
        """Top-k visible slots by inner product with `vector (d,)`: [(slot, cosine)], best first."""
        ...

    def search_many(
        self,
        vectors: np.ndarray,
        k: int,
        *,
        namespace: tuple[str, ...] | None,
        filter: Mapping[str, Any] | None,
    ) -> list[list[tuple[int, float]]]:
        """`search` for each row of `vectors (n, d)` in one index call."""
        ...

    def lexical(
        self,
        text: str,
        k: int,
        *,
        namespace: tuple[str, ...] | None,
        filter: Mapping[str, Any] | None = None,
    ) -> list[tuple[int, float]]:
        """BM25 top-k visible slots for `text`: [(slot, score)], best first."""
        ...

    def naming(self, text: str) -> np.ndarray:
        """The slots (sorted) of memories that name someone `text` names by full name (lexical.name_phrases)."""
        ...

    def neighbourhood(
        self,
        slots: Sequence[int],
        strong: Sequence[int],
        *,
        namespace: tuple[str, ...] | None,
        filter: Mapping[str, Any] | None,
        visible: bool = True,
    ) -> ReadBatch:
        """The read rows of `slots` and of the temporal neighbours of `strong`, in one lookup;
        with `visible`, only those a read under this namespace prefix and filter may return (indexed
        and unexpired)."""
        ...

    def rows(self, slots: Sequence[int]) -> dict[int, SlotRow]:
        """The stored rows of those of `slots` that exist. The records a read returns are made from them
        through the same window: rows fetched during a call are not fetched again."""
        ...

    def vectors(self, slots: Sequence[int]) -> np.ndarray:
        """Key vectors `(len(slots), d)`."""
        ...


@runtime_checkable
class Controller(Protocol):
    name: str

    def read(self, queries: Sequence[ReadQuery], memory: SlotAccess) -> list[list[ReadHit]]: ...

    def plan_writes(self, writes: Sequence[PendingWrite], memory: SlotAccess) -> list[WriteDecision]: ...


EXPLAIN_DEPTH = 1000  # how deep the cosine baseline looks when asked why a memory ranks where it does


@dataclass
class CosineConfig:
    """strength: the read strength β that sharpens cosine scores into read weights."""

    strength: float = 10.0


class CosineController:
    """The non-learned baseline: content addressing by cosine, every observation a new slot.

    Read weights follow NTM/DNC content addressing, w_i = softmax_i(β · cos(k, M_i)) (Graves et al.
    2014, eq. 5), taken over the top-k candidates the index proposes (Rae et al. 2016, sparse reads).
    """

    name = "cosine"

    def __init__(self, config: CosineConfig | None = None) -> None:
        self.config = config or CosineConfig()

    def read(self, queries: Sequence[ReadQuery], memory: SlotAccess) -> list[list[ReadHit]]:
        out = []
        for q in queries:
            found = memory.search(q.vector, q.k, namespace=q.namespace, filter=q.filter)
            if not found:
                out.append([])
                continue
            cos = np.array([c for _, c in found], dtype=np.float64)
            z = self.config.strength * cos
            w = np.exp(z - z.max())
            w /= w.sum()
            out.append(
                [
                    ReadHit(slot=s, score=float(c), weight=float(wi), why={"content": float(c)})
                    for (s, c), wi in zip(found, w, strict=True)
                ]
            )
        return out

    def explain(
        self, query: ReadQuery, slots: Sequence[int], memory: SlotAccess
    ) -> dict[int, tuple[int, ReadHit]]:
        """(rank, hit) of each of `slots` that is among the index's top-`EXPLAIN_DEPTH` for the query."""
        found = memory.search(query.vector, EXPLAIN_DEPTH, namespace=query.namespace, filter=query.filter)
        wanted = set(slots)
        return {
            s: (rank, ReadHit(slot=s, score=c, weight=float("nan"), why={"content": c}))
            for rank, (s, c) in enumerate(found, 1)
            if s in wanted
        }

    def plan_writes(self, writes: Sequence[PendingWrite], memory: SlotAccess) -> list[WriteDecision]:
        return [WriteDecision("new") for _ in writes]


DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "controller.safetensors"


def resolve_controller(spec: Any) -> Controller:
    """Build a controller: "learned" (or None) -> the packaged trained MemoryController; "cosine" ->
    CosineController; a checkpoint path -> the MemoryController it holds; a Controller -> itself."""
    if spec is None or spec == "learned":
        if not DEFAULT_CHECKPOINT.is_file():
            raise InvalidInputError(
                f"the packaged controller checkpoint {DEFAULT_CHECKPOINT} is missing; reinstall agentmem, "
                "or pass controller='cosine' (or a checkpoint from `agentmem train controller`)"
            )
        spec = DEFAULT_CHECKPOINT
    if spec == "cosine":
        return CosineController()
    if isinstance(spec, Controller):
        return spec
    if isinstance(spec, (str, Path)) and Path(spec).is_file():
        from agentmem.memory_controller import MemoryController

        return MemoryController.load(spec)
    raise InvalidInputError(
        f"unknown controller {spec!r}; use 'learned', 'cosine', a checkpoint path from "
        "`agentmem train controller`, or a Controller instance"
    )
