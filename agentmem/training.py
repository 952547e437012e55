"""Training the MemoryController on episodes whose evidence is known.

The write gate is fitted first (`gate_pairs`, `fit_gate`: the turns that supersede earlier ones are
known). Each episode is then written into a private `Memory` through the controller being trained
(writes are replayed exactly as at run time, superseded statements folded into the memory that
replaced them), then every question is read with the controller's own `gather`,
with the gold slots added to the candidates so the loss is defined. Candidate sets are gathered once
(keys from the current heads) and the model is fitted on them:

    loss = -log Σ_{i ∈ gold} w_i,    w = softmax(scores over the candidates)

Episodes come from whatever the caller converts (the CLI reads the synthetic generator, or a
LoCoMo- or LongMemEval-format file); this module knows only `TrainingEpisode`.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from agentmem.controller import ReadQuery
from agentmem.encoder import Encoder
from agentmem.memory_controller import MemoryController, collate, merge_keys
from agentmem.signals import Candidates
from agentmem.text import name_phrases, speaker_of
from agentmem.write_gate import pair_features

log = logging.getLogger("agentmem")


@dataclass(frozen=True)
class TrainingTurn:
    """supersedes: the id of an earlier turn this one replaces (a move, a new job), when known."""

    id: str
    text: str
    speaker: str | None = None
    time: float | None = None
    supersedes: str | None = None


@dataclass(frozen=True)
class TrainingQuestion:
    text: str
    evidence: tuple[str, ...]
    time: float | None = None


@dataclass
class TrainingEpisode:
    id: str
    turns: list[TrainingTurn]
    questions: list[TrainingQuestion]


@dataclass
class ControllerTrainingConfig:
    """epochs / lr / batch_size / weight_decay: the optimiser; val_fraction: questions held out to
    pick the best epoch; seed: shuffling and the split."""

    epochs: int = 40
    lr: float = 0.03
    batch_size: int = 64
    weight_decay: float = 1e-4
    val_fraction: float = 0.2
    seed: int = 0


@dataclass
class Example:
    """One question's candidate set, query key `(d,)` and the gold candidates' positions."""

    candidates: Candidates
    query: np.ndarray
    gold: list[int]


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


@dataclass
class TrainingReport:
    """Per-epoch curves and the chosen epoch (best validation recall_any@10)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_recall_any_at_10: list[float] = field(default_factory=list)
    best_epoch: int = -1
    n_train: int = 0
    n_val: int = 0
    seconds: float = 0.0


def replay(
    controller: MemoryController,
    episodes: Sequence[TrainingEpisode],
    encoder: Encoder,
    *,
    progress: Callable[[int], None] | None = None,
) -> list[Example]:
    """Write each episode through `controller` (its write gate as it stands) into a private Memory and
    gather every question."""
    from agentmem.memory import Memory

    examples: list[Example] = []
    for ep in episodes:
        with Memory(None, encoder=encoder, controller=controller) as mem:
            turns = ep.turns
            vectors = encoder.encode([t.text for t in turns])
            ids = mem.remember(
                [t.text for t in turns],
                namespace=("episode",),
                metadata=[{"speaker": t.speaker} if t.speaker else {} for t in turns],
                event_time=[t.time for t in turns],
                ids=[t.id for t in turns],
                embeddings=vectors,
            )
            stored = dict(zip([t.id for t in turns], ids, strict=True))  # a skipped turn maps to its twin
            slot_of = {r.id: r.slot for r in mem.store.by_ids(list(set(ids))).values()}
            qvecs = encoder.encode_queries([q.text for q in ep.questions]) if ep.questions else []
            view = mem._view()
            for q, vec in zip(ep.questions, qvecs, strict=True):
                gold_slots = sorted({slot_of[stored[e]] for e in q.evidence if e in stored})
                if not gold_slots:
                    continue
                read = ReadQuery(q.text, vec, 10, ("episode",), None, q.time)
                cand = controller.gather(read, view, extra=gold_slots)
                pos = {int(s): i for i, s in enumerate(cand.slots)}
                examples.append(Example(cand, vec, [pos[s] for s in gold_slots]))
        if progress:
            progress(1)
    return examples


_GATE_ROWS = 4000  # longer episodes give gate examples for a sample of this many turns


def gate_pairs(turns: Sequence[TrainingTurn], vectors: np.ndarray, k: int) -> list[GateExample]:
    """Each turn against the earlier memories its write weighs (`MemoryController._gate_pairs`): the
    `k` with the closest keys, and the `k` closest of those naming someone it names (vectors `(n, d)`,
    unit rows). The memories are those a gate that decided every earlier write right would have left
    (teacher forcing): one per chain of replacements, holding its latest statement and the merged key,
    which is what the write finds stored, in one batch or not."""
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


def _speaker(turn: TrainingTurn) -> str:
    """The speaker as the write gate sees it at write time (metadata, else a "Name:" prefix)."""
    return speaker_of(turn.text, {"speaker": turn.speaker} if turn.speaker else {})


def fit_gate(controller: MemoryController, examples: Sequence[GateExample], seed: int = 0) -> GateReport:
    """Fit the write gate (all its parameters, full batch) on pair examples, 20% of the turns held out."""
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
    opt = torch.optim.Adam(controller.gate_parameters(), lr=0.01)
    for _ in range(1500):
        # Unweighted: updates are rare and a wrong one overwrites a memory, so the gate's probabilities
        # stay calibrated to that rarity and only confident pairs cross the threshold.
        loss = torch.nn.functional.binary_cross_entropy_with_logits(controller.gate_logit(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        controller.config.update_threshold = _best_threshold(controller.update_probability(xt), yt > 0.5)
        decided = controller.update_probability(xv) > controller.config.update_threshold
    truth = yv > 0.5
    report.threshold = controller.config.update_threshold
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


def fit(
    controller: MemoryController, examples: Sequence[Example], config: ControllerTrainingConfig
) -> TrainingReport:
    """Fit the controller's reads (all but the write gate) on gathered examples; keeps the weights of the
    best validation epoch."""
    start = time.perf_counter()
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    order = list(range(len(examples)))
    rng.shuffle(order)
    n_val = int(len(order) * config.val_fraction)
    val, train = [examples[i] for i in order[:n_val]], [examples[i] for i in order[n_val:]]
    report = TrainingReport(n_train=len(train), n_val=len(val))
    gate = {id(p) for p in controller.gate_parameters()}  # fitted apart (fit_gate), before the replay
    reads = [p for p in controller.parameters() if id(p) not in gate]
    opt = torch.optim.Adam(reads, lr=config.lr, weight_decay=config.weight_decay)
    best, best_state = -math.inf, None
    for epoch in range(config.epochs):
        controller.train()
        rng.shuffle(train)
        losses = []
        for i in range(0, len(train), config.batch_size):
            loss = _loss(controller, train[i : i + config.batch_size])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        controller.eval()
        with torch.no_grad():
            vl, vr = _evaluate(controller, val) if val else (float("nan"), float("nan"))
        report.train_loss.append(float(np.mean(losses)) if losses else float("nan"))
        report.val_loss.append(vl)
        report.val_recall_any_at_10.append(vr)
        score = vr if val else -report.train_loss[-1]
        if score > best:
            best, report.best_epoch = score, epoch
            best_state = {k: v.detach().clone() for k, v in controller.state_dict().items()}
        log.info(
            "epoch %d: train loss %.4f, val loss %.4f, val recall_any@10 %.3f",
            epoch,
            report.train_loss[-1],
            vl,
            vr,
        )
    if best_state is not None:
        controller.load_state_dict(best_state)
    controller.eval()
    report.seconds = time.perf_counter() - start
    return report


def _loss(controller: MemoryController, batch: Sequence[Example]) -> torch.Tensor:
    scores, _ = controller(*collate([e.candidates for e in batch], [e.query for e in batch]))
    log_w = torch.log_softmax(scores, dim=-1)
    gold = torch.zeros_like(scores, dtype=torch.bool)
    for i, e in enumerate(batch):
        gold[i, e.gold] = True
    return -torch.logsumexp(log_w.masked_fill(~gold, float("-inf")), dim=-1).mean()


def _evaluate(controller: MemoryController, examples: Sequence[Example]) -> tuple[float, float]:
    """Mean loss and recall_any@10 over examples (in batches)."""
    losses, hits = [], []
    for i in range(0, len(examples), 256):
        batch = examples[i : i + 256]
        losses.append(float(_loss(controller, batch)) * len(batch))
        scores, _ = controller(*collate([e.candidates for e in batch], [e.query for e in batch]))
        top = torch.topk(scores, k=min(10, scores.shape[1]), dim=-1).indices
        hits += [float(any(g in set(top[j].tolist()) for g in e.gold)) for j, e in enumerate(batch)]
    return sum(losses) / len(examples), float(np.mean(hits))
