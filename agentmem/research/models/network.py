"""The controller and head interface every memory model shares.

A `MemoryNetwork` is an LSTM controller wired to a `MemoryCore` (NTM, DNC or SAM memory), or to
none (the LSTM baseline). At each step the controller sees the input and the previous read vectors,
emits an interface vector that the core splits into its heads' parameters, and the output layer sees
the controller state and the new read vectors (DNC, "controller network").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class ControllerConfig:
    """LSTM controller: hidden size and an optional clip on the interface values (DNC clips at 20)."""

    hidden_size: int = 128
    clip: float = 20.0


@dataclass(frozen=True)
class Field:
    """One named slice of the interface vector: its shape and the activation that bounds it."""

    name: str
    shape: tuple[int, ...]
    activation: str | None = None  # "sigmoid" | "oneplus" | "softplus" | "softmax" | "tanh" | None

    @property
    def size(self) -> int:
        return int(torch.Size(self.shape).numel())


def _activate(x: torch.Tensor, activation: str | None) -> torch.Tensor:
    if activation is None:
        return x
    if activation == "sigmoid":
        return torch.sigmoid(x)
    if activation == "softplus":
        return F.softplus(x)
    if activation == "oneplus":  # strengths β and sharpening γ live in [1, inf)
        return 1 + F.softplus(x)
    if activation == "softmax":
        return torch.softmax(x, dim=-1)
    if activation == "tanh":
        return torch.tanh(x)
    raise ValueError(f"unknown activation {activation!r}")


def split_interface(interface: torch.Tensor, fields: list[Field]) -> dict[str, torch.Tensor]:
    """Split an interface vector (B, I) into named, activated tensors (B, *field.shape)."""
    parts = torch.split(interface, [f.size for f in fields], dim=-1)
    return {
        f.name: _activate(part.reshape(interface.shape[0], *f.shape), f.activation)
        for f, part in zip(fields, parts, strict=True)
    }


class MemoryCore(nn.Module):
    """What a memory offers the controller: an interface layout, a state, and a read/write step.

    Subclasses set `fields` (the interface layout), `read_heads` and `word_size`, and implement
    `initial_state` and `step`.
    """

    fields: list[Field]
    read_heads: int
    word_size: int

    @property
    def interface_size(self) -> int:
        return sum(f.size for f in self.fields)

    def initial_state(self, batch_size: int, device: torch.device) -> Any:
        raise NotImplementedError

    def step(self, interface: dict[str, torch.Tensor], state: Any) -> tuple[torch.Tensor, Any]:
        """One write and read. interface: `split_interface` output -> (reads (B, R, W), new state)."""
        raise NotImplementedError


class MemoryNetwork(nn.Module):
    """LSTM controller + optional memory core: inputs (B, T, X) -> output logits (B, T, Y)."""

    def __init__(
        self,
        *,
        input_size: int,
        output_size: int,
        controller: ControllerConfig = ControllerConfig(),
        core: MemoryCore | None = None,
    ) -> None:
        super().__init__()
        self.config = controller
        self.core = core
        read_size = core.read_heads * core.word_size if core is not None else 0
        self.read_size = read_size
        self.cell = nn.LSTMCell(input_size + read_size, controller.hidden_size)
        self.interface = nn.Linear(controller.hidden_size, core.interface_size) if core is not None else None
        self.output = nn.Linear(controller.hidden_size + read_size, output_size)

    def forward(self, inputs: torch.Tensor, state: Any = None) -> torch.Tensor:
        """inputs (B, T, X) -> logits (B, T, Y).

        `state` is the memory's starting state (default: a fresh one). SAM continues a given state in
        place (it holds a FAISS index), which lets a benchmark build a large memory once.
        """
        batch, steps, _ = inputs.shape
        h = inputs.new_zeros(batch, self.config.hidden_size)
        c = torch.zeros_like(h)
        reads = inputs.new_zeros(batch, self.read_size)
        if state is None and self.core is not None:
            state = self.core.initial_state(batch, inputs.device)
        outputs = []
        for t in range(steps):
            h, c = self.cell(torch.cat([inputs[:, t], reads], -1), (h, c))
            if self.core is not None:
                raw = self.interface(h).clamp(-self.config.clip, self.config.clip)
                read_vectors, state = self.core.step(split_interface(raw, self.core.fields), state)
                reads = read_vectors.flatten(1)
            outputs.append(self.output(torch.cat([h, reads], -1)))
        return torch.stack(outputs, 1)
