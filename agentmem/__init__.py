"""agentmem: persistent, trainable memory for LLM agents.

`from agentmem import Memory` is the whole public API for most users; heavy modules (torch,
sentence-transformers, faiss) load on first use, not on import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from agentmem.memory import Memory, MemoryConfig
    from agentmem.records import MemoryRecord, RecallResult

__all__ = ["Memory", "MemoryConfig", "MemoryRecord", "RecallResult", "__version__"]

_LAZY = {
    "Memory": "agentmem.memory",
    "MemoryConfig": "agentmem.memory",
    "MemoryRecord": "agentmem.records",
    "RecallResult": "agentmem.records",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'agentmem' has no attribute {name!r}")
