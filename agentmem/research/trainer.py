"""The training loop for the classic tasks: gradient clipping, an optional length curriculum, evaluation.

By default every batch is drawn from the task's full range (copy: lengths 1-20), as in the NTM paper.
The optional curriculum raises the task's difficulty (e.g. copy's maximum length) by
`curriculum_increment` whenever the mean training metric of the last `curriculum_window` steps at the
current difficulty is below the task's threshold (1 bit error per sequence for copy). It is off by
default because its first stages are short enough for the LSTM controller to solve without the memory:
NTM and SAM settled into that memory-free solution and stalled at lengths <= 11 for 15,000-20,000
steps, while on the full range SAM learned copy in about 1,000 steps (eval/results/classic/README.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from agentmem.research.tasks.base import Batch, Task, loss, metric


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 5000
    batch_size: int = 16
    learning_rate: float = 1e-3
    optimizer: str = "adam"  # "adam" | "rmsprop" (the NTM/DNC papers' choice)
    clip_grad: float = 10.0
    seed: int = 0
    curriculum: bool = False
    curriculum_start: float = 0.1
    curriculum_increment: float = 0.1
    curriculum_window: int = 50
    max_seconds: float | None = None  # stop early once training has run this long


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(model.parameters(), lr=config.learning_rate, momentum=0.9)
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    raise ValueError(f"unknown optimizer {config.optimizer!r}")


def train_step(
    model: nn.Module, task: Task, batch: Batch, optimizer: torch.optim.Optimizer, clip: float
) -> tuple[float, float]:
    """One gradient step on a batch -> (loss, metric)."""
    logits = model(batch.inputs)
    value = loss(task.kind, logits, batch)
    optimizer.zero_grad(set_to_none=True)
    value.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return value.item(), metric(task.kind, logits.detach(), batch)


def train(
    model: nn.Module,
    task: Task,
    config: TrainConfig = TrainConfig(),
    *,
    device: torch.device | str = "cpu",
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Train for `config.steps` steps (or `config.max_seconds`); one record per step is returned.

    Records hold step, loss, metric, difficulty and seconds since the start.
    """
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = make_optimizer(model, config)
    difficulty = config.curriculum_start if config.curriculum else 1.0
    window: list[float] = []
    history: list[dict[str, Any]] = []
    start = time.perf_counter()
    model.train()
    for step in range(1, config.steps + 1):
        batch = task.sample(config.batch_size, generator=generator, difficulty=difficulty).to(device)
        step_loss, step_metric = train_step(model, task, batch, optimizer, config.clip_grad)
        record = {
            "step": step,
            "loss": step_loss,
            "metric": step_metric,
            "difficulty": difficulty,
            "seconds": time.perf_counter() - start,
        }
        history.append(record)
        if on_step is not None:
            on_step(record)
        window = (window + [step_metric])[-config.curriculum_window :]
        solved = (
            len(window) == config.curriculum_window and sum(window) / len(window) < task.curriculum_threshold
        )
        if config.curriculum and difficulty < 1.0 and solved:
            difficulty = min(1.0, difficulty + config.curriculum_increment)
            window = []
        if config.max_seconds is not None and record["seconds"] > config.max_seconds:
            break
    return history


@torch.no_grad()
def evaluate(
    model: nn.Module,
    task: Task,
    *,
    batches: int = 4,
    batch_size: int = 32,
    seed: int = 12345,
    device: torch.device | str = "cpu",
    **sample: Any,
) -> dict[str, float]:
    """Mean loss and metric over fresh batches (`sample` is passed to task.sample, e.g. length=40)."""
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    losses, metrics = [], []
    for _ in range(batches):
        batch = task.sample(batch_size, generator=generator, **sample).to(device)
        logits = model(batch.inputs)
        losses.append(loss(task.kind, logits, batch).item())
        metrics.append(metric(task.kind, logits, batch))
    model.train()
    return {"loss": sum(losses) / batches, "metric": sum(metrics) / batches}


@torch.no_grad()
def evaluate_batches(
    model: nn.Module, task: Task, batches: list[Batch], *, device: torch.device | str = "cpu"
) -> dict[str, float]:
    """Metric over a fixed list of batches (a test set), weighted by the scored steps of each."""
    model.eval()
    wrong = total = 0.0
    for batch in batches:
        batch = batch.to(device)
        n = int(batch.mask.sum())
        wrong += metric(task.kind, model(batch.inputs), batch) * n
        total += n
    model.train()
    return {"metric": wrong / max(total, 1)}
