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
    """The candidate set of one read. Rows are collected as each source's arrive (a slot seen twice
    counts once) and described column by column, in batches: `describe` does the rows so far (a read
    describes its lexical candidates while the index scan runs), `build` the rest, then the columns
    that depend on the whole set."""

    def __init__(
        self,
        *,
        query: str,
        namespace: tuple[str, ...] | None,
        query_time: float | None,
        keys: Callable[[list[int]], np.ndarray],
    ) -> None:
        """keys(slots) gives the key vectors `(len(slots), d)` of slots."""
        self.words = set(re.findall(r"\w+", query.lower()))
        self.ns = None if namespace is None else ns_key(namespace)
        self.query_time = query_time
        self.keys = keys
        self.rows: dict[int, ReadRow] = {}
        self._said: dict[Any, bool] = {}  # speaker value (or text head) -> named in the query
        # described batches: slots (n,), own features (n, F), links (2, n) (prev, next; -1: none), keys (n, d)
        self._batches: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._described = 0  # rows (in arrival order) described so far

    def __contains__(self, slot: object) -> bool:
        return slot in self.rows

    def __len__(self) -> int:
        return len(self.rows)

    def linked(self, slots: Iterable[int]) -> list[int]:
        """The temporal neighbours (previous and next) of those of `slots` already collected."""
        rows = [self.rows[s] for s in slots if s in self.rows]
        return [n for r in rows for n in (r.prev_slot, r.next_slot) if n is not None]

    def add(self, rows: Iterable[ReadRow]) -> None:
        for r in rows:
            self.rows.setdefault(r.slot, r)

    def describe(self) -> None:
        """Work out the signals of each row that depend on it alone (speaker, time, usage, namespace),
        its links and its key, for the rows added since the last call."""
        slots = list(self.rows)[self._described :]
        self._described = len(self.rows)
        if not slots:
            return
        _, prev, nxt, event_time, usage, ns, speaker, head = zip(*(self.rows[s] for s in slots), strict=True)
        feats = np.zeros((len(slots), len(SIGNALS)), dtype=np.float32)
        # Turns share a handful of speakers: parse each distinct speaker value (or text head) once; with
        # a `speaker` value, the text does not matter.
        who = [(value, None) if value else (None, text) for value, text in zip(speaker, head, strict=True)]
        for key in set(who).difference(self._said):
            name = _speaker(*key).split()
            self._said[key] = bool(name) and name[0] in self.words
        feats[:, 1] = [self._said[key] for key in who]
        if self.query_time is not None:
            days = np.abs(self.query_time - np.array(event_time, dtype=np.float64)) / _DAY  # None: nan
            feats[:, 3] = np.nan_to_num(-np.log1p(days) / math.log(366.0))  # 0 when the time is unknown
        feats[:, 4] = usage
        feats[:, 5] = [k == self.ns for k in ns]
        links = np.nan_to_num(np.array([prev, nxt], dtype=np.float64), nan=-1).astype(np.int64)  # (2, n)
        self._batches.append((np.array(slots, dtype=np.int64), feats, links, self.keys(slots)))

    def build(self, lexical: Mapping[int, float]) -> Candidates:
        """The Candidates, in slot (write) order; `lexical` maps slots to their BM25 (0 when absent)."""
        self.describe()
        if not self.rows:
            empty = np.zeros(0, dtype=np.int64)
            return Candidates(empty, self.keys([]), np.zeros((0, len(SIGNALS)), np.float32), empty, empty)
        slots, feats, keys = (np.concatenate([batch[i] for batch in self._batches]) for i in (0, 1, 3))
        links = np.concatenate([batch[2] for batch in self._batches], axis=1)
        order = np.argsort(slots)
        slots, feats, links, keys = slots[order], feats[order], links[:, order], keys[order]
        n = len(slots)
        raw = np.zeros(n)
        if lexical:
            at, found = _positions(slots, np.fromiter(lexical, dtype=np.int64, count=len(lexical)))
            raw[at[found]] = np.fromiter(lexical.values(), dtype=np.float64, count=len(lexical))[found]
        feats[:, 0] = (raw - raw.mean()) / max(raw.std(), LEXICAL_SPREAD_FLOOR)
        feats[:, 2] = np.arange(n) / (n - 1) if n > 1 else 1.0  # write-order rank: slots are sorted
        at, found = _positions(slots, links)
        prev, nxt = np.where(found, at, -1)
        return Candidates(slots, keys, feats, prev, nxt)


def _positions(sorted_slots: np.ndarray, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of `slots` sits in `sorted_slots`, and whether it is there at all."""
    at = np.minimum(np.searchsorted(sorted_slots, slots), len(sorted_slots) - 1)
    return at, sorted_slots[at] == slots


def speaker_of(text: str, metadata: Mapping[str, Any]) -> str:
    """The lower-cased `speaker` metadata, else a short "Name:" prefix of the text ("" when neither)."""
    return _speaker(metadata.get("speaker"), text)


def _speaker(value: Any, text: str) -> str:
    """speaker_of from the metadata's `speaker` value and the text (or its first 41 characters)."""
    if value:
        return str(value).lower()
    head, sep, _ = text.partition(":")
    return head.lower() if sep and 0 < len(head.split()) <= 3 and len(head) <= 40 else ""
