"""Encode texts once and share the vectors across systems and reruns.

Encoding is the slow part of an evaluation on CPU (~450 sentences/s for MiniLM), while every
vector-based system needs the same vectors. `CachedEncoder` encodes each distinct text once and keeps
the vectors in an SQLite file keyed by (encoder name, SHA-1 of the text), as float16 to halve the disk.
Vectors always pass through float16, so a cold run and a warm run rank identically.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_SQL_VARS = 900  # stay under SQLite's default limit on bound parameters


def default_cache_dir() -> Path:
    """$AGENTMEM_EVAL_CACHE, else the per-user cache directory."""
    if env := os.environ.get("AGENTMEM_EVAL_CACHE"):
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("agentmem")) / "eval"


@dataclass
class CacheConfig:
    """directory: where `embeddings.sqlite` lives (None: `default_cache_dir()`); enabled=False: no disk."""

    directory: Path | None = None
    enabled: bool = True
    batch_size: int = 256


class CachedEncoder:
    """Wraps an `agentmem.encoder.Encoder` with a persistent, de-duplicating vector cache."""

    def __init__(self, encoder, config: CacheConfig | None = None) -> None:
        self.encoder = encoder
        self.config = config or CacheConfig()
        self.name = encoder.name
        self._db: sqlite3.Connection | None = None
        self._memory: dict[tuple[str, bytes], np.ndarray] = {}
        if self.config.enabled:
            directory = Path(self.config.directory or default_cache_dir())
            directory.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(directory / "embeddings.sqlite", timeout=60)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS vec (kind TEXT, model TEXT, h BLOB, v BLOB, "
                             "PRIMARY KEY (kind, model, h))")

    @property
    def dim(self) -> int:
        return self.encoder.dim

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Document vectors, float32 `(n, dim)`."""
        return self._get("doc", texts, self.encoder.encode, progress)

    def encode_queries(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Query vectors, float32 `(n, dim)` (asymmetric encoders embed queries differently)."""
        return self._get("query", texts, self.encoder.encode_queries, progress)

    def _get(self, kind: str, texts: Sequence[str], fn, progress: bool) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).digest() for t in texts]
        unique = list(dict.fromkeys(keys))
        found = self._lookup(kind, unique)
        missing = [k for k in unique if k not in found]
        if missing:
            text_of = dict(zip(keys, texts, strict=True))
            found.update(self._compute(kind, missing, text_of, fn, progress))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = found[k]
        return out

    def _lookup(self, kind: str, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        found = {k: v for k in keys if (v := self._memory.get((kind, k))) is not None}
        if self._db is None:
            return found
        todo = [k for k in keys if k not in found]
        for i in range(0, len(todo), _SQL_VARS):
            chunk = todo[i : i + _SQL_VARS]
            rows = self._db.execute(
                f"SELECT h, v FROM vec WHERE kind=? AND model=? AND h IN ({','.join('?' * len(chunk))})",
                [kind, self.name, *chunk])
            for h, v in rows:
                found[h] = self._memory[(kind, h)] = np.frombuffer(v, dtype=np.float16).astype(np.float32)
        return found

    def _compute(self, kind, keys, text_of, fn, progress) -> dict[bytes, np.ndarray]:
        from tqdm import tqdm

        out: dict[bytes, np.ndarray] = {}
        step = self.config.batch_size
        bar = tqdm(total=len(keys), desc="encode " + {"doc": "documents", "query": "queries"}[kind], unit="text", disable=not progress, leave=False)
        for i in range(0, len(keys), step):
            chunk = keys[i : i + step]
            vecs = np.asarray(fn([text_of[k] for k in chunk]), dtype=np.float32).astype(np.float16)
            if self._db is not None:
                with self._db:
                    self._db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?, ?, ?)",
                                         [(kind, self.name, k, v.tobytes()) for k, v in zip(chunk, vecs, strict=True)])
            for k, v in zip(chunk, vecs, strict=True):
                out[k] = self._memory[(kind, k)] = v.astype(np.float32)
            bar.update(len(chunk))
        bar.close()
        return out

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
