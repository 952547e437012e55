"""Ablations of the learned controller: remove one mechanism at a time and measure what it earns.

    .venv/bin/python benchmarks/ablations.py --locomo ../shared/datasets/locomo-dev \
        --key-rank-checkpoint runs/key16.safetensors --out eval/results/ablations/ablations.json

Each variant is the packaged checkpoint with one mechanism switched off (weights zeroed, candidates
not gathered, links counted without their coherence, the lexical index built without name phrases,
reads told that no memory names whom the query names, writes weighed against their closest memories
alone, or the lexical index built over each memory's latest text, not its superseded versions too;
nothing is retrained), evaluated with agentmem's harness on locomo-dev (categories 1-4)
and on the synthetic agent-history suite (10k observations, seed 0). The learned key is the exception:
the packaged recipe has none (key_rank 0), so its row is a checkpoint trained the same way with a
rank-16 key residual (`agentmem train controller --key-rank 16`), given with --key-rank-checkpoint.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np
import torch
from results_file import save

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def variants(key_rank_checkpoint: str | None) -> dict[str, Callable[[], object]]:
    from agentmem.controller import DEFAULT_CHECKPOINT
    from agentmem.memory_controller import MemoryController
    from agentmem.signals import SIGNALS

    base = MemoryController.load(DEFAULT_CHECKPOINT)

    def without(
        *signals: str,
        links: bool = False,
        lexical_k: bool = False,
        gate: bool = False,
        duplicates: bool = False,
        coherence: bool = False,
    ) -> Callable[[], MemoryController]:
        def make() -> MemoryController:
            m = copy.deepcopy(base)
            with torch.no_grad():
                for s in signals:
                    m.signal_weight[SIGNALS.index(s)] = 0.0
                if links:
                    m.link_weight.zero_()
                    m.config.neighbours = 0
                if gate:
                    m.gate_bias.fill_(-1e4)
            if lexical_k:
                m.config.lexical_k = 0
            if duplicates:
                m.config.duplicate_cosine = 2.0  # no cosine reaches it: every observation is written
            if coherence:
                m.config.link_coherence = None
            return m

        return make

    out: dict[str, Callable[[], object]] = {
        "full (packaged checkpoint)": lambda: copy.deepcopy(base),
        "- lexical candidates and signal": without("lexical", lexical_k=True),
        "- temporal links": without(links=True),
        "- link coherence (every link counts fully)": without(coherence=True),
        "- name phrases in the lexical index": lambda: copy.deepcopy(base),
        "- naming at read (memories naming the asked-about person: its speaker, links cut)": (
            lambda: copy.deepcopy(base)
        ),
        "- naming at write (the gate weighs only the G closest memories)": lambda: copy.deepcopy(base),
        "- superseded versions in the lexical index (a memory's document is its latest text)": (
            lambda: copy.deepcopy(base)
        ),
        "- recency and time": without("recency", "time"),
        "- speaker": without("speaker"),
        "- write gate (update-instead-of-append)": without(gate=True),
        "- duplicate skip": without(duplicates=True),
        "cosine baseline (no learned part)": lambda: "cosine",
    }
    if key_rank_checkpoint:
        out["+ learned key (rank 16, retrained)"] = lambda: MemoryController.load(key_rank_checkpoint)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--locomo", required=True, help="locomo10.json layout file or directory (dev split)")
    ap.add_argument("--observations", type=int, default=10_000, help="synthetic suite size")
    ap.add_argument("--key-rank-checkpoint", default=None, help="a checkpoint trained with --key-rank 16")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    from agentmem_eval.runner import RunConfig, evaluate
    from agentmem_eval.systems import AgentMemConfig, SystemsConfig

    from agentmem.episodes import SyntheticConfig, generate, load_locomo
    from agentmem.memory import _SlotView

    datasets = {
        "locomo-dev": lambda: load_locomo(args.locomo),
        "synthetic-10k": lambda: generate(SyntheticConfig(observations=args.observations)),
    }
    rows = []
    for name, make in variants(args.key_rank_checkpoint).items():
        row: dict = {"variant": name}
        # The lexical index is the memory's, not the controller's: its variant builds it without phrases;
        # the naming-at-read variant reads as if no memory named whom the query names, and the
        # naming-at-write one writes as if no observation named anyone; the superseded-versions one
        # indexes each memory's latest text alone.
        if "name phrases" in name:
            phrases_off = mock.patch("agentmem.lexical.name_phrases", lambda text: [])
        elif "naming at read" in name:
            phrases_off = mock.patch.object(_SlotView, "naming", lambda self, text: np.zeros(0, np.int64))
        elif "naming at write" in name:
            phrases_off = mock.patch("agentmem.memory_controller.name_phrases", lambda text: [])
        elif "superseded versions" in name:
            phrases_off = mock.patch("agentmem.store._DOCUMENT", "text")
        else:
            phrases_off = contextlib.nullcontext()
        for ds_name, load in datasets.items():
            config = RunConfig(
                systems=("agentmem",),
                progress=False,
                settings=SystemsConfig(agentmem=AgentMemConfig(controller=make())),
            )
            with phrases_off:
                result, _ = evaluate(load(), config)
            s = result["systems"]["agentmem"]
            row[ds_name] = {
                "recall_any@10": s["recall_any@10"],
                "recall_all@10": s["recall_all@10"],
                "mrr": s["mrr"],
                "by_category": {
                    c: {k: v[k] for k in ("recall_any@1", "recall_any@10", "recall_all@10")}
                    for c, v in s["by_category"].items()
                },
            }
        rows.append(row)
        lo, sy = row["locomo-dev"], row["synthetic-10k"]
        ku = sy["by_category"].get("knowledge-update", {}).get("recall_any@1", float("nan"))
        print(
            f"{name:45s} locomo any/all@10 {lo['recall_any@10']:.3f}/{lo['recall_all@10']:.3f}  "
            f"synthetic any/all@10 {sy['recall_any@10']:.3f}/{sy['recall_all@10']:.3f}  "
            f"knowledge-update latest first {ku:.3f}",
            flush=True,
        )
    save({"rows": rows}, args.out)


if __name__ == "__main__":
    main()
