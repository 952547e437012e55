"""The episode data model: what every loader and generator produces, and what training and evaluation consume.

An `Episode` is one memory's worth of observations (a LoCoMo conversation, a LongMemEval haystack, a
bAbI story, a synthetic agent history) and the questions asked of it. Each item is scored only against
its own episode, which is what "the memory of this user" means.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Turn:
    """One observation as the memory stores it.

    id: the dataset's own id (LoCoMo `dia_id`, LongMemEval `session_id:index`, bAbI line number);
        evidence refers to these.
    session: the id of the session the turn belongs to (session-level metrics).
    text: the stored text, speaker included ("Caroline: ...").
    supersedes: the id of an earlier turn whose fact this one replaces (generators know it; write-gate
        training uses it).
    """

    id: str
    session: str
    text: str
    speaker: str | None = None
    time: datetime | None = None
    supersedes: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """One question with its gold evidence.

    evidence: turn ids that support the answer (all of them are needed: recall_all).
    sessions: session ids that hold the evidence.
    at: how many of the episode's turns have been observed when the question is asked
        (bAbI asks mid-story); None means after the whole episode.
    time: when the question is asked (LongMemEval's question_date); None: right after the last turn it sees.
    """

    id: str
    question: str
    answer: str
    category: str
    evidence: tuple[str, ...]
    sessions: tuple[str, ...]
    at: int | None = None
    time: datetime | None = None


@dataclass(slots=True)
class Episode:
    id: str
    turns: list[Turn]
    items: list[Item]


@dataclass(slots=True)
class Dataset:
    """A loaded benchmark.

    skipped: items left out, by reason (adversarial, abstention, unresolvable evidence, ...).
    repaired: data faults fixed while loading, by kind (kept items, counted so fixes stay visible).
    """

    name: str
    episodes: list[Episode]
    skipped: Counter[str] = field(default_factory=Counter)
    repaired: Counter[str] = field(default_factory=Counter)

    @property
    def n_items(self) -> int:
        return sum(len(e.items) for e in self.episodes)

    @property
    def n_turns(self) -> int:
        return sum(len(e.turns) for e in self.episodes)
