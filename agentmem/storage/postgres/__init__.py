"""The PostgreSQL backend: one schema of a PostgreSQL database with pgvector, keyed by tenant
(docs/scale-out.md). `Memory("postgresql://user@host/db")` opens it.

Importing this package imports no database client: psycopg loads when a store is opened
(connect.py), so its absence is one line naming `pip install 'agentmem[postgres]'`.
"""

from agentmem.storage.location import is_database_url, redact
from agentmem.storage.postgres.config import PostgresConfig

__all__ = ["PostgresBackend", "PostgresConfig", "is_database_url", "redact"]


def __getattr__(name: str):  # noqa: ANN202 - the backend class, imported on first use
    if name == "PostgresBackend":
        from agentmem.storage.postgres.backend import PostgresBackend

        return PostgresBackend
    raise AttributeError(f"module 'agentmem.storage.postgres' has no attribute {name!r}")
