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
    overlap   Jaccard overlap of their content words (stop words dropped)
    entities  share of the old memory's capitalised words (names, places) that the new one repeats
    speaker   1 when both have the same known speaker
    cue       1 when the new text says something changed ("moved", "now", "anymore", "left", ...)
    subject   share of the old memory's full names ("Ana Silva") that the new one repeats: the same
              template about someone else shares every other word
    named     1 when the old memory names someone by full name. With `subject` it tells "names no one"
              (a chat's "I live in Austin", where 0 shared names says nothing) from "names someone
              else" ("Nikhil Kim lives in Cusco" is not replaced by "Viktor Kim has moved to Cusco")

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
from agentmem.text import capitalised, content_words, name_phrases, says_changed, speaker_of, without_speaker

log = logging.getLogger("agentmem")

GATE_FEATURES = ("cosine", "closest", "overlap", "entities", "speaker", "cue", "subject", "named")
_NAMING_CAP = 256  # memories naming someone a write names that its gate may weigh
_GATE_ROWS = 4000  # longer episodes give gate examples for a sample of this many turns

Target = tuple[int | None, int | None]  # (stored slot, batch position of the write allocating it)
Pair = tuple[Target, str, str, float]  # (target, its text, its speaker, cosine to the write)


@dataclass
class WriteGateConfig:
    """candidates: G, the closest memories (stored, or written earlier in the batch) a new observation
    is weighed against, and again the closest of those naming someone it names; hidden: hidden units
    (0: a logistic gate over the pair features); update_threshold: the gate probability above which the
    observation updates that memory (set by `fit_gate`); duplicate_cosine: a write whose key is at least
    this close to a memory with the same normalised text is skipped; naming: also weigh the memories
    naming someone the write names."""

    candidates: int = 4
    hidden: int = 16
    update_threshold: float = 0.35
    duplicate_cosine: float = 0.98
    naming: bool = True


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
        """Per observation, in order: skip it when its namespace already holds the same text; update the
        memory it supersedes when the gate says so (an earlier write of this batch counts too); else
        allocate a new slot."""
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
                dup = next(
                    (p for p in pairs if p[3] >= c.duplicate_cosine and _norm(p[1]) == _norm(w.text)), None
                )
                if dup is not None:
                    decision = WriteDecision("skip", *dup[0])
                elif pairs:
                    speaker = speaker_of(w.text, w.metadata)
                    best, mine = pairs[0][3], facts_of(w.text, speaker)
                    feats = np.stack(
                        [facts_features(mine, speaker, facts_of(t, spk), spk, cos, best) for _, t, spk, cos in pairs]
                    )
                    p = gate(feats)
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
                ((s, None), rows[s].text, rows[s].speaker, cos)
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
    """What the pair features read of one text, worked out once per text: a write is weighed against a
    few memories and a memory against many writes of a batch."""

    content: frozenset[str]
    entities: frozenset[str]
    names: frozenset[str]
    cue: bool

    @classmethod
    def of(cls, text: str, speaker: str) -> TextFacts:
        body = without_speaker(text, speaker)
        return cls(
            frozenset(content_words(body)), frozenset(capitalised(body)), frozenset(name_phrases(body)),
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
        return self.targets[row], w.text, speaker_of(w.text, w.metadata), cosine

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
    """The write gate's fit: the update threshold chosen (best F1 on the training pairs) and the held-out
    precision and recall of the update decisions it gives."""

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
    merged key, which is what the write finds stored, in one batch or not."""
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
            new = turns[t]
            feats = [
                pair_features(
                    new.text,
                    _speaker(new),
                    turns[j].text,
                    _speaker(turns[j]),
                    float(sims[r, j]),
                    float(sims[r, weighed[0]]),
                )
                for j in weighed
            ]
            replaced = chain[t] != t
            labels = np.array([float(replaced and chain[j] == chain[t]) for j in weighed], dtype=np.float32)
            out.append(GateExample(np.stack(feats), labels))
    return out


def _speaker(turn: Turn) -> str:
    """The speaker as the write gate sees it at write time (metadata, else a "Name:" prefix)."""
    return speaker_of(turn.text, {"speaker": turn.speaker} if turn.speaker else {})


def fit_gate(gate: WriteGate, examples: Sequence[GateExample], seed: int = 0) -> GateReport:
    """Fit the write gate (all its parameters, full batch) on pair examples, 20% of the turns held out;
    sets `update_threshold` to the best F1 on the training pairs."""
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
        gate.config.update_threshold = _best_threshold(gate.probability(xt), yt > 0.5)
        decided = gate.probability(xv) > gate.config.update_threshold
    truth = yv > 0.5
    report.threshold = gate.config.update_threshold
    report.val_precision = float((decided & truth).sum() / decided.sum().clamp(min=1))
    report.val_recall = float((decided & truth).sum() / truth.sum().clamp(min=1))
    report.seconds = time.perf_counter() - start
    log.info("write gate: precision %.3f, recall %.3f", report.val_precision, report.val_recall)
    return report


def _best_threshold(p: torch.Tensor, truth: torch.Tensor) -> float:
    """The update threshold with the best F1 on the training pairs (updates are rare, so 0.5 on
    calibrated probabilities leaves most of them unmade)."""
    best, best_f1 = 0.5, -1.0
    for t in torch.linspace(0.05, 0.95, 19).tolist():
        decided = p > t
        tp = float((decided & truth).sum())
        f1 = 2 * tp / max(float(decided.sum() + truth.sum()), 1.0)
        if f1 > best_f1:
            best, best_f1 = t, f1
    return best
