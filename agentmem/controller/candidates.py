"""Candidate gathering (SAM's sparse read) and the signals each candidate is described by.

A read touches a few hundred slots, not all N: `gather` asks the backend for the dense top-K of the
query key, the lexical top-K of the query text, and the temporal neighbours (DNC links, one each way) of
the best few of each, then describes each candidate by a few numbers, all computed from the store so a
trained controller can read any store, including one written by the cosine baseline:

    lexical    BM25 of the query against the slot text (lexical.py; 0 outside the lexical top-K), z-scored
               over the candidates (spread floored at 0.5): raw BM25 scales with query and corpus
    speaker    1 when the slot's speaker (first word of its `speaker` metadata, else of a short "Name:"
               prefix of its text) is named in the query, or the slot names by full name someone the
               query names: who a memory is about is its speaker in a chat ("Mira: I moved to Lisbon"),
               and whom it names in an agent's log ("user: Mira Kim moved to Lisbon")
    recency    write-order rank among the candidates (0 oldest .. 1 newest), when the query asks about the
               present ("now", "current", "still", ...; `CURRENT`), else 0
    time       -log(1 + days between the slot's event time and the query time) / log(366), 0 if unknown;
               also only when the query asks about the present: newer is better for "where does she
               live now?", and says nothing about "which flight did I book to Bologna?"
    usage      DNC usage of the slot (0..1)
    namespace  1 when the slot sits exactly in the queried namespace (not deeper)
    when       how well the slot's times fall in the stretch of time the query names ("last week", "in
               May 2023": time_expressions.py): 1 inside it, exp(-days outside / 7) near it, 0 when the
               query names no time or the slot has none. A slot's times are its event time and the
               stretch its text names (time_expressions.named_time: "Booked the flight for 9 January",
               "we went hiking yesterday"); the nearer of the two counts. Two stretches that share no day
               are a day apart at least: from the last day of one to the first of the other
    length     log(1 + characters of the slot's text) / log(201), at most 1: how much the memory says. Of
               two turns that match a query alike, the one that says more more often holds the answer
               ("I finally adopted a beagle from the shelter on Saturday" against "Oh nice, a dog!");
               standardised BM25 leans the other way, discounting a long text's matches (its b). Past
               a sentence or two more text says nothing more: an assistant's page of advice is no likelier
               to hold what the user asks about than the user's own message of two sentences

Content similarity is not here: it depends on the read keys, which the controller learns.
A read is also described as a whole, by the query's `QUERY_FEATURES` (`query_features`): what kind of
question it is, from which the scorer chooses how much each signal counts (its read modes).

Besides the signals, each candidate carries what relates candidates to each other, for the scorer's
links, session pooling and attention: its event time, a speaker code, a session code, and whether it
asks something (text.has_question: the memory after a question may hold its answer). A session is
a run of candidates whose event times lie within `SESSION_GAP` of each other (a chat's sitting; in
LoCoMo-style data every turn of a session shares the session's date); a candidate of unknown time is
a session of its own.
`prev` / `next` give each candidate's temporal neighbour as a position in the candidate list
(-1 if the neighbour is not a candidate): the sparse link matrix, K = 1 link each way. When the query
names someone and a candidate names them, the links are cut.

The lexical half of a read (its search, its candidates' rows, the memories naming whom the query
names) runs on a worker thread while the reading thread scans the dense index: FAISS and SQLite release
the GIL, so on two cores the two overlap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import wait
from dataclasses import dataclass

import numpy as np

from agentmem.controller.base import ReadQuery
from agentmem.cpu import in_background
from agentmem.storage.base import ReadBatch, SlotReader, ns_key
from agentmem.text import MACHINES, STOPWORDS, asks_for_reply, capitalised, name_phrases, refers_to
from agentmem.time_expressions import window

SIGNALS = ("lexical", "speaker", "recency", "time", "usage", "namespace", "when", "length")
_DAY = 86_400.0
# The question words that say what kind of answer a query wants, then: whether it names a speaker,
# names a time, asks about the present state of something, and a constant.
QUESTION_WORDS = ("when", "where", "who", "what", "which", "how", "why")
CURRENT = frozenset(("now", "current", "currently", "latest", "still", "anymore", "recently", "nowadays"))
QUERY_FEATURES = (*QUESTION_WORDS, "names_speaker", "names_time", "current", "bias")
# Event times further apart than this start a new session: people pause for minutes inside a sitting
# and for hours or days between sittings.
SESSION_GAP = 3 * 3600.0
# BM25 spreads below this are noise (a word every candidate shares, scored apart only by text length):
# z-scoring them would blow that noise up to whole standard deviations.
LEXICAL_SPREAD_FLOOR = 0.5
# A text of this many characters or more has length signal 1: a chat turn of a sentence or two.
LENGTH_SCALE = 200


@dataclass
class CandidateConfig:
    """dense_k / lexical_k: candidates from the dense index / from the lexical index; neighbours: the
    temporal neighbours of the best this-many dense candidates and lexical candidates join the
    candidates (0: none; the DNC's links, kept sparse); naming: memories naming someone the query names
    by full name count as the query's speaker, and cut the links (`CandidateBuilder.build`); replies: a
    query asking what the machine said or for advice (`text.asks_for_reply`: "what did you suggest
    ...?", "the tips for ...") flags no candidate as a machine's (`Candidates.machine`), so the links
    weigh its replies as any reply."""

    dense_k: int = 32
    lexical_k: int = 48
    neighbours: int = 24
    naming: bool = True
    replies: bool = True


@dataclass
class Candidates:
    """The candidate set of one read, aligned arrays over C candidates.

    slots (C,), keys (C, d) unit key vectors, features (C, F) in SIGNALS order, prev / next (C,)
    positions of the temporal neighbours within the candidates (-1 when absent): a doubly linked chain,
    next[i] = j exactly when prev[j] = i. speakers (C,) int64: equal codes for the same speaker, -1
    unknown; sessions (C,) int64: equal codes for one session (module docstring); asks (C,) bool: the
    memory holds a question; machine (C,) bool: its speaker is a machine's role (text.MACHINES: an
    assistant, a tool), false throughout when the query asks what the machine said
    (`text.asks_for_reply`): the links then weigh its reply to a person as any reply, for the reply is
    what is asked about; query (Q,) the read's QUERY_FEATURES.
    """

    slots: np.ndarray
    keys: np.ndarray
    features: np.ndarray
    prev: np.ndarray
    next: np.ndarray
    speakers: np.ndarray
    sessions: np.ndarray
    asks: np.ndarray
    machine: np.ndarray
    query: np.ndarray

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
        replies: bool = True,
    ) -> None:
        """keys(slots) gives the key vectors `(len(slots), d)` of slots; replies: `CandidateConfig.replies`."""
        words = re.findall(r"\w+", query.lower())
        self.words = set(words)
        self.asked = next((w for w in words if w in QUESTION_WORDS), None)
        self.present = bool(self.words & CURRENT)
        self.asks_reply = replies and asks_for_reply(query)
        self.names = capitalised(query) - STOPWORDS
        self.ns = None if namespace is None else ns_key(namespace)
        self.query_time = query_time
        self.window = window(query, query_time)
        self._speaker_codes: dict[str, int] = {"": -1}
        self.keys = keys
        self._links: dict[int, tuple[int, int]] = {}  # slot -> (prev, next) of every row collected
        self._pending: list[ReadBatch] = []  # rows collected but not yet described
        # described batches: slots (n,), own features (n, F), links (2, n) (prev, next; -1: none),
        # event times (n,), speaker codes (n,), asks (n,)
        self._batches: list[tuple[np.ndarray, ...]] = []

    def __contains__(self, slot: object) -> bool:
        return slot in self._links

    def __len__(self) -> int:
        return len(self._links)

    def linked(self, slots: Iterable[int]) -> list[int]:
        """The temporal neighbours (previous and next) of those of `slots` already collected."""
        links = [self._links[s] for s in slots if s in self._links]
        return [n for pair in links for n in pair if n >= 0]

    def add(self, batch: ReadBatch) -> None:
        """Collect the rows of `batch` not collected yet."""
        new = [i for i, s in enumerate(batch.slot.tolist()) if s not in self._links]
        if not new:
            return
        if len(new) < len(batch):
            batch = batch.take(np.array(new))
        pairs = zip(batch.prev.tolist(), batch.next.tolist(), strict=True)
        self._links.update(zip(batch.slot.tolist(), pairs, strict=True))
        self._pending.append(batch)

    def describe(self) -> None:
        """Work out the signals of each row that depend on it alone (speaker, time, usage, namespace,
        when, length) and its links, for the rows added since the last call."""
        for b in self._pending:
            feats = np.zeros((len(b), len(SIGNALS)), dtype=np.float32)
            # A read's rows share a handful of speakers and namespaces: decide each distinct one once.
            codes = np.unique(b.speaker).tolist()
            said = [c for c in codes if refers_to(self.words, self.names, b.speakers[c])]
            feats[:, 1] = np.isin(b.speaker, said)
            if self.present and self.query_time is not None:
                days = np.abs(self.query_time - b.event_time) / _DAY  # nan when unknown
                feats[:, 3] = np.nan_to_num(-np.log1p(days) / math.log(366.0))  # 0 when the time is unknown
            feats[:, 4] = b.usage
            feats[:, 5] = np.isin(b.ns, [c for c in np.unique(b.ns).tolist() if b.ns_names[c] == self.ns])
            if self.window is not None:
                start, end = self.window
                said = np.maximum(start - b.event_time, b.event_time - end).clip(min=0.0)
                gap = np.maximum(start - b.named_end, b.named_start - end)
                named = np.where(gap < 0.0, 0.0, gap + _DAY)  # nan where the text names no time
                outside = np.fmin(said, named) / _DAY  # the nearer of the two; nan when neither is known
                feats[:, 6] = np.nan_to_num(np.exp(-outside / 7.0))
            feats[:, 7] = np.minimum(np.log1p(b.length) / math.log1p(LENGTH_SCALE), 1.0)
            ids = np.array([self._speaker_codes.setdefault(b.speakers[c], len(self._speaker_codes)) for c in codes])
            speakers = ids[np.searchsorted(codes, b.speaker)] if codes else np.zeros(0, dtype=np.int64)
            links = np.stack([b.prev, b.next])
            self._batches.append((b.slot, feats, links, b.event_time, speakers, b.asks))
        self._pending.clear()

    def build(self, lexical: Mapping[int, float], naming: np.ndarray | None = None) -> Candidates:
        """The Candidates, in slot (write) order; `lexical` maps slots to their BM25 (0 when absent);
        `naming` (sorted slots) are the memories that name someone the query names: when a candidate is one
        of them, it counts as the query's speaker, and no link carries anything."""
        self.describe()
        if not self._links:
            empty = np.zeros(0, dtype=np.int64)
            feats = np.zeros((0, len(SIGNALS)), np.float32)
            none = np.zeros(0, dtype=bool)
            return Candidates(
                empty, self.keys([]), feats, empty, empty, empty, empty, none, none, self.query_features(feats)
            )
        slots, feats, times, speakers, asks = (
            np.concatenate([batch[i] for batch in self._batches]) for i in (0, 1, 3, 4, 5)
        )
        links = np.concatenate([batch[2] for batch in self._batches], axis=1)
        order = np.argsort(slots)
        slots, feats, links = slots[order], feats[order], links[:, order]
        times, speakers, asks = times[order], speakers[order], asks[order]
        # The keys in one call, once the dense search has run: a scoped read's are then its tenant's
        # keys in memory, where rows described before the search would read them from the store.
        keys = self.keys(slots.tolist())
        n = len(slots)
        raw = np.zeros(n)
        if lexical:
            at, found = _positions(slots, np.fromiter(lexical, dtype=np.int64, count=len(lexical)))
            raw[at[found]] = np.fromiter(lexical.values(), dtype=np.float64, count=len(lexical))[found]
        feats[:, 0] = (raw - raw.mean()) / max(raw.std(), LEXICAL_SPREAD_FLOOR)
        if self.present:
            feats[:, 2] = np.arange(n) / (n - 1) if n > 1 else 1.0  # write-order rank: slots are sorted
        at, found = _positions(slots, links)
        prev, nxt = np.where(found, at, -1)
        named = _positions(naming, slots)[1] if naming is not None and len(naming) else None
        if named is not None and named.any():
            feats[named, SIGNALS.index("speaker")] = 1.0
            # In an agent's log, the memory written after "Omar Kim moved to the Sierra project" is as
            # likely about Carmen Kim, or, by chance, another of Omar's: a link would carry the strong
            # match of one memory over to its neighbour. The memories naming the person rank on their own.
            prev[:] = nxt[:] = -1
        speakers = speakers.astype(np.int64)
        # A machine's reply to a person repeats the person's words without their facts (text.MACHINES),
        # unless the query asks for what the machine replied.
        machines = [] if self.asks_reply else [c for name, c in self._speaker_codes.items() if name in MACHINES]
        return Candidates(
            slots, keys, feats, prev, nxt, speakers, sessions(times), asks, np.isin(speakers, machines),
            self.query_features(feats),
        )  # fmt: skip

    def query_features(self, features: np.ndarray) -> np.ndarray:
        """The read's QUERY_FEATURES (Q,) given its candidates' features (C, F): the question word
        (the query's first word of QUESTION_WORDS), whether any candidate is the named speaker,
        whether the query names a time it could resolve, whether it asks about the present."""
        out = np.zeros(len(QUERY_FEATURES), dtype=np.float32)
        if self.asked is not None:
            out[QUESTION_WORDS.index(self.asked)] = 1.0
        n = len(QUESTION_WORDS)
        out[n] = float(len(features) > 0 and features[:, SIGNALS.index("speaker")].any())
        out[n + 1] = float(self.window is not None)
        out[n + 2] = float(self.present)
        out[n + 3] = 1.0
        return out


def sessions(times: np.ndarray) -> np.ndarray:
    """Session codes (C,) of event times (C,) (nan: unknown, a session of its own): sorted by time, a
    gap over SESSION_GAP starts a new session."""
    order = np.argsort(times, kind="stable")  # nan last
    t = times[order]
    known = ~np.isnan(t)
    new = np.ones(len(t), dtype=bool)
    new[1:] = ~(known[1:] & known[:-1] & (np.diff(t) <= SESSION_GAP))
    codes = np.empty(len(t), dtype=np.int64)
    codes[order] = np.cumsum(new) - 1
    return codes


def _positions(sorted_slots: np.ndarray, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of `slots` sits in `sorted_slots`, and whether it is there at all."""
    at = np.minimum(np.searchsorted(sorted_slots, slots), len(sorted_slots) - 1)
    return at, sorted_slots[at] == slots


def gather(
    query: ReadQuery, memory: SlotReader, config: CandidateConfig, *, extra: Sequence[int] = ()
) -> Candidates:
    """The candidate set of one read (`extra` slots are added wherever they are: training adds the gold
    ones, `explain` the ones asked about). The caller must not hold the backend's lock, which the worker
    needs."""
    c = config

    def take(
        cand: CandidateBuilder, slots: Sequence[int], strong: Sequence[int], *, visible: bool = True
    ) -> None:
        """Add candidates, and the temporal neighbours of the `strong` ones among them (from the rows
        already collected where it can, so only the others' links are looked up)."""
        new = [s for s in slots if s not in cand]
        unseen = [s for s in strong if s not in cand]
        new += [s for s in cand.linked(strong) if s not in cand]
        if new or unseen:
            cand.add(
                memory.neighbourhood(
                    new, unseen, namespace=query.namespace, filter=query.filter, visible=visible
                )
            )

    def lexical_part() -> tuple[CandidateBuilder, dict[int, float], np.ndarray | None]:
        """The builder (made here, off the scan's thread, so the scan starts at once) with the lexical
        top-K and its candidates' rows (BM25 of candidates outside it counts as 0), the top-K, and the
        memories naming whom the query names."""
        cand = CandidateBuilder(
            query=query.text, namespace=query.namespace, query_time=query.time, keys=memory.vectors,
            replies=c.replies,
        )  # fmt: skip
        found = dict(memory.lexical(query.text, c.lexical_k, namespace=query.namespace, filter=query.filter))
        take(cand, list(found), list(found)[: c.neighbours])
        cand.describe()
        naming = memory.naming(name_phrases(query.text), namespace=query.namespace) if c.naming else None
        # Most of a read's top k are lexical candidates: their rows, fetched here while the scan
        # runs, are not fetched after it for the records.
        memory.rows(list(found)[: query.k])
        return cand, found, naming

    # A reader whose questions only this thread may ask (inside a local store's write transaction,
    # whose lock this thread holds) has the lexical part run here: a worker would wait on the lock.
    lexical_done = in_background(lexical_part, here=not memory.concurrent)
    try:
        key = query.vector / max(float(np.linalg.norm(query.vector)), 1e-12)  # the read key: the unit query
        # At least k dense candidates, so a read of k hits returns k where the scope holds them.
        dense_k = max(c.dense_k, query.k)
        dense = [s for s, _ in memory.search(key, dense_k, namespace=query.namespace, filter=query.filter)]
    except BaseException:
        wait([lexical_done])  # never leave the worker reading a memory the caller may change or close
        raise
    cand, lexical, naming = lexical_done.result()
    take(cand, dense, dense[: c.neighbours])
    take(cand, extra, (), visible=False)
    take(cand, (), extra)
    return cand.build(lexical, naming)
