"""Associative recall (NTM paper, section 4.3): given a query item, output the item that followed it.

An item is 3 vectors of 6 bits. Input channels: 6 bits + item delimiter + query delimiter. Layout:
for each of 2-6 items, a delimiter step then its 3 vectors; a query delimiter, the query item (one of
the first n - 1 items), a query delimiter; then 3 output steps whose targets are the next item.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from agentmem.research.tasks.base import Batch, randint, random_bits, scaled


@dataclass(frozen=True)
class AssociativeRecallConfig:
    bits: int = 6
    item_length: int = 3
    min_items: int = 2
    max_items: int = 6


class AssociativeRecallTask:
    name = "associative_recall"
    kind = "bits"
    curriculum_threshold = 1.0

    def __init__(self, config: AssociativeRecallConfig = AssociativeRecallConfig()) -> None:
        self.config = config
        self.input_size = config.bits + 2
        self.output_size = config.bits

    def sample(
        self,
        batch_size: int,
        *,
        generator: torch.Generator,
        difficulty: float = 1.0,
        items: int | None = None,
    ) -> Batch:
        cfg = self.config
        n = items or randint(cfg.min_items, scaled(cfg.min_items, cfg.max_items, difficulty), generator)
        size = cfg.item_length
        block = size + 1
        steps = n * block + 1 + size + 1 + size
        contents = random_bits(batch_size, n, size, cfg.bits, generator=generator)
        inputs = torch.zeros(batch_size, steps, self.input_size)
        for i in range(n):
            inputs[:, i * block, cfg.bits] = 1
            inputs[:, i * block + 1 : (i + 1) * block, : cfg.bits] = contents[:, i]
        query = torch.randint(0, n - 1, (batch_size,), generator=generator)
        start = n * block
        inputs[:, start, cfg.bits + 1] = 1
        inputs[:, start + 1 : start + 1 + size, : cfg.bits] = contents[torch.arange(batch_size), query]
        inputs[:, start + 1 + size, cfg.bits + 1] = 1
        targets = torch.zeros(batch_size, steps, cfg.bits)
        targets[:, steps - size :] = contents[torch.arange(batch_size), query + 1]
        mask = torch.zeros(batch_size, steps, dtype=torch.bool)
        mask[:, steps - size :] = True
        return Batch(inputs, targets, mask)
