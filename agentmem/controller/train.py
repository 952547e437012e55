"""Training the learned controller on episodes whose evidence is known (`agentmem train controller`).

The recipe (`train_controller`):
1. The write gate is fitted first (write_gate.gate_pairs, fit_gate) on the turns of `gate_episodes`
   that say which earlier turn they supersede.
2. Each episode is written into a private `Memory` through the controller being trained, each turn
   stored under its own id (so as its own memory: the gate is fitted in step 1, not exercised here),
   and every question is read with the controller's own `gather`, the gold slots added to the
   candidates so the loss is defined (`replay`).
3. The scorer is fitted on those candidate sets (`fit`), keeping the epoch with the best held-out
   recall (any@10 + all@10, on a split of the examples or on a selection set the caller gives):

    loss = -log Σ_{g ∈ gold} w_g  +  λ mean_{g ∈ gold} -log(e^{s_g} / (e^{s_g} + Σ_{j ∉ gold} e^{s_j}))

   w = softmax(scores over the candidates). The first term asks for any gold memory on top
   (recall_any); the second, weighted λ (`all_weight`), for every gold memory above every other
   candidate (recall_all: a question needing three turns needs all three).
4. The read's redundancy penalty λ (scoring.py, `select`), which no gradient reaches, is chosen from
   `REDUNDANCY_GRID` as the value whose top 10 reads the same held-out questions best (any@10 + all@10;
   a tie goes to the smaller λ): `choose_redundancy`.

Episodes come from the project's generators (`training_episodes("dialogue")`, drawn from seeds no
evaluation uses) or from a LoCoMo- or LongMemEval-format file the user gives.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from agentmem.controller.base import ReadQuery
from agentmem.controller.candidates import Candidates
from agentmem.controller.learned import LearnedConfig, LearnedController
from agentmem.controller.scoring import collate, select
from agentmem.controller.write_gate import GateReport, fit_gate, gate_pairs
from agentmem.encoder import Encoder
from agentmem.episodes import Episode
from agentmem.validate import parse_time

log = logging.getLogger("agentmem")

# Generated training episodes are drawn from seeds TRAIN_SEED + seed; `agentmem eval` generates from
# seeds 0 (synthetic) and 1000 (dialogue), so no evaluated episode is ever trained on.
TRAIN_SEED = 100_000
# The held-out shapes' episodes that select the epoch come from seeds SELECTION_SEED + seed; `agentmem
# eval shapes` uses 2000.
SELECTION_SEED = 200_000
GENERATORS = ("shapes", "dialogue", "synthetic")
# The values of the redundancy penalty λ the recipe chooses from (0: the top k by score).
REDUNDANCY_GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)


@dataclass
class ControllerTrainingConfig:
    """epochs / lr / batch_size / weight_decay: the optimiser of the scorer; val_fraction: questions held
    out to pick the best epoch when no selection set is given; all_weight: λ of the loss (module
    docstring); seed: shuffling, the split and the generated episodes."""

    epochs: int = 12
    lr: float = 0.03
    batch_size: int = 64
    weight_decay: float = 1e-4
    val_fraction: float = 0.2
    all_weight: float = 1.0
    seed: int = 0


@dataclass
class Example:
    """One question's candidate set, query key `(d,)`, the gold candidates' positions, and how many
    gold memories the candidates miss (0 when the gold is added to them, as training does)."""

    candidates: Candidates
    query: np.ndarray
    gold: list[int]
    missing: int = 0


@dataclass
class TrainingReport:
    """Per-epoch curves and the chosen epoch (best validation recall_any@10 + recall_all@10)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_recall_any_at_10: list[float] = field(default_factory=list)
    val_recall_all_at_10: list[float] = field(default_factory=list)
    best_epoch: int = -1
    redundancy: float = 0.0
    # each λ of REDUNDANCY_GRID (as text, for JSON): the held-out [recall_any@10, recall_all@10] it reads
    redundancy_recall: dict[str, list[float]] = field(default_factory=dict)
    n_train: int = 0
    n_val: int = 0
    seconds: float = 0.0


@dataclass
class TrainingResult:
    """What `train_controller` made: the controller, the scorer's curves, the gate's fit."""

    controller: LearnedController
    report: TrainingReport
    gate: GateReport
    examples: int
    seconds: float


def training_episodes(
    source: str, *, fmt: str = "auto", observations: int = 20_000, episodes: int = 40, seed: int = 0
) -> list[Episode]:
    """Episodes to train on: '+'-joined generator names ('shapes': `episodes` of each conversation shape
    not held out for validation, `episodes.shapes.TRAINING_SHAPES`; 'dialogue', 'synthetic': `episodes`
    each, the synthetic ones `observations` turns in all), or a LoCoMo (locomo10.json layout) or
    LongMemEval file (`fmt` 'locomo' / 'longmemeval', or 'auto' by the file name)."""
    from agentmem.episodes import (
        TRAINING_SHAPES,
        DialogueConfig,
        ShapesConfig,
        SyntheticConfig,
        generate,
        generate_dialogue,
        generate_shapes,
        load_locomo,
        load_longmemeval,
    )

    parts = source.split("+")
    if all(part in GENERATORS for part in parts):
        made = {
            "synthetic": lambda: (
                generate(
                    SyntheticConfig(observations=observations, episodes=episodes, seed=TRAIN_SEED + seed)
                ).episodes
            ),
            "shapes": lambda: (
                generate_shapes(
                    ShapesConfig(shapes=TRAINING_SHAPES, episodes=episodes, seed=TRAIN_SEED + seed)
                ).episodes
            ),
            "dialogue": lambda: (
                generate_dialogue(DialogueConfig(episodes=episodes, seed=TRAIN_SEED + seed)).episodes
            ),
        }
        return [e for part in parts for e in made[part]()]
    if fmt == "auto":
        fmt = "locomo" if "locomo" in Path(source).name.lower() else "longmemeval"
    return (load_locomo if fmt == "locomo" else load_longmemeval)(source).episodes


def selection_episodes(episodes: int = 8, seed: int = 0) -> list[Episode]:
    """Episodes of the shapes training never sees (`episodes.shapes.HELD_OUT`), `episodes` of each, from
    seeds apart from training's and evaluation's: what `train_controller` selects the epoch on."""
    from agentmem.episodes import HELD_OUT, ShapesConfig, generate_shapes

    return generate_shapes(ShapesConfig(shapes=HELD_OUT, episodes=episodes, seed=SELECTION_SEED + seed)).episodes


def train_controller(
    episodes: Sequence[Episode],
    encoder: Encoder,
    *,
    gate_episodes: Sequence[Episode] | None = None,
    selection_episodes: Sequence[Episode] | None = None,
    config: LearnedConfig | None = None,
    training: ControllerTrainingConfig | None = None,
    progress: bool = False,
) -> TrainingResult:
    """The recipe of the module docstring: fit the gate on `gate_episodes` (default: `episodes`), replay
    `episodes`, fit the scorer, keeping the epoch that reads `selection_episodes` best (episodes of
    other shapes than `episodes`; None: a held-out split of `episodes`' questions). `progress` shows a
    progress bar per stage on stderr."""
    from rich.progress import Progress

    start = time.perf_counter()
    training = training or ControllerTrainingConfig()
    model = LearnedController(config or LearnedConfig())
    gate_episodes = episodes if gate_episodes is None else gate_episodes
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("write-gate pairs", total=len(gate_episodes))
        pairs = []
        for ep in gate_episodes:
            vectors = encoder.encode([t.text for t in ep.turns])
            pairs += gate_pairs(ep.turns, vectors, model.config.gate.candidates)
            bar.advance(task)
        gate = fit_gate(model.gate, pairs, seed=training.seed)
        task = bar.add_task("replay episodes", total=len(episodes))
        examples = replay(model, episodes, encoder, progress=lambda n: bar.advance(task, n))
        selection = None
        if selection_episodes:
            task = bar.add_task("replay selection episodes", total=len(selection_episodes))
            advance = lambda n: bar.advance(task, n)  # noqa: E731
            selection = replay(model, selection_episodes, encoder, progress=advance, add_gold=False)
    if not examples:
        raise ValueError("no question's evidence could be found among the episodes' turns")
    report = fit(model, examples, training, selection)
    if selection is None:  # the questions `fit` held out
        selection, _ = _validation_split(examples, training.val_fraction, random.Random(training.seed))
    report.redundancy_recall = choose_redundancy(model, selection)
    report.redundancy = model.config.scoring.redundancy
    return TrainingResult(model, report, gate, len(examples), time.perf_counter() - start)


def choose_redundancy(
    controller: LearnedController, examples: Sequence[Example], grid: Sequence[float] = REDUNDANCY_GRID
) -> dict[str, list[float]]:
    """Set the controller's redundancy penalty λ to the value of `grid` whose top 10 (`scoring.select`)
    reads `examples` best: recall_any@10 + recall_all@10, a tie going to the smaller λ. Returns each
    value's [recall_any@10, recall_all@10]."""
    scored = [(e, controller.scorer.score(e.candidates, e.query)[0]) for e in examples]
    found: dict[str, list[float]] = {}
    best, best_sum = 0.0, -math.inf
    for lam in sorted(grid):
        found[str(lam)] = selected_recall(scored, lam)
        if sum(found[str(lam)]) > best_sum:
            best, best_sum = lam, sum(found[str(lam)])
    controller.config.scoring.redundancy = best
    return found


def selected_recall(scored: Sequence[tuple[Example, np.ndarray]], redundancy: float) -> list[float]:
    """[recall_any@10, recall_all@10] of examples given with their candidates' scores (C,), each read's
    top 10 taken as a read takes it (`scoring.select` with penalty `redundancy`)."""
    hits = [_hits(select(scores, e.candidates.keys, 10, redundancy)[0].tolist(), e) for e, scores in scored]
    return [float(np.mean([h[0] for h in hits])), float(np.mean([h[1] for h in hits]))]


def _hits(top: Sequence[int], e: Example) -> tuple[float, float]:
    """(recall_any, recall_all) of one example's top candidates: a gold memory missing from the
    candidates is a miss."""
    found = len(set(top) & set(e.gold))
    return float(found > 0), float(found == len(e.gold) and not e.missing and found > 0)


def _validation_split(
    examples: Sequence[Example], fraction: float, rng: random.Random
) -> tuple[list[Example], list[Example]]:
    """(held out, the rest): a `fraction` of the examples drawn by `rng`."""
    order = list(range(len(examples)))
    rng.shuffle(order)
    n_val = int(len(order) * fraction)
    return [examples[i] for i in order[:n_val]], [examples[i] for i in order[n_val:]]


def replay(
    controller: LearnedController,
    episodes: Sequence[Episode],
    encoder: Encoder,
    *,
    progress: Callable[[int], None] | None = None,
    add_gold: bool = True,
) -> list[Example]:
    """Write each episode into a private Memory read by `controller` and gather every question. With
    `add_gold` the gold memories join each candidate set (training); without it the candidates are a
    read's own (measuring recall)."""
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
            stored = dict(zip([t.id for t in turns], ids, strict=True))
            slot_of = {r.id: r.slot for r in mem.backend.rows_by_id(list(set(ids))).values()}
            items = ep.items
            qvecs = encoder.encode_queries([q.question for q in items]) if items else []
            reader = mem.backend.reader()
            for q, vec in zip(items, qvecs, strict=True):
                gold_slots = sorted({slot_of[stored[e]] for e in q.evidence if e in stored})
                if not gold_slots:
                    continue
                read = ReadQuery(q.question, vec, 10, ("episode",), (), parse_time(q.time))
                cand = controller.gather(read, reader, extra=gold_slots if add_gold else ())
                pos = {int(s): i for i, s in enumerate(cand.slots)}
                gold = [pos[s] for s in gold_slots if s in pos]
                examples.append(Example(cand, vec, gold, len(gold_slots) - len(gold)))
        if progress:
            progress(1)
    return examples


def fit(
    controller: LearnedController,
    examples: Sequence[Example],
    config: ControllerTrainingConfig,
    selection: Sequence[Example] | None = None,
) -> TrainingReport:
    """Fit the controller's scorer on gathered examples; keeps the weights of the epoch with the best
    validation recall_any@10 + recall_all@10, measured on `selection` (examples gathered without their
    gold added: episodes of shapes not trained on) or, without it, on a held-out split of `examples`."""
    start = time.perf_counter()
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    if selection is None:
        val, train = _validation_split(examples, config.val_fraction, rng)
    else:
        val, train = list(selection), list(examples)
    report = TrainingReport(n_train=len(train), n_val=len(val))
    scorer = controller.scorer
    opt = torch.optim.Adam(scorer.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    best, best_state = -math.inf, None
    for epoch in range(config.epochs):
        scorer.train()
        rng.shuffle(train)
        losses = []
        for i in range(0, len(train), config.batch_size):
            loss = _loss(scorer, train[i : i + config.batch_size], config.all_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        scorer.eval()
        with torch.no_grad():
            vl, v_any, v_all = evaluate(scorer, val, config.all_weight) if val else (math.nan,) * 3
        report.train_loss.append(float(np.mean(losses)) if losses else math.nan)
        report.val_loss.append(vl)
        report.val_recall_any_at_10.append(v_any)
        report.val_recall_all_at_10.append(v_all)
        score = v_any + v_all if val else -report.train_loss[-1]
        if score > best:
            best, report.best_epoch = score, epoch
            best_state = {k: v.detach().clone() for k, v in scorer.state_dict().items()}
        log.info(
            "epoch %d: train loss %.4f, val loss %.4f, val recall_any@10 %.3f, recall_all@10 %.3f",
            epoch,
            report.train_loss[-1],
            vl,
            v_any,
            v_all,
        )
    if best_state is not None:
        scorer.load_state_dict(best_state)
    controller.eval()
    report.seconds = time.perf_counter() - start
    return report


def _loss(scorer: torch.nn.Module, batch: Sequence[Example], all_weight: float) -> torch.Tensor:
    """The module docstring's loss, averaged over the batch's examples that have a gold candidate."""
    batch = [e for e in batch if e.gold]
    scores, _ = scorer(*collate([e.candidates for e in batch], [e.query for e in batch]))
    gold = torch.zeros_like(scores, dtype=torch.bool)
    for i, e in enumerate(batch):
        gold[i, e.gold] = True
    log_w = torch.log_softmax(scores, dim=-1)
    any_loss = -torch.logsumexp(log_w.masked_fill(~gold, -math.inf), dim=-1)  # (B,)
    if not all_weight:
        return any_loss.mean()
    # Each gold candidate against the non-gold ones only: logsumexp over {g} ∪ non-gold, per g.
    negatives = torch.logsumexp(scores.masked_fill(gold, -math.inf), dim=-1, keepdim=True)  # (B, 1)
    each = (torch.logaddexp(scores, negatives) - scores).masked_fill(~gold, 0.0)  # (B, C): -log p(g wins)
    all_loss = each.sum(-1) / gold.sum(-1)
    return (any_loss + all_weight * all_loss).mean()


def evaluate(
    scorer: torch.nn.Module, examples: Sequence[Example], all_weight: float
) -> tuple[float, float, float]:
    """Mean loss (examples with a gold candidate), recall_any@10 and recall_all@10 (a gold memory
    missing from the candidates is a miss) over examples, in batches."""
    losses, n_loss, hits_any, hits_all = 0.0, 0, [], []
    for i in range(0, len(examples), 256):
        batch = examples[i : i + 256]
        with_gold = [e for e in batch if e.gold]
        if with_gold:
            losses += float(_loss(scorer, with_gold, all_weight)) * len(with_gold)
            n_loss += len(with_gold)
        scores, _ = scorer(*collate([e.candidates for e in batch], [e.query for e in batch]))
        top = torch.topk(scores, k=min(10, scores.shape[1]), dim=-1).indices.tolist()
        for j, e in enumerate(batch):
            found_any, found_all = _hits(top[j], e)
            hits_any.append(found_any)
            hits_all.append(found_all)
    return losses / max(n_loss, 1), float(np.mean(hits_any)), float(np.mean(hits_all))


def plot_report(report: TrainingReport, path: str | Path) -> None:
    """The training curves as a PNG (needs matplotlib: `pip install agentmem[train]`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.plot(report.train_loss, label="train")
    a.plot(report.val_loss, label="validation")
    a.set_xlabel("epoch")
    a.set_ylabel("-log gold read weight")
    a.legend()
    b.plot(report.val_recall_any_at_10)
    b.axvline(report.best_epoch, ls=":", c="grey")
    b.set_xlabel("epoch")
    b.set_ylabel("validation recall_any@10")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
