"""Repeat copy (NTM paper, section 4.2): copy a sequence a given number of times, then signal the end.

Input channels: 8 bits + delimiter + repeat count (normalised by the maximum). Output channels: 8 bits +
an end marker. Layout: L vectors, a delimiter step, a step carrying the count R / R_max, then L * R
output steps of copies and one end-marker step. L in 1-10, R in 1-10.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from agentmem.research.tasks.base import Batch, randint, random_bits, scaled


@dataclass(frozen=True)
class RepeatCopyConfig:
    bits: int = 8
    max_length: int = 10
    max_repeats: int = 10


class RepeatCopyTask:
    name = "repeat_copy"
    kind = "bits"
    curriculum_threshold = 1.0

    def __init__(self, config: RepeatCopyConfig = RepeatCopyConfig()) -> None:
        self.config = config
        self.input_size = config.bits + 2
        self.output_size = config.bits + 1

    def sample(
        self,
        batch_size: int,
        *,
        generator: torch.Generator,
        difficulty: float = 1.0,
        length: int | None = None,
        repeats: int | None = None,
    ) -> Batch:
        cfg = self.config
        length = length or randint(1, scaled(1, cfg.max_length, difficulty), generator)
        repeats = repeats or randint(1, scaled(1, cfg.max_repeats, difficulty), generator)
        out = length * repeats + 1
        steps = length + 2 + out
        sequence = random_bits(batch_size, length, cfg.bits, generator=generator)
        inputs = torch.zeros(batch_size, steps, self.input_size)
        inputs[:, :length, : cfg.bits] = sequence
        inputs[:, length, cfg.bits] = 1
        inputs[:, length + 1, cfg.bits + 1] = repeats / cfg.max_repeats
        targets = torch.zeros(batch_size, steps, self.output_size)
        targets[:, length + 2 : steps - 1, : cfg.bits] = sequence.repeat(1, repeats, 1)
        targets[:, steps - 1, cfg.bits] = 1
        mask = torch.zeros(batch_size, steps, dtype=torch.bool)
        mask[:, length + 2 :] = True
        return Batch(inputs, targets, mask)
