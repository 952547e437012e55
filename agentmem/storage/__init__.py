"""Where memories live: the backend seam (`base`) and its implementations, `local` (a directory) and
`postgres` (a PostgreSQL database); `open_backend` picks one from a store's location (`location`).

The seam's names load on first use, so that `agentmem.storage.location` costs nothing to import.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentmem.storage.location import is_database_url, redact

if TYPE_CHECKING:
    from agentmem.storage.base import Backend, NewSlot, ReadBatch, SlotReader, SlotRow
    from agentmem.storage.local import LocalConfig
    from agentmem.storage.postgres import PostgresConfig

__all__ = [
    "Backend",
    "NewSlot",
    "ReadBatch",
    "SlotReader",
    "SlotRow",
    "is_database_url",
    "open_backend",
    "redact",
]


def open_backend(
    location: str | Path,
    *,
    local: LocalConfig | None = None,
    postgres: PostgresConfig | None = None,
    create: bool = True,
) -> Backend:
    """The backend of the store at `location`: a PostgreSQL database for a postgresql:// (or
    postgres://) URL, else a directory on this machine."""
    if is_database_url(location):
        from agentmem.storage.postgres.backend import PostgresBackend

        return PostgresBackend(str(location), postgres, create=create)
    from agentmem.storage.local import LocalBackend

    return LocalBackend(Path(location), local, create=create)


def __getattr__(name: str) -> Any:
    if name in ("Backend", "NewSlot", "ReadBatch", "SlotReader", "SlotRow"):
        from agentmem.storage import base

        return getattr(base, name)
    raise AttributeError(f"module 'agentmem.storage' has no attribute {name!r}")
