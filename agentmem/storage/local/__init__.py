"""The local backend: SQLite truth, FAISS and BM25 indexes and read columns in one store directory."""

from agentmem.storage.local.backend import LocalBackend, LocalConfig, LocalReader

__all__ = ["LocalBackend", "LocalConfig", "LocalReader"]
