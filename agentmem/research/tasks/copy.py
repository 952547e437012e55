"""Copy (NTM paper, section 4.1): read a sequence of random 8-bit vectors, then write it back.

Input channels: 8 bits + a delimiter. Layout for length L: L input vectors, one delimiter step, then L
blank steps during which the targets are the L vectors. Trained on L in 1-20.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from agentmem.research.tasks.base import Batch, randint, random_bits, scaled


@dataclass(frozen=True)
class CopyConfig:
    bits: int = 8
    min_length: int = 1
    max_length: int = 20


class CopyTask:
    name = "copy"
    kind = "bits"
    curriculum_threshold = 1.0  # bit errors per sequence

    def __init__(self, config: CopyConfig = CopyConfig()) -> None:
        self.config = config
        self.input_size = config.bits + 1
        self.output_size = config.bits

    def sample(
        self,
        batch_size: int,
        *,
        generator: torch.Generator,
        difficulty: float = 1.0,
        length: int | None = None,
    ) -> Batch:
        """One length for the whole batch (uniform in the curriculum's range unless `length` is given)."""
        cfg = self.config
        if length is None:
            length = randint(cfg.min_length, scaled(cfg.min_length, cfg.max_length, difficulty), generator)
        steps = 2 * length + 1
        sequence = random_bits(batch_size, length, cfg.bits, generator=generator)
        inputs = torch.zeros(batch_size, steps, cfg.bits + 1)
        inputs[:, :length, : cfg.bits] = sequence
        inputs[:, length, cfg.bits] = 1
        targets = torch.zeros(batch_size, steps, cfg.bits)
        targets[:, length + 1 :] = sequence
        mask = torch.zeros(batch_size, steps, dtype=torch.bool)
        mask[:, length + 1 :] = True
        return Batch(inputs, targets, mask)
