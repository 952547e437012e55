"""Ablations of the learned controller: remove one mechanism at a time and measure what it earns.

    .venv/bin/python benchmarks/ablations.py --locomo ../shared/datasets/locomo-dev \
        --out eval/results/ablations/ablations.json

Each variant is the packaged checkpoint with one mechanism switched off through configuration (a
weight zeroed, a candidate source not gathered, links counted without their coherence, without
telling a reply from a burst or a machine's reply from a person's, the top k by score without the
redundancy penalty, the lexical index built without
name phrases or over each memory's latest text alone, reads or writes that do not look up the
memories naming whom a text names, a write gate that never updates, no duplicate skip; nothing is
retrained), evaluated with agentmem's harness on locomo-dev (categories 1-4), on the generated shapes
training never sees (`agentmem eval shapes`' defaults) and on the synthetic agent-history suite (10k
observations, seed 0). Each row keeps recall twice: as scored, and with a gold turn the write gate
folded into another memory counted where that memory is returned (`merged`). `--checkpoint
NAME=PATH` adds other checkpoints as variants (the read modes and the context layer are trained by
`agentmem train controller --read-modes` / `--context 32`, not switched on afterwards). Six to
thirteen minutes here, with the machine's load.
"""

from __future__ import annotations

import argparse
import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from results_file import save

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def variants() -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """name -> (make the controller, make the MemoryConfig)."""
    from agentmem.controller import DEFAULT_CHECKPOINT
    from agentmem.controller.candidates import SIGNALS
    from agentmem.controller.learned import LearnedController
    from agentmem.memory import MemoryConfig

    base = LearnedController.load(DEFAULT_CHECKPOINT)

    def controller(
        *signals: str,
        links: bool = True,
        speakers: bool = True,
        machines: bool = True,
        session: bool = True,
        **config: Any,
    ) -> Callable[[], LearnedController]:
        """The checkpoint with `signals` weighted 0, the links off (or one weight per direction whoever
        spoke: `speakers` False; a machine's reply to a person weighed as any other reply: `machines`
        False), session pooling off, and `config` ("part__field": value) set."""

        def make() -> LearnedController:
            m = copy.deepcopy(base)
            with torch.no_grad():
                for s in signals:
                    m.scorer.signal_weight[SIGNALS.index(s)] = 0.0
                if not links:
                    m.scorer.link_weight.zero_()
                w = m.scorer.link_weight  # (direction, who spoke: same / another / machine reply, asks)
                if not speakers:
                    w.copy_(w.mean(1, keepdim=True).expand_as(w))
                if not machines:
                    w[:, 2] = w[:, 1]
                if not session:
                    m.scorer.session_weight.zero_()
            for key, value in config.items():
                part, name = key.split("__")
                setattr(getattr(m.config, part), name, value)
            return m

        return make

    def lexical(**fields: Any) -> Callable[[], MemoryConfig]:
        def make() -> MemoryConfig:
            config = MemoryConfig()
            for name, value in fields.items():
                setattr(config.storage.lexical, name, value)
            return config

        return make

    default = MemoryConfig
    return {
        "full (packaged checkpoint)": (controller(), default),
        "- lexical candidates and signal": (controller("lexical", candidates__lexical_k=0), default),
        "- temporal links": (controller(links=False, candidates__neighbours=0), default),
        "- link coherence (every link counts fully)": (controller(scoring__link_coherence=None), default),
        "- name phrases in the lexical index": (controller(), lexical(name_phrases=False)),
        "- naming at read (memories naming the asked-about person: its speaker, links cut)": (
            controller(candidates__naming=False),
            default,
        ),
        "- naming at write (the gate weighs only the G closest memories)": (controller(gate__naming=False), default),
        "- superseded versions in the lexical index (a memory's document is its latest text)": (
            controller(),
            lexical(superseded=False),
        ),
        "- links telling a reply from a burst (one weight per direction)": (controller(speakers=False), default),
        "- machine reply split of the links (a machine's reply to a person weighed as any reply)": (
            controller(machines=False),
            default,
        ),
        "- session pooling": (controller(session=False), default),
        "- redundancy penalty (the top k by score)": (controller(scoring__redundancy=0.0), default),
        "- time expressions in the query (when)": (controller("when"), default),
        "- how much a memory says (length)": (controller("length"), default),
        "- recency and time": (controller("recency", "time"), default),
        "- speaker": (controller("speaker"), default),
        "- write gate (update-instead-of-append)": (controller(gate__update_threshold=1.0), default),
        "- duplicate skip": (controller(gate__duplicate_cosine=2.0), default),
        "cosine baseline (no learned part)": (lambda: "cosine", default),
    }


def _scores(s: dict[str, Any]) -> dict[str, Any]:
    """The figures kept of one `agentmem eval` summary (or its `merged` block)."""
    return {
        "recall_any@10": s["recall_any@10"],
        "recall_all@10": s["recall_all@10"],
        "mrr": s["mrr"],
        "by_category": {
            c: {k: v[k] for k in ("recall_any@1", "recall_any@10", "recall_all@10")} for c, v in s["by_category"].items()
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--locomo", required=True, help="locomo10.json layout file or directory (dev split)")
    ap.add_argument("--observations", type=int, default=10_000, help="synthetic suite size")
    ap.add_argument("--checkpoint", action="append", default=[], metavar="NAME=PATH",
                    help="another checkpoint to evaluate as a variant named NAME")
    ap.add_argument("--only", default=None, help="comma-separated variant names (default: all)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    from agentmem_eval.runner import RunConfig, evaluate
    from agentmem_eval.systems import AgentMemConfig, SystemsConfig

    from agentmem.controller.learned import LearnedController
    from agentmem.episodes import (
        HELD_OUT,
        ShapesConfig,
        SyntheticConfig,
        generate,
        generate_shapes,
        load_locomo,
    )
    from agentmem.memory import MemoryConfig

    datasets = {
        "locomo-dev": lambda: load_locomo(args.locomo),
        "held-out-shapes": lambda: generate_shapes(ShapesConfig(shapes=HELD_OUT, episodes=10, seed=2000)),
        "synthetic-10k": lambda: generate(SyntheticConfig(observations=args.observations)),
    }
    table = variants()
    for spec in args.checkpoint:
        name, _, path = spec.partition("=")
        table[name] = (lambda path=path: LearnedController.load(path), MemoryConfig)
    if args.only:
        table = {name: table[name] for name in args.only.split(",")}
    rows = []
    for name, (make_controller, make_config) in table.items():
        row: dict = {"variant": name}
        for ds_name, load in datasets.items():
            settings = SystemsConfig(agentmem=AgentMemConfig(controller=make_controller(), memory=make_config()))
            result, _ = evaluate(load(), RunConfig(systems=("agentmem",), progress=False, settings=settings))
            s = result["systems"]["agentmem"]
            row[ds_name] = _scores(s)
            # A gold turn the write gate folded into another turn's memory is a miss above; here it
            # counts where that memory is returned, so a variant that merges less is not favoured.
            row[ds_name]["merged"] = _scores(s["merged"])
        rows.append(row)
        lo, ho, sy = row["locomo-dev"], row["held-out-shapes"], row["synthetic-10k"]
        ku = sy["by_category"].get("knowledge-update", {}).get("recall_any@1", float("nan"))
        hm = ho["merged"]
        print(
            f"{name:45s} locomo any/all@10 {lo['recall_any@10']:.3f}/{lo['recall_all@10']:.3f}  "
            f"held-out shapes any/all@10 {ho['recall_any@10']:.3f}/{ho['recall_all@10']:.3f} "
            f"(merged gold found: {hm['recall_any@10']:.3f}/{hm['recall_all@10']:.3f})  "
            f"synthetic any/all@10 {sy['recall_any@10']:.3f}/{sy['recall_all@10']:.3f}  "
            f"knowledge-update latest first {ku:.3f}",
            flush=True,
        )
    save({"rows": rows}, args.out)


if __name__ == "__main__":
    main()
