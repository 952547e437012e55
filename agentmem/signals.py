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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentmem.store import ReadRow, ns_key

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


class CandidateBuilder:
    """The candidate set of one read: rows are collected as each source's arrive (a slot seen twice
    counts once), then described column by column when the set is built."""

    def __init__(self, *, query: str, namespace: tuple[str, ...] | None, query_time: float | None) -> None:
        self.words = set(re.findall(r"\w+", query.lower()))
        self.ns = None if namespace is None else ns_key(namespace)
        self.query_time = query_time
        self.rows: dict[int, ReadRow] = {}

    def __contains__(self, slot: object) -> bool:
        return slot in self.rows

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, rows: Iterable[ReadRow]) -> None:
        for r in rows:
            self.rows.setdefault(r.slot, r)

    def build(self, keys: Callable[[list[int]], np.ndarray], lexical: Mapping[int, float]) -> Candidates:
        """The Candidates, in slot (write) order; `keys(slots)` gives their key vectors `(C, d)`."""
        slots = sorted(self.rows)
        n = len(slots)
        feats = np.zeros((n, len(SIGNALS)), dtype=np.float32)
        if n == 0:
            empty = np.zeros(0, dtype=np.int64)
            return Candidates(empty, keys([]), feats, empty, empty)
        _, prev, nxt, event_time, usage, ns, speaker, head = zip(*(self.rows[s] for s in slots), strict=True)
        raw = np.array([lexical.get(s, 0.0) for s in slots], dtype=np.float64)
        feats[:, 0] = (raw - raw.mean()) / max(raw.std(), LEXICAL_SPREAD_FLOOR)
        # Turns share a handful of speakers: parse each distinct speaker value (or text head) once.
        said: dict[Any, bool] = {}
        for i, (value, text) in enumerate(zip(speaker, head, strict=True)):
            key = (value, None) if value else (None, text)  # with a `speaker` value, the text does not matter
            if key not in said:
                name = _speaker(value, text).split()
                said[key] = bool(name) and name[0] in self.words
            feats[i, 1] = said[key]
        feats[:, 2] = np.arange(n) / (n - 1) if n > 1 else 1.0  # write-order rank: slots are sorted
        if self.query_time is not None:
            when = np.array([np.nan if t is None else t for t in event_time], dtype=np.float64)
            days = np.abs(self.query_time - when) / _DAY
            feats[:, 3] = np.nan_to_num(-np.log1p(days) / math.log(366.0))  # 0 when the time is unknown
        feats[:, 4] = usage
        feats[:, 5] = [k == self.ns for k in ns]
        pos = {s: i for i, s in enumerate(slots)}
        prev_pos = np.array([pos.get(p, -1) for p in prev], dtype=np.int64)
        next_pos = np.array([pos.get(x, -1) for x in nxt], dtype=np.int64)
        return Candidates(np.asarray(slots, dtype=np.int64), keys(slots), feats, prev_pos, next_pos)


def speaker_of(text: str, metadata: Mapping[str, Any]) -> str:
    """The lower-cased `speaker` metadata, else a short "Name:" prefix of the text ("" when neither)."""
    return _speaker(metadata.get("speaker"), text)


def _speaker(value: Any, text: str) -> str:
    """speaker_of from the metadata's `speaker` value and the text (or its first 41 characters)."""
    if value:
        return str(value).lower()
    head, sep, _ = text.partition(":")
    return head.lower() if sep and 0 < len(head.split()) <= 3 and len(head) <= 40 else ""
