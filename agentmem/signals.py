"""Per-candidate read signals: what the learned controller scores each candidate slot by.

A read gathers candidates (index top-K for each head's key, lexical top-K, and the temporal
neighbours of both) and describes each one by a few numbers, all computed from the store so a
trained controller can read any store, including one written by the cosine baseline:

    lexical    FTS5 BM25 of the query against the slot text (0 when no query word occurs), z-scored
               over the candidates: raw BM25 scales with query length and corpus statistics
    speaker    1 when the slot's `speaker` metadata (its first word) is named in the query
    recency    write-order rank among the candidates (0 oldest .. 1 newest)
    time       -log(1 + days between the slot's event time and the query time) / log(366), 0 if unknown
    usage      DNC usage of the slot (0..1)
    namespace  1 when the slot sits exactly in the queried namespace (not deeper)

Content similarity is not here: it depends on the read keys, which the controller learns.
`prev` / `next` give each candidate's temporal neighbour as a position in the candidate list
(-1 if the neighbour is not a candidate): the sparse link matrix, K = 1 link each way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agentmem.store import SlotRow

SIGNALS = ("lexical", "speaker", "recency", "time", "usage", "namespace")
_DAY = 86_400.0


@dataclass
class Candidates:
    """The candidate set of one read, aligned arrays over C candidates.

    slots (C,), keys (C, d) unit key vectors, features (C, F) in SIGNALS order, prev / next (C,)
    positions of the temporal neighbours within the candidates (-1 when absent).
    """

    slots: np.ndarray
    keys: np.ndarray
    features: np.ndarray
    prev: np.ndarray
    next: np.ndarray

    def __len__(self) -> int:
        return len(self.slots)


def describe(
    slots: Sequence[int],
    rows: dict[int, SlotRow],
    keys: np.ndarray,
    lexical: dict[int, float],
    *,
    query: str,
    namespace: tuple[str, ...] | None,
    query_time: float | None,
) -> Candidates:
    """Signals for the candidates `slots` (whose `rows` and key vectors `(C, d)` are given)."""
    n = len(slots)
    feats = np.zeros((n, len(SIGNALS)), dtype=np.float32)
    raw = np.array([lexical.get(s, 0.0) for s in slots], dtype=np.float64)
    spread = raw.std()
    feats[:, 0] = (raw - raw.mean()) / spread if spread > 0 else 0.0
    words = set(re.findall(r"\w+", query.lower()))
    order = np.argsort(np.argsort(np.asarray(slots)))  # write-order rank among the candidates
    pos = {s: i for i, s in enumerate(slots)}
    prev = np.full(n, -1, dtype=np.int64)
    nxt = np.full(n, -1, dtype=np.int64)
    for i, s in enumerate(slots):
        row = rows[s]
        speaker = str(row.metadata.get("speaker") or "").split()
        feats[i, 1] = float(bool(speaker) and speaker[0].lower() in words)
        feats[i, 2] = order[i] / (n - 1) if n > 1 else 1.0
        if query_time is not None and row.event_time is not None:
            days = abs(query_time - row.event_time) / _DAY
            feats[i, 3] = -math.log1p(days) / math.log(366.0)
        feats[i, 4] = row.usage
        feats[i, 5] = float(namespace is not None and row.namespace == namespace)
        prev[i] = pos.get(row.prev_slot, -1) if row.prev_slot is not None else -1
        nxt[i] = pos.get(row.next_slot, -1) if row.next_slot is not None else -1
    return Candidates(np.asarray(slots, dtype=np.int64), keys, feats, prev, nxt)
