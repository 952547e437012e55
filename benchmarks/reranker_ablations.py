"""What each part of the learned read earns, measured on the candidate sets themselves.

    .venv/bin/python benchmarks/reranker_ablations.py --locomo ../shared/datasets/locomo-dev \
        --out eval/results/ablations/reranker.json

Every episode is written into a private store and each question is gathered once, as
`agentmem train controller` does (`controller.train.replay`): the training shapes with their gold
added (to fit), the held-out shapes and locomo-dev without (to measure: a gold memory outside the
candidates is a miss). Then, on those fixed candidate sets:

- the packaged checkpoint, and the same with one part switched off (a signal's weight zeroed, the links,
  who spoke the links' two memories, their machine-reply split, session pooling);
- `zsum`, a fresh untrained scorer: z(cos) + z(BM25) over the same candidates;
- scorers trained here by the recipe's `fit` on the training shapes' candidate sets, selected on the
  held-out shapes as the recipe selects: the linear read, the linear read trained on the same episodes
  with every question in its template's words only (`ShapesConfig(echo=0)`), with links that tell
  whether the earlier memory asks (`ScoringConfig.link_asks`), with read modes, with a context layer.

Every row ranks a question's top 10 by score (`controller.train.evaluate`), as the epoch is selected,
but the first, the packaged read's own selection (`scoring.select` with the checkpoint's redundancy
penalty), and the second, the same scores without the penalty. Printed and saved: recall_any@10 /
recall_all@10 on locomo-dev, its multi-hop questions and each held-out shape. Writes bypass the write gate (each turn its own memory), as in training, so these
figures differ from `agentmem eval`'s by the gate's merges.
"""

from __future__ import annotations

import argparse
import copy
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch
from results_file import save

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--locomo", required=True, help="locomo10.json layout file or directory (dev split)")
    ap.add_argument("--episodes", type=int, default=15, help="training episodes per shape for the trained variants")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    from agentmem.controller import DEFAULT_CHECKPOINT
    from agentmem.controller.candidates import SIGNALS
    from agentmem.controller.learned import LearnedConfig, LearnedController
    from agentmem.controller.scoring import Scorer, ScoringConfig
    from agentmem.controller.train import (
        TRAIN_SEED,
        ControllerTrainingConfig,
        evaluate,
        fit,
        replay,
        selected_recall,
        selection_episodes,
        training_episodes,
    )
    from agentmem.encoder import resolve_encoder
    from agentmem.episodes import TRAINING_SHAPES, ShapesConfig, generate_shapes, load_locomo

    torch.set_num_threads(1)
    start = time.perf_counter()
    encoder = resolve_encoder()
    packaged = LearnedController.load(DEFAULT_CHECKPOINT)
    dev_eps = load_locomo(args.locomo).episodes
    dev = replay(packaged, dev_eps, encoder, add_gold=False)
    categories = [item.category for ep in dev_eps for item in ep.items]
    held: dict[str, list] = {}
    for ep in selection_episodes(seed=1):  # seeds apart from the recipe's own selection episodes
        held.setdefault(ep.id.rsplit("-", 2)[0], []).extend(replay(packaged, [ep], encoder, add_gold=False))
    train = replay(packaged, training_episodes("shapes", episodes=args.episodes), encoder)
    # The same episodes with every question in its template's words only (no echo of the evidence).
    plain = ShapesConfig(shapes=TRAINING_SHAPES, episodes=args.episodes, seed=TRAIN_SEED, echo=0.0)
    train_plain = replay(packaged, generate_shapes(plain).episodes, encoder)
    sets = {
        "locomo-dev": dev,
        "locomo-dev multi-hop": [e for e, c in zip(dev, categories, strict=True) if c == "multi-hop"],
        **held,
    }
    print(f"replayed in {time.perf_counter() - start:.0f} s: {len(train)} training questions", flush=True)

    def measure(scorer: torch.nn.Module) -> dict[str, list[float]]:
        with torch.no_grad():
            return {name: [round(x, 4) for x in evaluate(scorer, xs, 1.0)[1:]] for name, xs in sets.items()}

    def measure_selected(scorer: Scorer, redundancy: float) -> dict[str, list[float]]:
        """recall_any@10 / recall_all@10 of the top 10 a read returns (`scoring.select`)."""
        return {
            name: [round(x, 4) for x in selected_recall([(e, scorer.score(e.candidates, e.query)[0]) for e in xs], redundancy)]
            for name, xs in sets.items()
        }

    def switched(change: Callable[[Scorer], None]) -> Scorer:
        scorer = copy.deepcopy(packaged.scorer)
        with torch.no_grad():
            change(scorer)
        return scorer

    def zero(*signals: str) -> Callable[[Scorer], None]:
        return lambda s: [s.signal_weight[SIGNALS.index(x)].zero_() for x in signals]

    variants: dict[str, Callable[[], torch.nn.Module]] = {
        "full (packaged checkpoint, its top 10 by score)": lambda: packaged.scorer,
        **{f"- {signal}": (lambda s=signal: switched(zero(s))) for signal in ("lexical", "speaker", "when", "length")},
        "- recency and time": lambda: switched(zero("recency", "time")),
        "- links": lambda: switched(lambda s: s.link_weight.zero_()),
        "- who spoke the links' memories": lambda: switched(lambda s: _merge_link_axis(s, 1)),
        "- machine reply split of the links": lambda: switched(_merge_machine_replies),
        "- session pooling": lambda: switched(lambda s: s.session_weight.zero_()),
        "zsum (untrained scorer)": lambda: Scorer(packaged.config.scoring),
    }
    selection = [x for xs in held.values() for x in xs]
    for name, scoring, examples in (
        ("trained here: linear", ScoringConfig(), train),
        ("trained here: linear, questions without echo", ScoringConfig(), train_plain),
        ("trained here: + question / statement split of the links", ScoringConfig(link_asks=True), train),
        ("trained here: + read modes", ScoringConfig(read_modes=True), train),
        ("trained here: + context layer (32)", ScoringConfig(hidden=32), train),
    ):

        def train_one(scoring: ScoringConfig = scoring, examples: list = examples) -> torch.nn.Module:
            model = LearnedController(LearnedConfig(scoring=scoring))
            fit(model, examples, ControllerTrainingConfig(epochs=args.epochs), selection)
            return model.scorer

        variants[name] = train_one
    lam = packaged.config.scoring.redundancy
    rows = [{"variant": f"full (packaged checkpoint, the read's selection, redundancy {lam:g})",
             **measure_selected(packaged.scorer, lam)}]
    print(rows[0], flush=True)
    for name, make in variants.items():
        row = {"variant": name, **measure(make())}
        rows.append(row)
        shown = "  ".join(f"{k} {v[0]:.3f}/{v[1]:.3f}" for k, v in row.items() if k != "variant")
        print(f"{name:38s} {shown}", flush=True)
    save({"rows": rows, "episodes_per_shape": args.episodes, "epochs": args.epochs}, args.out)


def _merge_link_axis(scorer: torch.nn.Module, axis: int) -> None:
    """One link weight for every value of `axis` of the (direction, who spoke: same, another, a machine
    replying to a person; the earlier memory asks or not, where the links tell it) link weights: their
    mean."""
    w = scorer.link_weight
    w.copy_(w.mean(axis, keepdim=True).expand_as(w))


def _merge_machine_replies(scorer: torch.nn.Module) -> None:
    """A machine's reply to a person linked as any other speaker's reply."""
    w = scorer.link_weight
    w[:, 2] = w[:, 1]


if __name__ == "__main__":
    main()
