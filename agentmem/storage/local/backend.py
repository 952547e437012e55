"""LocalBackend: a store in one directory on one machine.

    memory.db         SQLite (WAL): the truth (sqlite.py)
    index.faiss.npz   the dense index over the keys (dense.py), a cache
    lexical.npz       the BM25 index over the texts (lexical.py), a cache, built on the first lexical read
    (in memory)       the read columns of every slot (columns.py), a cache

Every cache remembers the position in the store's change log it reflects and catches up by replaying
it: after this process's commits (`transaction`), and before a read (`reader`) when another process
committed (SQLite's `data_version` tells, without I/O). Caches are saved on `close`; a crash costs a
replay at the next open, never a memory.

Locking: one SQLite connection per backend, guarded by the store's lock, held per statement (or per
transaction); `Memory` serialises its own calls above that. The lexical index has a lock of its own
for its first load, because a learned read searches it from a worker thread while the reading thread
scans the dense index (controller/candidates.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agentmem.errors import InvalidInputError
from agentmem.filters import Filter
from agentmem.storage.base import Backend, Namespace, NewSlot, ReadBatch, SlotReader, SlotRow, ns_prefix_range
from agentmem.storage.local.columns import ReadColumns, batch_from_rows
from agentmem.storage.local.dense import INDEX_FILE, IndexConfig, SlotIndex
from agentmem.storage.local.lexical import LEXICAL_FILE, LexicalConfig, LexicalIndex
from agentmem.storage.local.sqlite import SlotStore, StoreConfig

# Lexical hits checked for visibility before a read scores only the memories its scope allows.
_LEXICAL_OVERFETCH_CAP = 4096


@dataclass
class LocalConfig:
    """The local backend: SQLite (`sqlite`), the dense index (`index`), the lexical index (`lexical`).

    overfetch: dense or lexical candidates fetched per requested hit before the namespace, filter and
        expiry checks of a scoped read.
    """

    sqlite: StoreConfig = field(default_factory=StoreConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    lexical: LexicalConfig = field(default_factory=LexicalConfig)
    overfetch: int = 4


class LocalBackend(Backend):
    """A store directory: SQLite truth, FAISS and BM25 indexes, read columns (module docstring)."""

    def __init__(
        self, directory: str | Path, config: LocalConfig | None = None, *, create: bool = True
    ) -> None:
        self.config = config or LocalConfig()
        self.directory = Path(directory)
        self.store = SlotStore(self.directory, config=self.config.sqlite, create=create)
        self.index: SlotIndex | None = None  # open_index
        self._index_saved_seq = -1
        self._lexical: LexicalIndex | None = None  # loaded by the first lexical read (`lexical`)
        self._lexical_lock = threading.Lock()
        self._lexical_saved_seq = -1
        self.columns = ReadColumns()
        # When the first memory expires (store.earliest_expiry), read once after each change: until then
        # a read needs no expiry probe. None: not read since the last change.
        self._earliest_expiry: float | None = None
        self._data_version = self.store.data_version()

    def location(self) -> str:
        return str(self.directory)

    # -- the store's own facts --------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        return self.store.get_meta(key)

    def set_meta(self, key: str, value: str) -> None:
        self.store.set_meta(key, value)

    def open_index(self, dim: int, kind: str | None) -> None:
        kind = kind or self.store.get_meta("index_kind") or self.config.index.kind
        if kind not in ("flat", "hnsw"):
            raise InvalidInputError(f"unknown index kind {kind!r}; use 'flat' or 'hnsw'")
        self.config.index.kind = kind  # type: ignore[assignment]
        self.index = SlotIndex.open(self.directory, self.store, dim, self.config.index)
        self._index_saved_seq = self.index.seq if (self.directory / INDEX_FILE).exists() else -1
        if self.store.get_meta("index_kind") != kind:
            self.store.set_meta("index_kind", kind)

    @property
    def lexical(self) -> LexicalIndex:
        """The BM25 index, loaded (or built) on first use: a store read only through the cosine
        controller never pays for it."""
        with self._lexical_lock:
            if self._lexical is None:
                self._lexical = LexicalIndex.open(self.directory, self.store, self.config.lexical)
                self._lexical_saved_seq = (
                    self._lexical.seq if (self.directory / LEXICAL_FILE).exists() else -1
                )
            return self._lexical

    # -- keeping the caches in step ---------------------------------------------------------------

    def catch_up(self) -> None:
        """Replay into the caches what other processes committed since they were last caught up."""
        version = self.store.data_version()
        if version != self._data_version:
            self._replay()
            self._data_version = version

    def _replay(self) -> None:
        self._earliest_expiry = None  # every commit that can change an expiry time passes here
        if self.index is not None:  # None only while a Memory opens: before its encoder is known
            self.index.sync(self.store)
        if self._lexical is not None:
            self._lexical.sync(self.store)

    # -- writes ---------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.store.transaction():
            yield
        self._replay()
        self._data_version = self.store.data_version()

    def insert(self, rows: Sequence[NewSlot], now: float) -> list[int]:
        return self.store.insert(rows, now)

    def update(self, slot: int, **fields: Any) -> None:
        self.store.update(slot, **fields)

    def delete(self, slots: Sequence[int]) -> int:
        n = self.store.delete(slots)
        self.store.prune_changes()
        return n

    def restore_history(self, slot: int, versions: Sequence[Mapping[str, Any]]) -> None:
        self.store.restore_history(slot, versions)

    def set_fields(self, slot: int, **fields: Any) -> None:
        self.store.set_slot_fields(slot, **fields)

    def add_usage(self, weights: Mapping[int, float], now: float) -> None:
        self.store.add_usage(weights, now)

    def refresh_ttl(self, slots: Sequence[int], now: float) -> None:
        self.store.refresh_ttl(slots, now)
        self._earliest_expiry = None

    # -- reads ----------------------------------------------------------------------------------

    def rows(self, slots: Sequence[int]) -> dict[int, SlotRow]:
        return self.store.by_slots(slots)

    def rows_by_id(self, ids: Sequence[str]) -> dict[str, SlotRow]:
        return self.store.by_ids(ids)

    def select(
        self,
        *,
        namespace: Namespace | None = None,
        filter: Filter = (),
        now: float | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[SlotRow]:
        return self.store.select(namespace=namespace, filter=filter, now=now, limit=limit, offset=offset)

    def select_slots(
        self, *, namespace: Namespace | None = None, filter: Filter = (), now: float | None = None
    ) -> list[int]:
        rows = self.store.select(namespace=namespace, filter=filter, now=now, columns="slot")
        return [r[0] for r in rows]

    def count(
        self, *, namespace: Namespace | None = None, filter: Filter = (), now: float | None = None
    ) -> int:
        return self.store.count(namespace=namespace, filter=filter, now=now)

    def namespace_counts(self, now: float | None = None) -> dict[Namespace, int]:
        return self.store.namespace_counts(now)

    def history(self, slot: int) -> list[dict[str, Any]]:
        return self.store.history(slot)

    def vectors(self, slots: Sequence[int]) -> np.ndarray:
        assert self.index is not None, "open_index first"
        return self.store.vectors(slots, self.index.dim)

    def expired_slots(self, now: float) -> list[int]:
        return self.store.expired_slots(now)

    def reader(self) -> LocalReader:
        self.catch_up()
        return LocalReader(self)

    def describe(self) -> dict[str, Any]:
        assert self.index is not None, "open_index first"
        return {
            "index": self.index.config.kind,
            "indexed": self.index.size,
            "schema_version": int(self.store.get_meta("schema_version") or 0),
            "bytes_on_disk": self.store.bytes_on_disk(),
        }

    def none_expired(self, now: float) -> bool:
        """Whether `now` is before the earliest expiry in the store (read once per change)."""
        if self._earliest_expiry is None:
            self._earliest_expiry = self.store.earliest_expiry()
        return now < self._earliest_expiry

    def close(self, *, save: bool = True) -> None:
        try:
            store_id = self.store.get_meta("store_id") or ""
            if save and self.index is not None and self.index.seq != self._index_saved_seq:
                self.index.save(self.directory, store_id)
            if save and self._lexical is not None and self._lexical.seq != self._lexical_saved_seq:
                self._lexical.save(self.directory, store_id)
        finally:
            self.store.close()


class LocalReader(SlotReader):
    """The local backend's answers to a read's candidate questions (storage.base.SlotReader)."""

    def __init__(self, backend: LocalBackend) -> None:
        assert backend.index is not None, "open_index first"
        self.backend = backend
        self.index = backend.index
        self.dim = backend.index.dim
        self._columns_synced = False  # the first neighbourhood lookup catches the read columns up
        self._rows: dict[int, SlotRow] = {}  # every row `rows` fetched, for the call's later asks

    def search_many(
        self, vectors: np.ndarray, k: int, *, namespace: Namespace | None = None, filter: Filter = ()
    ) -> list[list[tuple[int, float]]]:
        b = self.backend
        index, store, now = self.index, b.store, time.time()
        allowed = None
        if namespace is not None:
            # A small namespace is searched exactly through an id selector; a large one by overfetching.
            n_ns = store.count(namespace=namespace, indexed_only=True)
            if n_ns == 0:
                return [[] for _ in vectors]
            if n_ns * 4 <= index.size:
                allowed = np.array(
                    [r[0] for r in store.select(namespace=namespace, columns="slot", indexed_only=True)]
                )
        if namespace is None and not filter and index.config.kind == "flat" and b.none_expired(now):
            # Nothing can hide a hit, so an exact index's top k is the answer: no overfetch, no visibility
            # check (an HNSW search keeps its overfetch, which also widens its beam).
            return _hit_lists(*index.search(vectors, k))
        fetch = k * b.config.overfetch
        limit = index.size if allowed is None else len(allowed)
        while True:
            # One FAISS call for every query: batched, the flat scan runs as one matrix product.
            cand = _hit_lists(*index.search(vectors, fetch, allowed=allowed))
            visible = self.visible(
                sorted({s for row in cand for s, _ in row}), namespace=namespace, filter=filter, now=now
            )
            hits = [[(s, c) for s, c in row if s in visible][:k] for row in cand]
            if all(len(h) >= k for h in hits) or fetch >= limit:
                return hits
            fetch = min(fetch * 4, limit)

    def lexical(
        self, text: str, k: int, *, namespace: Namespace | None = None, filter: Filter = ()
    ) -> list[tuple[int, float]]:
        b = self.backend
        index = b.lexical
        fetch = k * b.config.overfetch
        while fetch <= _LEXICAL_OVERFETCH_CAP:
            got = index.search(text, fetch)
            visible = self.visible([s for s, _ in got], namespace=namespace, filter=filter)
            hits = [(s, w) for s, w in got if s in visible]
            if len(hits) >= k or len(got) < fetch:
                return hits[:k]
            fetch *= 8
        # The namespace or filter is too rare among the matches: score only the memories it allows.
        allowed = b.store.select(
            namespace=namespace, filter=filter, now=time.time(), columns="slot", indexed_only=True
        )
        return index.search(text, k, allowed=[r[0] for r in allowed])

    def naming(self, phrases: Sequence[str]) -> np.ndarray:
        return self.backend.lexical.naming(phrases)

    def visible(
        self, slots: Sequence[int], *, namespace: Namespace | None, filter: Filter, now: float | None = None
    ) -> set[int]:
        """Those of the indexed `slots` a read under this namespace prefix and filter may return."""
        b, now = self.backend, time.time() if now is None else now
        if namespace is None and not filter:
            # Unscoped, every indexed memory is visible but an expired one not yet swept: none before
            # the earliest expiry, else one probe of the expiry index instead of looking up every hit.
            if b.none_expired(now):
                return set(slots)
            return set(slots).difference(b.store.expired_slots(now))
        rows = b.store.select(
            namespace=namespace, filter=filter, slots=slots, now=now, columns="slot", indexed_only=True
        )
        return {r[0] for r in rows}

    def neighbourhood(
        self,
        slots: Sequence[int],
        strong: Sequence[int],
        *,
        namespace: Namespace | None = None,
        filter: Filter = (),
        visible: bool = True,
    ) -> ReadBatch:
        """From the read columns held in memory when it can, in one query otherwise (a metadata filter,
        or a read inside a write transaction). The columns are caught up once per call: a call's later
        lookups see what its first one saw."""
        store, columns = self.backend.store, self.backend.columns
        now = time.time() if visible else None
        if not visible:  # training's gold slots, wherever they are
            namespace, filter = None, ()
        with store.lock:
            if filter or store.conn.in_transaction:
                return batch_from_rows(
                    store.neighbourhood_rows(
                        slots, strong, namespace=namespace, filter=filter, now=now, indexed_only=visible
                    )
                )
            if not self._columns_synced or columns.seq < 0:
                columns.sync(store)
                self._columns_synced = True
            lo, hi = ns_prefix_range(namespace) if namespace else (None, None)
            return columns.neighbourhood(
                slots,
                strong,
                in_namespace=None if lo is None else lambda k: lo <= k < hi,
                now=now,
                indexed_only=visible,
            )

    def rows(self, slots: Sequence[int]) -> dict[int, SlotRow]:
        missing = [s for s in slots if s not in self._rows]
        if missing:
            self._rows.update(self.backend.store.by_slots(missing))
        return {s: self._rows[s] for s in slots if s in self._rows}

    def vectors(self, slots: Sequence[int]) -> np.ndarray:
        if len(slots) == 0:
            return np.zeros((0, self.dim), np.float32)
        return self.index.vectors(np.asarray(slots))


def _hit_lists(scores: np.ndarray, slots: np.ndarray) -> list[list[tuple[int, float]]]:
    """An index search's (scores (B, k), slots (B, k)) as one [(slot, score)] list per query, without
    the missing entries (slot -1)."""
    return [
        [(s, c) for s, c in zip(row_s, row_c, strict=True) if s >= 0]
        for row_s, row_c in zip(slots.tolist(), scores.tolist(), strict=True)
    ]
