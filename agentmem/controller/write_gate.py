"""The write gate: what to write where. Skip an observation already stored, update the memory it
supersedes, or allocate a new slot (the DNC's allocation, linked after the namespace's last memory).

At write time the learned controller looks at the few memories closest to a new observation (its dense
top-G in the same namespace, plus earlier observations of the same batch) and asks, for each pair,
whether the new one *supersedes* the old one ("We moved to Denver" after "I live in Austin"). If so, the
old slot is updated in place (its previous version kept in history) instead of a conflicting copy being
appended, and its key becomes the merge of both keys. The decision is a small network over the pair's
features,

    p(update | new, old) = σ(w · h + b),    h = tanh(φ(new, old) U + c)    (U: F x H)

Which features say "same fact" depends on who is talking: in a chat, one speaker's first-person
statements; in an agent's log, one "user" reporting on many named people. That interaction is what
the hidden layer is for; a logistic gate (h = φ, `WriteGateConfig.hidden` 0) cannot express it. The
features (text.py's rules), all in 0..1:

    cosine    key similarity of the two
    closest   1 when the old memory is the new observation's nearest one among the G weighed
    overlap   Jaccard overlap of their substantive words (text.substance: no stop words, change words
              or small talk, so two chit-chat turns do not overlap on "ok", "lol" or "now")
    entities  share of the old memory's names, places and brands (text.entities: capitalised words
              that are not glue such as a sentence's "Actually" or "I'm") that the new one repeats
    speaker   1 when both have the same known speaker
    cue       1 when the new text says something changed ("moved", "now", "anymore", "left", ...)
    subject   share of the old memory's full names ("Ana Silva") that the new one repeats: the same
              template about someone else shares every other word
    named     1 when the old memory names someone by full name. With `subject` it tells "names no one"
              (a chat's "I live in Austin", where 0 shared names says nothing) from "names someone
              else" ("Nikhil Kim lives in Cusco" is not replaced by "Viktor Kim has moved to Cusco")

Rules of chat come before the network, because its features cannot tell those cases apart (a short
chat turn's key is mostly its "Name:" prefix, so "Mira: I'm home now" is closer to "Mira: Good
morning!" than "Mira: We moved to Denver" is to "Mira: I live in Austin"):

- shared content: an observation merges (updates or skips onto) a memory only when the two share a
  substantive word (a topic word, a name, a value). A change word alone ("now", "anymore", "left")
  says nothing about *what* changed, and small talk ("Good morning!", "ok moving on") has no
  substance, so it never merges and is never merged into; nor does a question, which states nothing.
  The name of the one person both texts name is not enough either: in an agent's log one person has
  many facts, and "Ana Silva moved to Lima" shares nothing that says it replaces "Ana Silva works at
  Acme" rather than "Ana Silva lives in Oslo" (two people both name are: "Ana Silva and Bo Ek split
  up" replaces "Ana Silva is dating Bo Ek").
- one speaker: when both speakers are known, only a speaker's own statement replaces theirs. A reply
  ("Thanks, Gina! I won't give up") is not a new version of what it answers.
- bursts: one speaker's messages seconds apart (at most `burst_seconds`) continue each other ("at the
  store" / "they don't have my cereal anymore" / "got the other brand instead"); one never replaces
  another. Equal times are a session's or a batch's stamp rather than a message's, so they say nothing
  about bursts.

Besides its G closest memories, a write is weighed against the G closest of those naming someone it
names: in an agent's log, a person's old statement is often farther by key than the same template
about other people ("X has moved from Oslo to Lima" is closer to "Y lives in Lima" than to "X lives in
Oslo"). An earlier write of the same batch is weighed as it would be once stored, so a history written
in one batch or one observation at a time gives the same memories.

The gate is fitted on its own (`fit_gate`), on pairs a right gate would have left (`gate_pairs`,
teacher forcing), from episodes whose turns say which earlier turn they supersede.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from agentmem.controller.base import PendingWrite, WriteDecision
from agentmem.episodes import Turn
from agentmem.storage.base import SlotReader, SlotRow
from agentmem.text import (
    asks,
    entities,
    fold,
    name_phrases,
    says_changed,
    speaker_of,
    substance,
    without_speaker,
)

log = logging.getLogger("agentmem")

GATE_FEATURES = ("cosine", "closest", "overlap", "entities", "speaker", "cue", "subject", "named")
_NAMING_CAP = 256  # memories naming someone a write names that its gate may weigh
_GATE_ROWS = 4000  # longer episodes give gate examples for a sample of this many turns
PRECISION = 0.99  # the precision on its training pairs that the fitted gate's threshold is chosen for

Target = tuple[int | None, int | None]  # (stored slot, batch position of the write allocating it)
# (target, its text, its speaker, cosine to the write, the event time of its text)
Pair = tuple[Target, str, str, float, float | None]


@dataclass
class WriteGateConfig:
    """candidates: G, the closest memories (stored, or written earlier in the batch) a new observation
    is weighed against, and again the closest of those naming someone it names; hidden: hidden units
    (0: a logistic gate over the pair features); update_threshold: the gate probability above which the
    observation updates that memory (set by `fit_gate`); duplicate_cosine: a write whose key is at least
    this close to a memory with the same normalised text is skipped; naming: also weigh the memories
    naming someone the write names; shared_content: merge only texts sharing a substantive word;
    same_speaker: never merge two known speakers' texts; burst_seconds: a speaker's messages at most
    this far apart (and not at the same time) never replace each other (0: no burst rule). The rules:
    the module docstring."""

    candidates: int = 4
    hidden: int = 16
    update_threshold: float = 0.5
    duplicate_cosine: float = 0.98
    naming: bool = True
    shared_content: bool = True
    same_speaker: bool = True
    burst_seconds: float = 60.0


class WriteGate(nn.Module):
    """p(update | new, old) over pair features (module docstring)."""

    def __init__(
        self, config: WriteGateConfig | None = None, *, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        self.config = c = config or WriteGateConfig()
        f = len(GATE_FEATURES)
        # The random hidden layer lets training tell its units apart; output weights 0 and bias σ(-4) ≈
        # 0.02 mean an untrained gate never turns an observation into an update.
        if c.hidden > 0:
            g = generator or torch.Generator().manual_seed(0)
            self.hidden_weight = nn.Parameter(torch.randn(f, c.hidden, generator=g) / f**0.5)
            self.hidden_bias = nn.Parameter(torch.zeros(c.hidden))
        self.weight = nn.Parameter(torch.zeros(c.hidden or f))
        self.bias = nn.Parameter(torch.tensor(-4.0))

    def logit(self, features: torch.Tensor) -> torch.Tensor:
        """Pair features (..., F) -> the logit of p(the new observation supersedes the old memory) (...)."""
        h = features
        if self.config.hidden > 0:
            h = torch.tanh(h @ self.hidden_weight + self.hidden_bias)
        return h @ self.weight + self.bias

    def probability(self, features: torch.Tensor) -> torch.Tensor:
        """`logit` as a probability (...)."""
        return torch.sigmoid(self.logit(features))

    def _numpy(self) -> Callable[[np.ndarray], np.ndarray]:
        """`probability` as a numpy function of pair features `(P, F)`: a write's few pairs are too small
        for torch's per-call cost, which a batch of a thousand writes pays a thousand times."""
        with torch.no_grad():
            weight, bias = self.weight.numpy().astype(np.float64), float(self.bias)
            hidden = (
                (self.hidden_weight.numpy().astype(np.float64), self.hidden_bias.numpy().astype(np.float64))
                if self.config.hidden > 0
                else None
            )

        def probability(features: np.ndarray) -> np.ndarray:
            h = features.astype(np.float64)
            if hidden is not None:
                h = np.tanh(h @ hidden[0] + hidden[1])
            return 1.0 / (1.0 + np.exp(-(h @ weight + bias)))

        return probability

    def plan(self, writes: Sequence[PendingWrite], memory: SlotReader) -> list[WriteDecision]:
        """Per observation, in order: skip it when its namespace already holds the same text (small talk
        and questions excepted: the rules below); update the memory it supersedes when the rules allow
        and the gate says so (an earlier write of this batch counts too); else allocate a new slot."""
        c = self.config
        out: list[WriteDecision] = []
        names = [name_phrases(w.text) if c.naming else [] for w in writes]  # worked out once per write
        earlier = _BatchWrites(writes, names)
        stored, rows = self._nearest_stored(writes, names, memory)
        facts: dict[tuple[str, str], TextFacts] = {}

        def facts_of(text: str, speaker: str) -> TextFacts:
            got = facts.get((text, speaker))
            if got is None:
                got = facts[(text, speaker)] = TextFacts.of(text, speaker)
            return got

        gate = self._numpy()
        for i, w in enumerate(writes):
            decision = WriteDecision("new")
            if w.vector is not None:
                pairs = self._pairs(w, names[i], stored[i], rows, earlier)
                speaker = speaker_of(w.text, w.metadata)
                mine = facts_of(w.text, speaker)
                olds = [facts_of(p[1], p[2]) for p in pairs]
                shares = [
                    shares_content(c, mine, old) and not other_speaker(c, speaker, p[2])
                    for p, old in zip(pairs, olds, strict=True)
                ]
                dup = next(
                    (
                        p
                        for p, ok in zip(pairs, shares, strict=True)
                        if ok and p[3] >= c.duplicate_cosine and _norm(p[1]) == _norm(w.text)
                    ),
                    None,
                )
                may = [
                    ok and not in_burst(c, speaker, w.event_time, p[2], p[4])
                    for p, ok in zip(pairs, shares, strict=True)
                ]
                if dup is not None:
                    decision = WriteDecision("skip", *dup[0])
                elif any(may):
                    best = pairs[0][3]
                    feats = np.stack(
                        [
                            facts_features(mine, speaker, old, p[2], p[3], best)
                            for p, old in zip(pairs, olds, strict=True)
                        ]
                    )
                    p = np.where(may, gate(feats), 0.0)
                    top = int(p.argmax())
                    if float(p[top]) > c.update_threshold:
                        target = pairs[top][0]
                        old = earlier.key(target)
                        old = memory.vectors([target[0]])[0] if old is None else old
                        decision = WriteDecision("update", *target, vector=merge_keys(old, w.vector))
            out.append(decision)
            if decision.op == "new" and w.vector is not None:
                earlier.write((None, i), i, w.vector)
            elif decision.op == "update":
                earlier.write((decision.slot, decision.pending), i, decision.vector)
        return out

    def _nearest_stored(
        self, writes: Sequence[PendingWrite], names: Sequence[list[str]], memory: SlotReader
    ) -> tuple[dict[int, tuple[list[tuple[int, float]], list[tuple[int, float]]]], dict[int, SlotRow]]:
        """Each write's G nearest stored memories and the G nearest of those naming someone it names,
        ([(slot, cosine)], [(slot, cosine)]) by batch position, and their rows: one dense search per
        namespace for the whole batch, not one per write, and one key fetch for every named memory."""
        k = self.config.candidates
        by_ns: dict[tuple[str, ...], list[int]] = {}
        for i, w in enumerate(writes):
            if w.vector is not None:
                by_ns.setdefault(w.namespace, []).append(i)
        closest: dict[int, list[tuple[int, float]]] = {}
        for ns, idx in by_ns.items():
            vectors = np.stack([writes[i].vector for i in idx])
            closest.update(zip(idx, memory.search_many(vectors, k, namespace=ns, filter=()), strict=True))
        # For a name mentioned everywhere, only the latest-allocated few hundred memories naming it are
        # weighed, so a write's cost stays bounded; its older ones still count among the G closest.
        naming = {
            i: memory.naming(names[i], namespace=writes[i].namespace)[-_NAMING_CAP:] if names[i] else ()
            for i in closest
        }
        wanted = sorted(
            {s for f in closest.values() for s, _ in f} | {int(s) for n in naming.values() for s in n}
        )
        rows = memory.rows(wanted)
        named_slots = sorted({int(s) for n in naming.values() for s in n})
        keys = dict(zip(named_slots, memory.vectors(named_slots), strict=True))
        stored = {}
        for i, found in closest.items():
            w = writes[i]
            mine = [s for s in map(int, naming[i]) if s in rows and rows[s].namespace == w.namespace]
            named = [(s, float(keys[s] @ w.vector)) for s in mine]
            stored[i] = (found, sorted(named, key=lambda p: -p[1])[:k])
        return stored, rows

    def _pairs(
        self,
        w: PendingWrite,
        names: list[str],
        found: tuple[list[tuple[int, float]], list[tuple[int, float]]],
        rows: dict[int, SlotRow],
        earlier: _BatchWrites,
    ) -> list[Pair]:
        """The memories a write is weighed against, best first: the G closest stored memories and earlier
        writes of the batch, and the G closest of those naming someone the write names (`names`)."""
        k = self.config.candidates
        closest, named = found
        gone = earlier.rewritten  # their stored key and text are out of date: the batch holds them now

        def pairs(stored: list[tuple[int, float]], batch: list[Pair]) -> list[Pair]:
            out = [
                ((s, None), rows[s].text, rows[s].speaker, cos, rows[s].event_time)
                for s, cos in stored
                if rows[s].namespace == w.namespace and s not in gone
            ]
            return sorted(out + batch, key=lambda p: -p[3])[:k]

        weighed = pairs(closest, earlier.nearest(w.vector, k))
        if names:
            weighed += pairs(named, earlier.naming(w.vector, names, k))
        unique = {p[0]: p for p in weighed}
        return sorted(unique.values(), key=lambda p: -p[3])


@dataclass(frozen=True)
class TextFacts:
    """What the pair features and the rules read of one text, worked out once per text: a write is
    weighed against a few memories and a memory against many writes of a batch. content: its
    substantive words (text.substance), none for a question (it states nothing to merge)."""

    content: frozenset[str]
    entities: frozenset[str]
    names: frozenset[str]
    cue: bool

    @classmethod
    def of(cls, text: str, speaker: str) -> TextFacts:
        body = without_speaker(text, speaker)
        return cls(
            frozenset() if asks(body) else frozenset(substance(body)),
            frozenset(entities(body)),
            frozenset(name_phrases(body)),
            says_changed(body),
        )


def pair_features(
    new_text: str, new_speaker: str, old_text: str, old_speaker: str, cosine: float, best_cosine: float
) -> np.ndarray:
    """φ(new, old) in GATE_FEATURES order, float32 `(F,)`; `best_cosine`: the nearest memory's cosine."""
    return facts_features(
        TextFacts.of(new_text, new_speaker), new_speaker, TextFacts.of(old_text, old_speaker), old_speaker,
        cosine, best_cosine,
    )


def facts_features(
    new: TextFacts, new_speaker: str, old: TextFacts, old_speaker: str, cosine: float, best_cosine: float
) -> np.ndarray:
    """`pair_features` of two texts' facts."""
    a, b = new.content, old.content
    union = len(a | b)
    overlap = len(a & b) / union if union else 0.0
    entities = len(old.entities & new.entities) / len(old.entities) if old.entities else 0.0
    same = float(bool(new_speaker) and new_speaker == old_speaker)
    closest = float(cosine >= best_cosine - 1e-6)
    subject = len(old.names & new.names) / len(old.names) if old.names else 0.0
    named = float(bool(old.names))
    return np.array(
        [max(cosine, 0.0), closest, overlap, entities, same, float(new.cue), subject, named], dtype=np.float32
    )


def shares_content(config: WriteGateConfig, new: TextFacts, old: TextFacts) -> bool:
    """The shared-content rule (module docstring): whether the two texts may merge by what they say."""
    if not config.shared_content:
        return True
    shared = new.content & old.content
    if not shared:
        return False
    people = new.names & old.names
    if len(people) != 1:
        return True  # no one named by both, or a statement about the same two people ("A and B split up")
    (person,) = people
    return not {fold(w) for w in shared}.issubset(person.split())


def other_speaker(config: WriteGateConfig, new_speaker: str, old_speaker: str) -> bool:
    """The one-speaker rule (module docstring): whether both speakers are known and differ."""
    return config.same_speaker and bool(new_speaker) and bool(old_speaker) and new_speaker != old_speaker


def in_burst(
    config: WriteGateConfig, new_speaker: str, new_time: float | None, old_speaker: str, old_time: float | None
) -> bool:
    """The burst rule (module docstring): whether the old memory is the same speaker's message sent at
    most `burst_seconds` apart, which the new one continues rather than replaces."""
    if not new_speaker or new_speaker != old_speaker or new_time is None or old_time is None:
        return False
    return 0.0 < abs(new_time - old_time) <= config.burst_seconds


def merge_keys(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """The key of a memory updated by a superseding observation: the normalised sum of both keys. The
    text becomes the new statement, but the slot stays addressable by how the fact was first put
    ("X works at Acme" is how it is asked about; "X left Acme for Globex" is how it changed)."""
    key = np.asarray(old, dtype=np.float32) + np.asarray(new, dtype=np.float32)
    return key / max(float(np.linalg.norm(key)), 1e-12)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


class _BatchWrites:
    """The memories this batch has written so far, as a later write of the batch would find them stored:
    each slot an earlier write allocates or updates, with its current key and text (the latest
    statement's), in one growing key matrix (one batch shares one namespace), so weighing a write
    against them is a single (m, d) product. A stored slot the batch updates moves here: the dense
    search made before the batch saw its old key and text."""

    def __init__(self, writes: Sequence[PendingWrite], names: Sequence[list[str]]) -> None:
        """names: each write's name phrases."""
        self.writes, self.names = writes, names
        dim = next((len(w.vector) for w in writes if w.vector is not None), 0)
        self.keys = np.zeros((len(writes), dim), dtype=np.float32)
        self.targets: list[Target] = []
        self.latest: list[int] = []  # per row: the batch position of the write whose text it holds
        self.row: dict[Target, int] = {}
        self.named: dict[str, set[int]] = {}  # name phrase -> rows whose text names it
        self.rewritten: set[int] = set()  # stored slots an earlier write of the batch updated

    def key(self, target: Target) -> np.ndarray | None:
        row = self.row.get(target)
        return None if row is None else self.keys[row]

    def write(self, target: Target, i: int, key: np.ndarray) -> None:
        """Write `i` allocated (target (None, i)) or updated `target`, which now holds `key` `(d,)`."""
        row = self.row.get(target)
        if row is None:
            row = self.row[target] = len(self.targets)
            self.targets.append(target)
            self.latest.append(i)
            if target[0] is not None:
                self.rewritten.add(target[0])
        else:
            for name in self.names[self.latest[row]]:
                self.named[name].discard(row)
            self.latest[row] = i
        self.keys[row] = key
        for name in self.names[i]:
            self.named.setdefault(name, set()).add(row)

    def pair(self, row: int, cosine: float) -> Pair:
        w = self.writes[self.latest[row]]
        return self.targets[row], w.text, speaker_of(w.text, w.metadata), cosine, w.event_time

    def nearest(self, vector: np.ndarray, k: int) -> list[Pair]:
        """Pairs of the k closest memories the batch wrote."""
        m = len(self.targets)
        if m == 0:
            return []
        cos = self.keys[:m] @ vector
        top = np.argpartition(-cos, k - 1)[:k] if m > k else np.arange(m)
        return [self.pair(int(t), float(cos[t])) for t in top]

    def naming(self, vector: np.ndarray, names: Sequence[str], k: int) -> list[Pair]:
        """Pairs of the k closest memories the batch wrote that name one of `names`."""
        rows = np.array(sorted(set().union(*(self.named.get(n, set()) for n in names))), dtype=np.int64)
        if len(rows) == 0:
            return []
        cos = self.keys[rows] @ vector
        return [self.pair(int(rows[t]), float(cos[t])) for t in np.argsort(-cos)[:k]]


# -- fitting ----------------------------------------------------------------------------------


@dataclass
class GateExample:
    """One written turn against the P earlier turns its write weighs (`gate_pairs`: P ≤ 2G): pair
    features `(P, F)` and labels `(P,)` (1 where the turn supersedes that earlier one)."""

    features: np.ndarray
    labels: np.ndarray


@dataclass
class GateReport:
    """The write gate's fit: the update threshold chosen (`fit_gate`) and the held-out precision and
    recall of the update decisions it gives."""

    threshold: float = float("nan")
    pairs: int = 0
    positives: int = 0
    val_precision: float = float("nan")
    val_recall: float = float("nan")
    seconds: float = 0.0


def gate_pairs(turns: Sequence[Turn], vectors: np.ndarray, k: int) -> list[GateExample]:
    """Each turn against the earlier memories its write weighs (`WriteGate._pairs`): the `k` with the
    closest keys, and the `k` closest of those naming someone it names (vectors `(n, d)`, unit rows).
    The memories are those a gate that decided every earlier write right would have left (teacher
    forcing): one per chain of replacements (`Turn.supersedes`), holding its latest statement and the
    merged key, which is what the write finds stored, in one batch or not. The pairs the rules decide
    at write time stay in: small talk, replies and bursts the generated episodes hold are negatives
    that teach the network that a change word and one speaker are not enough."""
    n = len(turns)
    index = {t.id: i for i, t in enumerate(turns)}
    keys = np.array(vectors, dtype=np.float32)
    chain = np.arange(n)  # a turn's chain: the first turn of its line of replacements
    until = np.full(n, n)  # the turn whose write replaced this one's memory
    head: dict[int, int] = {}  # chain -> its latest turn so far
    for i, t in enumerate(turns):
        j = index.get(t.supersedes or "", -1)
        if 0 <= j < i:
            chain[i] = chain[j]
            last = head[chain[i]]
            keys[i], until[last] = merge_keys(keys[last], vectors[i]), i
        head[chain[i]] = i
    names = [name_phrases(t.text) for t in turns]
    speakers = [_speaker(t) for t in turns]
    facts = [TextFacts.of(t.text, spk) for t, spk in zip(turns, speakers, strict=True)]  # once per turn
    naming: dict[str, list[int]] = {}
    for i, found in enumerate(names):
        for name in set(found):
            naming.setdefault(name, []).append(i)
    rows = np.arange(1, n)
    if len(rows) > _GATE_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(rows, _GATE_ROWS, replace=False))
    out = []
    for start in range(0, len(rows), 512):
        block = rows[start : start + 512]
        sims = vectors[block] @ keys.T  # (b, n)
        # Only earlier memories still standing when the turn is written.
        sims[(np.arange(n)[None, :] >= block[:, None]) | (until[None, :] < block[:, None])] = -np.inf
        for r, t in enumerate(block):
            standing = int(np.isfinite(sims[r]).sum())
            weighed = list(np.argsort(-sims[r])[: min(k, standing)])
            named = np.unique([j for name in names[t] for j in naming[name] if np.isfinite(sims[r, j])])
            named = named.astype(np.int64)
            weighed += [j for j in named[np.argsort(-sims[r, named])[:k]] if j not in weighed]
            if not weighed:
                continue
            weighed.sort(key=lambda j: -sims[r, j])
            best = float(sims[r, weighed[0]])
            feats = [
                facts_features(facts[t], speakers[t], facts[j], speakers[j], float(sims[r, j]), best)
                for j in weighed
            ]
            replaced = chain[t] != t
            labels = np.array([float(replaced and chain[j] == chain[t]) for j in weighed], dtype=np.float32)
            out.append(GateExample(np.stack(feats), labels))
    return out


def _speaker(turn: Turn) -> str:
    """The speaker as the write gate sees it at write time (metadata, else a "Name:" prefix)."""
    return speaker_of(turn.text, {"speaker": turn.speaker} if turn.speaker else {})


def fit_gate(
    gate: WriteGate, examples: Sequence[GateExample], seed: int = 0, *, min_precision: float = PRECISION
) -> GateReport:
    """Fit the write gate (all its parameters, full batch) on pair examples, 20% of the turns held out;
    sets `update_threshold` to the lowest one whose precision on the training pairs is at least
    `min_precision` (the best F1 when none is)."""
    start = time.perf_counter()
    rng = random.Random(seed)
    order = list(range(len(examples)))
    rng.shuffle(order)
    n_val = len(order) // 5
    pick = lambda ids: (  # noqa: E731
        torch.from_numpy(np.concatenate([examples[i].features for i in ids])),
        torch.from_numpy(np.concatenate([examples[i].labels for i in ids])),
    )
    report = GateReport(
        pairs=sum(len(e.labels) for e in examples), positives=int(sum(e.labels.sum() for e in examples))
    )
    if not examples or report.positives == 0:
        report.seconds = time.perf_counter() - start
        return report  # nothing supersedes anything here: the gate keeps its never-update initialisation
    (xv, yv), (xt, yt) = pick(order[:n_val]), pick(order[n_val:])
    opt = torch.optim.Adam(gate.parameters(), lr=0.01)
    for _ in range(1500):
        # Unweighted: updates are rare and a wrong one overwrites a memory, so the gate's probabilities
        # stay calibrated to that rarity and only confident pairs cross the threshold.
        loss = torch.nn.functional.binary_cross_entropy_with_logits(gate.logit(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        gate.config.update_threshold = _best_threshold(gate.probability(xt), yt > 0.5, min_precision)
        decided = gate.probability(xv) > gate.config.update_threshold
    truth = yv > 0.5
    report.threshold = gate.config.update_threshold
    report.val_precision = float((decided & truth).sum() / decided.sum().clamp(min=1))
    report.val_recall = float((decided & truth).sum() / truth.sum().clamp(min=1))
    report.seconds = time.perf_counter() - start
    log.info("write gate: precision %.3f, recall %.3f", report.val_precision, report.val_recall)
    return report


def _best_threshold(p: torch.Tensor, truth: torch.Tensor, min_precision: float) -> float:
    """The lowest threshold (most updates made) whose precision is at least `min_precision`, else the one
    with the best F1. Precision comes first: a wrong update folds an observation into a memory it does
    not belong to, where a missed one only leaves two memories of one fact. Updates are rare, so 0.5 on
    calibrated probabilities would leave most of them unmade."""
    best, best_f1, precise = 0.5, -1.0, None
    for t in torch.linspace(0.05, 0.95, 19).tolist():
        decided = p > t
        tp = float((decided & truth).sum())
        f1 = 2 * tp / max(float(decided.sum() + truth.sum()), 1.0)
        if f1 > best_f1:
            best, best_f1 = t, f1
        if precise is None and tp > 0 and tp / float(decided.sum()) >= min_precision:
            precise = t
    return best if precise is None else precise
