"""Copy on short sequences, with and without the length curriculum: when does a model start using memory?

Tiny settings so that one run takes seconds to a minute and a half on one CPU thread: LSTM controller
with 64 units, N = 16, W = 16, 1 read head, batch 16, clip 10, lengths 1..MAX_LENGTH, Adam 1e-3 unless
--optimizer / --lr say otherwise (rmsprop is RMSProp with momentum 0.9, the NTM paper's optimiser).
Prints the mean training bit errors per sequence of each block of 100 steps, with the curriculum
difficulty at the start of the block.

    OMP_NUM_THREADS=1 nice -n 19 python eval/results/classic/curriculum_check.py sam --max-length 8 \
        --steps 2400 [--curriculum] [--seed 0] [--optimizer rmsprop --lr 3e-4]
"""

from __future__ import annotations

import argparse
import time

import torch

from agentmem.research.models import ControllerConfig, build_model
from agentmem.research.tasks import CopyConfig, CopyTask
from agentmem.research.trainer import TrainConfig, train


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", choices=["ntm", "dnc", "sam", "lstm"])
    parser.add_argument("--max-length", type=int, default=8)
    parser.add_argument("--steps", type=int, default=2400)
    parser.add_argument("--curriculum", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--optimizer", choices=["adam", "rmsprop"], default="adam")
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    task = CopyTask(CopyConfig(max_length=args.max_length))
    memory = {"memory_size": 16, "word_size": 16, "read_heads": 1}
    model = build_model(
        args.model,
        input_size=task.input_size,
        output_size=task.output_size,
        controller=ControllerConfig(hidden_size=64),
        **({} if args.model == "lstm" else memory),
    )
    start = time.perf_counter()
    config = TrainConfig(
        steps=args.steps,
        batch_size=16,
        learning_rate=args.lr,
        optimizer=args.optimizer,
        curriculum=args.curriculum,
        seed=args.seed,
    )
    history = train(model, task, config)
    blocks = [history[i : i + 100] for i in range(0, len(history), 100)]
    means = [round(sum(r["metric"] for r in block) / len(block), 2) for block in blocks]
    difficulties = [round(block[0]["difficulty"], 1) for block in blocks]
    print(
        f"{args.model} max_length={args.max_length} curriculum={args.curriculum} seed={args.seed} "
        f"{args.optimizer} lr={args.lr}"
    )
    print("bit errors / sequence per 100 steps:", means)
    if args.curriculum:
        print("curriculum difficulty:", difficulties)
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
