"""Neural Turing Machine memory (Graves et al. 2014): content + location addressing, one write head."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from agentmem.research import addressing as A
from agentmem.research.models.network import Field, MemoryCore


@dataclass(frozen=True)
class NTMConfig:
    """N slots of W words, R read heads and one write head, shifts over -(S//2)..S//2."""

    memory_size: int = 128
    word_size: int = 20
    read_heads: int = 1
    shift_width: int = 3
    init_value: float = 1e-6  # a tiny constant memory: cosine is defined and no slot is preferred


@dataclass
class NTMState:
    memory: torch.Tensor  # (B, N, W)
    weights: torch.Tensor  # (B, R + 1, N): read heads first, then the write head


class NTMMemory(MemoryCore):
    """Every head addresses by content, interpolates with its last weighting, shifts and sharpens."""

    def __init__(self, config: NTMConfig = NTMConfig()) -> None:
        super().__init__()
        self.config = config
        self.read_heads = config.read_heads
        self.word_size = config.word_size
        heads = config.read_heads + 1
        self.fields = [
            Field("keys", (heads, config.word_size)),
            Field("strengths", (heads,), "softplus"),
            Field("gates", (heads,), "sigmoid"),
            Field("shifts", (heads, config.shift_width), "softmax"),
            Field("gammas", (heads,), "oneplus"),
            Field("erase", (1, config.word_size), "sigmoid"),
            Field("add", (1, config.word_size), "tanh"),
        ]

    def initial_state(self, batch_size: int, device: torch.device) -> NTMState:
        cfg = self.config
        memory = torch.full((batch_size, cfg.memory_size, cfg.word_size), cfg.init_value, device=device)
        # Heads start focused on slot 0 so that shifting walks the memory from a known place.
        weights = torch.zeros(batch_size, cfg.read_heads + 1, cfg.memory_size, device=device)
        weights[..., 0] = 1
        return NTMState(memory, weights)

    def step(self, interface: dict[str, torch.Tensor], state: NTMState) -> tuple[torch.Tensor, NTMState]:
        content = A.content_weighting(state.memory, interface["keys"], interface["strengths"])
        gated = A.interpolate(content, state.weights, interface["gates"])
        weights = A.sharpen(A.circular_shift(gated, interface["shifts"]), interface["gammas"])
        read_w, write_w = weights[:, :-1], weights[:, -1:]
        memory = A.erase_and_write(state.memory, write_w, interface["erase"], interface["add"])
        return A.read_memory(memory, read_w), NTMState(memory, weights)
