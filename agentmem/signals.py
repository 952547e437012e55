"""Per-candidate read signals: what the learned controller scores each candidate slot by.

A read gathers candidates (index top-K for each head's key, lexical top-K, and the temporal
neighbours of both) and describes each one by a few numbers, all computed from the store so a
trained controller can read any store, including one written by the cosine baseline:

    lexical    BM25 of the query against the slot text (lexical.py; 0 outside the lexical top-K), z-scored
               over the candidates (spread floored at 0.5): raw BM25 scales with query and corpus
    speaker    1 when the slot's speaker (first word of its `speaker` metadata, else of a short "Name:"
               prefix of its text) is named in the query
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentmem.store import SlotRow

SIGNALS = ("lexical", "speaker", "recency", "time", "usage", "namespace")
_DAY = 86_400.0
# BM25 spreads below this are noise (a word every candidate shares, scored apart only by text length):
# z-scoring them would blow that noise up to whole standard deviations. 5% of locomo-dev's queries
# have a smaller spread.
LEXICAL_SPREAD_FLOOR = 0.5


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
    feats[:, 0] = (raw - raw.mean()) / max(raw.std(), LEXICAL_SPREAD_FLOOR)
    words = set(re.findall(r"\w+", query.lower()))
    got = [rows[s] for s in slots]
    heads = [speaker_of(r.text, r.metadata).split() for r in got]
    feats[:, 1] = [bool(h) and h[0] in words for h in heads]
    feats[:, 2] = np.argsort(np.argsort(np.asarray(slots))) / (n - 1) if n > 1 else 1.0  # write-order rank
    if query_time is not None:
        event = np.array([np.nan if r.event_time is None else r.event_time for r in got], dtype=np.float64)
        days = np.abs(query_time - event) / _DAY
        feats[:, 3] = np.nan_to_num(-np.log1p(days) / math.log(366.0), nan=0.0)
    feats[:, 4] = [r.usage for r in got]
    feats[:, 5] = [namespace is not None and r.namespace == namespace for r in got]
    pos = {s: i for i, s in enumerate(slots)}
    prev = np.array([pos.get(r.prev_slot, -1) for r in got], dtype=np.int64)
    nxt = np.array([pos.get(r.next_slot, -1) for r in got], dtype=np.int64)
    return Candidates(np.asarray(slots, dtype=np.int64), keys, feats, prev, nxt)


def speaker_of(text: str, metadata: Mapping[str, Any]) -> str:
    """The lower-cased `speaker` metadata, else a short "Name:" prefix of the text ("" when neither)."""
    if metadata.get("speaker"):
        return str(metadata["speaker"]).lower()
    head, sep, _ = text.partition(":")
    return head.lower() if sep and 0 < len(head.split()) <= 3 and len(head) <= 40 else ""
