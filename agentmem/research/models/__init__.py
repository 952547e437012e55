"""Memory-augmented networks for the classic tasks: NTM, DNC, SAM (sparse DNC) and an LSTM baseline.

`build_model("sam", input_size=9, output_size=8)` returns a `MemoryNetwork` whose LSTM controller
drives the named memory core; "lstm" has no memory. Overrides go to the core's config dataclass.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from agentmem.research.models.dnc import DNCConfig, DNCMemory
from agentmem.research.models.memory_index import MemoryIndex, MemoryIndexConfig
from agentmem.research.models.network import ControllerConfig, MemoryCore, MemoryNetwork
from agentmem.research.models.ntm import NTMConfig, NTMMemory
from agentmem.research.models.sam import SAMConfig, SAMMemory

MODELS = ("ntm", "dnc", "sam", "lstm")
_CORES: dict[str, tuple[type, type[MemoryCore]]] = {
    "ntm": (NTMConfig, NTMMemory),
    "dnc": (DNCConfig, DNCMemory),
    "sam": (SAMConfig, SAMMemory),
}


def build_model(
    name: str,
    *,
    input_size: int,
    output_size: int,
    controller: ControllerConfig | None = None,
    **memory: Any,
) -> MemoryNetwork:
    """A controller + memory network; `memory` overrides fields of the core's config (unknown ones raise)."""
    controller = controller or ControllerConfig()
    if name == "lstm":
        return MemoryNetwork(input_size=input_size, output_size=output_size, controller=controller)
    if name not in _CORES:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    config_cls, core_cls = _CORES[name]
    known = {f.name for f in fields(config_cls)}
    config = replace(config_cls(), **{k: v for k, v in memory.items() if k in known and v is not None})
    unknown = set(memory) - known
    if unknown:
        raise ValueError(f"{name} has no option(s) {sorted(unknown)}")
    return MemoryNetwork(
        input_size=input_size, output_size=output_size, controller=controller, core=core_cls(config)
    )


__all__ = [
    "MODELS",
    "ControllerConfig",
    "DNCConfig",
    "DNCMemory",
    "MemoryIndexConfig",
    "MemoryCore",
    "MemoryIndex",
    "MemoryNetwork",
    "NTMConfig",
    "NTMMemory",
    "SAMConfig",
    "SAMMemory",
    "build_model",
]
