"""agentmem: persistent, trainable memory for LLM agents.

`from agentmem import Memory` is the whole public API for most users. Everything named in `__all__`
is importable from here; heavy modules (torch, sentence-transformers, faiss) load on first use of
what needs them, not on import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentmem.errors import (
    AgentMemError,
    ClosedError,
    CorruptStoreError,
    DuplicateIdError,
    EmptyTextError,
    EncoderLoadError,
    EncoderMismatchError,
    IdInUseError,
    InputTooLargeError,
    InvalidInputError,
    InvalidTypeError,
    MissingDependencyError,
    NotFoundError,
    SchemaVersionError,
    ServerError,
    StoreBusyError,
    StorePathError,
    TextTooLongError,
)

if TYPE_CHECKING:
    __version__: str
    from agentmem.controller import (
        Controller,
        CosineConfig,
        CosineController,
        PendingWrite,
        ReadHit,
        ReadQuery,
        WriteDecision,
    )
    from agentmem.memory import Memory, MemoryConfig
    from agentmem.records import Explanation, MemoryRecord, MemoryVersion, RecallResult

_LAZY = {
    "Memory": "agentmem.memory",
    "MemoryConfig": "agentmem.memory",
    "MemoryRecord": "agentmem.records",
    "MemoryVersion": "agentmem.records",
    "RecallResult": "agentmem.records",
    "Explanation": "agentmem.records",
    "Controller": "agentmem.controller",
    "CosineConfig": "agentmem.controller",
    "CosineController": "agentmem.controller",
    "PendingWrite": "agentmem.controller",
    "ReadHit": "agentmem.controller",
    "ReadQuery": "agentmem.controller",
    "WriteDecision": "agentmem.controller",
}

__all__ = [
    "AgentMemError",
    "ClosedError",
    "Controller",
    "CorruptStoreError",
    "CosineConfig",
    "CosineController",
    "DuplicateIdError",
    "EmptyTextError",
    "EncoderLoadError",
    "EncoderMismatchError",
    "Explanation",
    "IdInUseError",
    "InputTooLargeError",
    "InvalidInputError",
    "InvalidTypeError",
    "Memory",
    "MemoryConfig",
    "MemoryRecord",
    "MemoryVersion",
    "MissingDependencyError",
    "NotFoundError",
    "PendingWrite",
    "ReadHit",
    "ReadQuery",
    "RecallResult",
    "SchemaVersionError",
    "ServerError",
    "StoreBusyError",
    "StorePathError",
    "TextTooLongError",
    "WriteDecision",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read on demand: importlib.metadata costs a command's start 20 ms
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("agentmem")
        except PackageNotFoundError:  # imported from a source tree that was never installed
            return "0+unknown"
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'agentmem' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
