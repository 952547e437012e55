"""Differentiable Neural Computer memory (Graves et al. 2016): allocation, usage and temporal links."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from agentmem.research import addressing as A
from agentmem.research.models.network import Field, MemoryCore


@dataclass(frozen=True)
class DNCConfig:
    """N slots of W words, R read heads, one write head (as in the paper's experiments)."""

    memory_size: int = 64
    word_size: int = 16
    read_heads: int = 2


@dataclass
class DNCState:
    memory: torch.Tensor  # (B, N, W)
    usage: torch.Tensor  # (B, N)
    link: torch.Tensor  # (B, N, N)
    precedence: torch.Tensor  # (B, N)
    read_weights: torch.Tensor  # (B, R, N)
    write_weights: torch.Tensor  # (B, N)


class DNCMemory(MemoryCore):
    """Dense DNC memory: every step costs O(N^2) time and memory through the link matrix."""

    def __init__(self, config: DNCConfig = DNCConfig()) -> None:
        super().__init__()
        self.config = config
        self.read_heads = config.read_heads
        self.word_size = config.word_size
        r, w = config.read_heads, config.word_size
        self.fields = [
            Field("read_keys", (r, w)),
            Field("read_strengths", (r,), "oneplus"),
            Field("write_key", (1, w)),
            Field("write_strength", (1,), "oneplus"),
            Field("erase", (1, w), "sigmoid"),
            Field("write_vector", (1, w)),
            Field("free_gates", (r,), "sigmoid"),
            Field("allocation_gate", (), "sigmoid"),
            Field("write_gate", (), "sigmoid"),
            Field("read_modes", (r, 3), "softmax"),
        ]

    def initial_state(self, batch_size: int, device: torch.device) -> DNCState:
        n, w, r = self.config.memory_size, self.config.word_size, self.config.read_heads
        zeros = torch.zeros(batch_size, n, device=device)
        return DNCState(
            memory=torch.zeros(batch_size, n, w, device=device),
            usage=zeros,
            link=torch.zeros(batch_size, n, n, device=device),
            precedence=zeros,
            read_weights=torch.zeros(batch_size, r, n, device=device),
            write_weights=zeros,
        )

    def step(self, interface: dict[str, torch.Tensor], state: DNCState) -> tuple[torch.Tensor, DNCState]:
        psi = A.retention(interface["free_gates"], state.read_weights)
        usage = A.usage_update(state.usage, state.write_weights, psi)
        content_w = A.content_weighting(state.memory, interface["write_key"], interface["write_strength"])[
            :, 0
        ]
        write_w = A.write_weighting(
            content_w, A.allocation_weighting(usage), interface["allocation_gate"], interface["write_gate"]
        )
        memory = A.erase_and_write(
            state.memory, write_w.unsqueeze(1), interface["erase"], interface["write_vector"]
        )
        link = A.link_update(state.link, state.precedence, write_w)
        precedence = A.precedence_update(state.precedence, write_w)
        content_r = A.content_weighting(memory, interface["read_keys"], interface["read_strengths"])
        forward, backward = A.directional_weightings(link, state.read_weights)
        read_w = A.read_weighting(backward, content_r, forward, interface["read_modes"])
        reads = A.read_memory(memory, read_w)
        return reads, DNCState(memory, usage, link, precedence, read_w, write_w)
