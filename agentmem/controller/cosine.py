"""The cosine baseline: content addressing by cosine alone, every observation a new slot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agentmem.controller.base import PendingWrite, ReadHit, ReadQuery, WriteDecision
from agentmem.storage.base import SlotReader

EXPLAIN_DEPTH = 1000  # how deep the baseline looks when asked why a memory ranks where it does


@dataclass
class CosineConfig:
    """strength: the read strength β that sharpens cosine scores into read weights."""

    strength: float = 10.0


class CosineController:
    """Content addressing over the dense index's candidates, with no learned part.

    Read weights follow NTM/DNC content addressing, w_i = softmax_i(β · cos(k, M_i)) (Graves et al.
    2014, eq. 5), taken over the top-k candidates the index proposes (Rae et al. 2016, sparse reads).
    """

    name = "cosine"

    def __init__(self, config: CosineConfig | None = None) -> None:
        self.config = config or CosineConfig()

    def read(self, queries: Sequence[ReadQuery], memory: SlotReader) -> list[list[ReadHit]]:
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
        self, query: ReadQuery, slots: Sequence[int], memory: SlotReader
    ) -> dict[int, tuple[int, ReadHit]]:
        """(rank, hit) of each of `slots` that is among the index's top-`EXPLAIN_DEPTH` for the query."""
        found = memory.search(query.vector, EXPLAIN_DEPTH, namespace=query.namespace, filter=query.filter)
        wanted = set(slots)
        return {
            s: (rank, ReadHit(slot=s, score=c, weight=float("nan"), why={"content": c}))
            for rank, (s, c) in enumerate(found, 1)
            if s in wanted
        }

    def plan_writes(self, writes: Sequence[PendingWrite], memory: SlotReader) -> list[WriteDecision]:
        return [WriteDecision("new") for _ in writes]
