"""The controller: the policy that decides what to write where and how to read.

- `base`: the seam `Memory` talks to (`Controller`, `ReadQuery`, `ReadHit`, `PendingWrite`,
  `WriteDecision`).
- `cosine`: the non-learned baseline, content addressing by cosine.
- `candidates`: sparse candidate gathering from the backend, and the signals describing each candidate.
- `scoring`: the differentiable read over the candidates (strength, signals, links).
- `write_gate`: skip, update or allocate, the gate network, and how it is fitted.
- `learned`: the trained controller composing them, and its checkpoints.
- `train`: the training recipe (`agentmem train controller`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentmem.controller.base import Controller, PendingWrite, ReadHit, ReadQuery, WriteDecision
from agentmem.controller.cosine import CosineConfig, CosineController
from agentmem.errors import InvalidInputError

DEFAULT_CHECKPOINT = Path(__file__).parent.parent / "checkpoints" / "controller.safetensors"


def controller_source(spec: Any) -> Controller | Path:
    """Check a controller spec without loading anything: a Controller to use as it is, or the path of
    the learned checkpoint to load. "learned" (or None) -> the packaged checkpoint; "cosine" -> a
    CosineController (cheap to build); a checkpoint path -> that path; a Controller -> itself."""
    if spec is None or spec == "learned":
        if not DEFAULT_CHECKPOINT.is_file():
            raise InvalidInputError(
                f"the packaged controller checkpoint {DEFAULT_CHECKPOINT} is missing; reinstall agentmem, "
                "or pass controller='cosine' (or a checkpoint from `agentmem train controller`)"
            )
        return DEFAULT_CHECKPOINT
    if spec == "cosine":
        return CosineController()
    if isinstance(spec, Controller):
        return spec
    if isinstance(spec, (str, Path)) and Path(spec).is_file():
        return Path(spec)
    raise InvalidInputError(
        f"unknown controller {spec!r}; use 'learned', 'cosine', a checkpoint path from "
        "`agentmem train controller`, or a Controller instance"
    )


def resolve_controller(spec: Any) -> Controller:
    """Build a controller from a spec (see `controller_source`); a checkpoint loads torch and its weights."""
    source = controller_source(spec)
    if isinstance(source, Controller):
        return source
    from agentmem.controller.learned import LearnedController

    return LearnedController.load(source)


__all__ = [
    "DEFAULT_CHECKPOINT",
    "Controller",
    "CosineConfig",
    "CosineController",
    "PendingWrite",
    "ReadHit",
    "ReadQuery",
    "WriteDecision",
    "controller_source",
    "resolve_controller",
]
