"""What every task gives the trainer: batches, a loss and a metric.

Bit tasks (copy, repeat copy, associative recall, priority sort) emit targets of 0/1 bits scored with
sigmoid cross-entropy, and their metric is bit errors per sequence (the NTM/DNC papers' measure).
Class tasks (bAbI) emit one class id per scored step, cross-entropy, and the error rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F


@dataclass
class Batch:
    inputs: torch.Tensor  # (B, T, X) float
    targets: torch.Tensor  # (B, T, Y) float bits, or (B, T) int64 class ids
    mask: torch.Tensor  # (B, T) bool: steps that are scored

    def to(self, device: torch.device | str) -> Batch:
        return Batch(self.inputs.to(device), self.targets.to(device), self.mask.to(device))


class Task(Protocol):
    name: str
    input_size: int
    output_size: int
    kind: str  # "bits" | "classes"
    curriculum_threshold: float  # raise the difficulty once the training metric is below this

    def sample(self, batch_size: int, *, generator: torch.Generator, difficulty: float = 1.0) -> Batch: ...


def loss(kind: str, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Mean cross-entropy over the scored steps (and bits)."""
    if kind == "bits":
        per_bit = F.binary_cross_entropy_with_logits(logits, batch.targets, reduction="none")
        return per_bit[batch.mask].mean()
    return F.cross_entropy(logits[batch.mask], batch.targets[batch.mask])


@torch.no_grad()
def metric(kind: str, logits: torch.Tensor, batch: Batch) -> float:
    """Bit errors per sequence (bits tasks) or the fraction of wrong answers (class tasks)."""
    if kind == "bits":
        wrong = ((logits > 0).float() != batch.targets).float() * batch.mask.unsqueeze(-1)
        return wrong.sum().item() / logits.shape[0]
    predictions = logits[batch.mask].argmax(-1)
    return (predictions != batch.targets[batch.mask]).float().mean().item()


def scaled(low: int, high: int, difficulty: float) -> int:
    """The upper end of a range at a curriculum difficulty in (0, 1]: low at 0, high at 1."""
    return low + math.ceil(max(0.0, min(1.0, difficulty)) * (high - low))


def random_bits(*shape: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randint(0, 2, shape, generator=generator).float()


def randint(low: int, high: int, generator: torch.Generator) -> int:
    """Uniform integer in [low, high]."""
    return int(torch.randint(low, high + 1, (1,), generator=generator))
