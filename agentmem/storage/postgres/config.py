"""PostgresConfig: the PostgreSQL backend's settings, whose defaults are what ships.

Kept apart from the backend so that `MemoryConfig` can hold one without importing psycopg: a store
that is a directory never loads the database client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from agentmem.errors import InvalidInputError
from agentmem.storage.local.lexical import LexicalConfig

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass
class PostgresConfig:
    """schema: the PostgreSQL schema holding the store's tables; one database holds as many stores as
        it has schemas.
    index: the dense index of a new store ("hnsw": pgvector's HNSW over every key, for reads of the
        whole store; "flat": none, every read scans exactly); a store keeps the kind it was made with.
    hnsw_m, hnsw_ef_construction: the HNSW graph's degree and build beam (pgvector's defaults).
    hnsw_ef_search: the HNSW search beam of a read of the whole store; with `iterative_scan`, a read
        whose filter hides most of the beam's hits scans on until it has its k (pgvector 0.8).
    exact_scope_max: a read scoped to a namespace scans that namespace's keys exactly while it holds
        at most this many; past it, the scan goes through the HNSW index, filtered to the namespace.
    client_scan_max: a batch of query vectors (a bulk write's duplicate check) into a namespace of at
        most this many keys fetches the keys once and scores them here, not once per query in SQL.
    lock_timeout_s: how long a statement waits for a lock another connection holds (a concurrent
        writer into the same namespace) before StoreBusyError.
    connect_timeout_s: how long opening a connection waits for the server.
    pool_size: idle connections kept for reads: a learned read runs its lexical and dense searches on
        two at once.
    lexical: BM25 and tokenisation, those of the local backend (storage/local/lexical.py).
    """

    schema: str = "agentmem"
    index: Literal["hnsw", "flat"] = "hnsw"
    hnsw_m: int = 16
    hnsw_ef_construction: int = 64
    hnsw_ef_search: int = 100
    iterative_scan: bool = True
    exact_scope_max: int = 50_000
    client_scan_max: int = 100_000
    lock_timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    pool_size: int = 4
    lexical: LexicalConfig = field(default_factory=LexicalConfig)

    def __post_init__(self) -> None:
        if not _IDENTIFIER.fullmatch(self.schema):
            raise InvalidInputError(
                f"PostgresConfig.schema {self.schema!r} is not a plain identifier; use lower-case letters, "
                "digits and underscores, starting with a letter"
            )
        if self.index not in ("hnsw", "flat"):
            raise InvalidInputError(f"unknown index kind {self.index!r}; use 'flat' or 'hnsw'")
