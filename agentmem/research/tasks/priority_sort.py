"""Priority sort (NTM paper, section 4.5): output the highest-priority vectors, sorted by priority.

Input channels: 8 bits + priority (uniform in [-1, 1]) + delimiter. Layout: 20 vectors with their
priorities, a delimiter step, then 16 output steps whose targets are the 16 highest-priority vectors in
descending priority order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from agentmem.research.tasks.base import Batch, random_bits, scaled


@dataclass(frozen=True)
class PrioritySortConfig:
    bits: int = 8
    inputs: int = 20
    outputs: int = 16


class PrioritySortTask:
    name = "priority_sort"
    kind = "bits"
    curriculum_threshold = 2.0

    def __init__(self, config: PrioritySortConfig = PrioritySortConfig()) -> None:
        self.config = config
        self.input_size = config.bits + 2
        self.output_size = config.bits

    def sample(self, batch_size: int, *, generator: torch.Generator, difficulty: float = 1.0) -> Batch:
        cfg = self.config
        n_in = scaled(2, cfg.inputs, difficulty)
        n_out = max(1, math.ceil(n_in * cfg.outputs / cfg.inputs))
        vectors = random_bits(batch_size, n_in, cfg.bits, generator=generator)
        priority = torch.rand(batch_size, n_in, generator=generator) * 2 - 1
        steps = n_in + 1 + n_out
        inputs = torch.zeros(batch_size, steps, self.input_size)
        inputs[:, :n_in, : cfg.bits] = vectors
        inputs[:, :n_in, cfg.bits] = priority
        inputs[:, n_in, cfg.bits + 1] = 1
        order = priority.argsort(dim=1, descending=True)[:, :n_out]
        targets = torch.zeros(batch_size, steps, cfg.bits)
        targets[:, n_in + 1 :] = vectors.gather(1, order.unsqueeze(-1).expand(-1, -1, cfg.bits))
        mask = torch.zeros(batch_size, steps, dtype=torch.bool)
        mask[:, n_in + 1 :] = True
        return Batch(inputs, targets, mask)
