"""LocalBackend: a store in one directory on one machine.

    memory.db         SQLite (WAL): the truth (sqlite.py)
    index.faiss.npz   the dense index over every key (dense.py), a cache, loaded by the first read that
                      spans tenants
    (in memory)       the keys of the tenants read lately (tenants.py), a cache: what a read scoped to a
                      namespace searches, so its cost follows its tenant's size, not the store's
    lexical.npz       the BM25 index over the texts (lexical.py), a cache, built on the first lexical read
    (in memory)       the read columns of the slots read lately (columns.py), a cache

Every cache remembers the position in the store's change log it reflects and catches up by replaying
it: after this process's commits (`transaction`), and when a read starts (`reader`) if another process
committed (SQLite's `data_version` tells, without I/O). A read's caches are caught up together, in one
snapshot of the database, so they agree on what exists. Caches are saved on `close`; a crash costs a
replay at the next open, never a memory.

Erasure: SQLite overwrites deleted content (`secure_delete`). After a transaction that erases text (a
forget, a sweep of expired memories, a purge of past versions), the write-ahead log is checkpointed
and truncated, and the saved cache files are deleted: they are written again, without what was
erased, on `close`. HNSW keys of removed memories are zeroed in the graph (dense.py); the lexical
index drops a removed memory's terms when it is saved.

Locking: one SQLite connection per backend, guarded by the store's lock, held per statement (or per
transaction); `Memory` serialises its own calls above that. The dense and lexical indexes have a lock
of their own for their first load, because a learned read searches the lexical index from a worker
thread while the reading thread scans the dense index (controller/candidates.py).
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agentmem.errors import (
    AgentMemError,
    ClosedError,
    CorruptStoreError,
    DuplicateIdError,
    InvalidInputError,
    StoreBusyError,
    StorePathError,
)
from agentmem.filters import Filter
from agentmem.storage.base import Backend, Namespace, NewSlot, ReadBatch, SlotReader, SlotRow, ns_prefix_range
from agentmem.storage.local.columns import ReadColumns, batch_from_rows
from agentmem.storage.local.dense import INDEX_FILE, KINDS, IndexConfig, SlotIndex
from agentmem.storage.local.lexical import LEXICAL_FILE, LexicalConfig, LexicalIndex
from agentmem.storage.local.sqlite import SlotStore, StoreConfig
from agentmem.storage.local.tenants import Partition, TenantConfig, TenantKeys, namespace_tenant

log = logging.getLogger("agentmem")

# How SQLite words a damaged database file (as opposed to a statement it refused).
_DAMAGE = (
    "malformed", "not a database", "disk image", "corrupt", "encrypted", "no such table", "no such column", "decode",
)
# Lexical hits checked for visibility before a read scores only the memories its scope allows.
_LEXICAL_OVERFETCH_CAP = 4096


@dataclass
class LocalConfig:
    """The local backend: SQLite (`sqlite`), the dense index (`index`), the tenants' keys (`tenants`), the
    lexical index (`lexical`).

    overfetch: dense or lexical candidates fetched per requested hit before the namespace, filter and
        expiry checks of a scoped read.
    columns_all_max: a read across tenants holds every slot's read columns in memory (columns.py) while
        the store holds at most this many memories, and asks the store for its candidates' otherwise.
    """

    sqlite: StoreConfig = field(default_factory=StoreConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    tenants: TenantConfig = field(default_factory=TenantConfig)
    lexical: LexicalConfig = field(default_factory=LexicalConfig)
    overfetch: int = 4
    columns_all_max: int = 200_000


class LocalBackend(Backend):
    """A store directory: SQLite truth, FAISS and BM25 indexes, read columns (module docstring)."""

    def __init__(self, directory: str | Path, config: LocalConfig | None = None, *, create: bool = True) -> None:
        self.config = config or LocalConfig()
        self.directory = Path(directory)
        with self.errors():
            self.store = SlotStore(self.directory, config=self.config.sqlite, create=create)
        self._dim: int | None = None  # open_index
        self._dense: SlotIndex | None = None  # loaded by the first read (`dense`)
        self._dense_lock = threading.Lock()
        self._dense_saved_seq = -1
        self._tenants: TenantKeys | None = None  # open_index
        self._lexical: LexicalIndex | None = None  # loaded by the first lexical read (`lexical`)
        self._lexical_lock = threading.Lock()
        self._lexical_saved_seq = -1
        self.columns = ReadColumns()
        self._columns_all_refused = False  # the store was too large to hold every slot's read columns
        # When the first memory expires (store.earliest_expiry), read once after each change: until then
        # a read needs no expiry probe. None: not read since the last change.
        self._earliest_expiry: float | None = None
        self._data_version = self.store.data_version()
        self._erased = False  # the open transaction deleted text
        # Commits a process made that the database no longer holds: refused until `check --repair`.
        self._lost = self.store.lost_commits()

    def location(self) -> str:
        return str(self.directory)

    @contextmanager
    def errors(self) -> Iterator[None]:
        """SQLite's and the file system's failures as the library's errors, each naming the fix."""
        d = self.directory
        try:
            yield
        except AgentMemError:
            raise
        except sqlite3.ProgrammingError as e:
            raise ClosedError(f"the store at {d} is closed ({e}); open a new Memory({str(d)!r})") from e
        except sqlite3.IntegrityError as e:
            if "slots.id" not in str(e):
                raise  # a statement agentmem got wrong, not a damaged store: a bug to report
            # An id another call stored after this one looked (another process, or a generated id
            # that meets one): bad input, as a PostgreSQL store reports it, not a damaged database.
            raise DuplicateIdError(
                f"an id is already in the store at {d}; use another id or forget that memory first"
            ) from e
        except sqlite3.OperationalError as e:
            text = str(e)
            if "locked" in text or "busy" in text:
                raise StoreBusyError(
                    f"another process held the store at {d} locked for over "
                    f"{self.config.sqlite.busy_timeout_s:g} s; retry, or raise StoreConfig.busy_timeout_s"
                ) from e
            if "unable to open" in text or "readonly" in text or "disk I/O" in text:
                raise StorePathError(
                    f"cannot read or write the store at {d} ({text}); check that it exists and is writable"
                ) from e
            if any(s in text for s in _DAMAGE):
                raise CorruptStoreError(
                    f"the store's database at {d} is damaged ({text}); run `agentmem --store {d} check`, or "
                    "restore it from a backup"
                ) from e
            raise  # a statement agentmem got wrong, not a damaged store: a bug to report
        except (sqlite3.DatabaseError, json.JSONDecodeError, UnicodeDecodeError) as e:
            # a page of the database holding bytes that are not what was written
            raise CorruptStoreError(
                f"the store's database at {d} is damaged ({e}); run `agentmem --store {d} check`, or restore "
                "it from a backup"
            ) from e
        except OSError as e:
            raise StorePathError(f"cannot use the store at {d} ({e.strerror or e}); check the path") from e

    # -- the store's own facts --------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        return self.store.get_meta(key)

    def set_meta(self, **facts: str) -> None:
        # Not `transaction`: a store that lost commits still records what it is, so it can be repaired.
        with self.store.transaction():
            for key, value in facts.items():
                self.store.set_meta(key, value)

    def open_index(self, dim: int, kind: str | None) -> None:
        kind = kind or self.store.get_meta("index_kind") or self.config.index.kind
        if kind not in KINDS:
            raise InvalidInputError(f"unknown index kind {kind!r}; use 'auto', 'flat' or 'hnsw'")
        self.config.index.kind = kind  # type: ignore[assignment]
        self._dim = dim
        self._tenants = TenantKeys(dim, self.config.tenants)
        self._tenants.rebuild(self.store)  # at the log's end, holding no tenant yet
        if self.store.get_meta("index_kind") != kind:
            self.store.set_meta("index_kind", kind)

    @property
    def dense(self) -> SlotIndex:
        """The dense index, loaded (or built) on first use: listing, counting or exporting a store
        never pays for it."""
        with self._dense_lock:
            if self._dense is None:
                assert self._dim is not None, "open_index first"
                self._dense = SlotIndex.open(self.directory, self.store, self._dim, self.config.index)
                self._dense_saved_seq = self._dense.file_seq
            return self._dense

    @property
    def lexical(self) -> LexicalIndex:
        """The BM25 index, loaded (or built) on first use: a store read only through the cosine
        controller never pays for it."""
        with self._lexical_lock:
            if self._lexical is None:
                self._lexical = LexicalIndex.open(self.directory, self.store, self.config.lexical)
                self._lexical_saved_seq = self._lexical.file_seq
            return self._lexical

    # -- keeping the caches in step ---------------------------------------------------------------

    def _replay(self) -> None:
        """Catch every loaded cache up with the database, in one snapshot of it."""
        self._earliest_expiry = None  # every commit that can change an expiry time passes here
        with self.store.read_snapshot():
            if self._dense is not None:
                self._dense.sync(self.store)
            if self._tenants is not None:
                self._tenants.sync(self.store)
            if self._lexical is not None:
                self._lexical.sync(self.store)
            if self.columns.seq >= 0:
                self.columns.sync(self.store)
        self._data_version = self.store.data_version()

    # -- writes ---------------------------------------------------------------------------------

    def _refuse_if_lost(self) -> None:
        if self._lost is not None:
            mark, end = self._lost
            raise CorruptStoreError(
                f"the database of {self.directory} lost commits: they reached change {mark}, its log ends at "
                f"{end} (a deleted or damaged write-ahead log, or an older copy restored); run "
                f"`agentmem --store {self.directory} check --repair` to keep what it holds, or restore a backup"
            )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._refuse_if_lost()
        outermost = not self.store.conn.in_transaction
        if outermost:
            self._erased = False
        with self.store.transaction():
            yield
        if outermost:
            self._replay()
            if self._erased:
                self._erase_leftovers()

    def _erase_leftovers(self) -> None:
        """After text was deleted: truncate the write-ahead log, and delete the saved caches (written
        again, without it, on close)."""
        if not self.store.checkpoint():
            log.warning(
                "another connection is reading %s: the write-ahead log could not be truncated, so forgotten "
                "text stays in it until the next checkpoint",
                self.directory,
            )
        for name in (INDEX_FILE, LEXICAL_FILE):
            (self.directory / name).unlink(missing_ok=True)
        self._dense_saved_seq = self._lexical_saved_seq = -1

    def insert(self, rows: Sequence[NewSlot], now: float) -> list[int]:
        return self.store.insert(rows, now)

    def update(self, slot: int, **fields: Any) -> None:
        self.store.update(slot, **fields)

    def delete(self, slots: Sequence[int]) -> int:
        n = self.store.delete(slots)
        self.store.prune_changes()
        self._erased = self._erased or n > 0
        return n

    def purge_history(self, slots: Sequence[int]) -> int:
        """Delete the past versions of `slots`, keeping their current ones."""
        n = self.store.purge_history(slots)
        self._erased = self._erased or n > 0
        return n

    def restore_history(self, slot: int, versions: Sequence[Mapping[str, Any]]) -> None:
        self.store.restore_history(slot, versions)

    def set_fields(self, slot: int, **fields: Any) -> None:
        self.store.set_slot_fields(slot, **fields)

    def add_usage(self, weights: Mapping[int, float], now: float) -> None:
        self.store.add_usage(weights, now)

    def refresh_ttl(self, slots: Sequence[int], now: float) -> None:
        self.store.refresh_ttl(slots, now)

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
        self,
        *,
        namespace: Namespace | None = None,
        filter: Filter = (),
        now: float | None = None,
        slots: Sequence[int] | None = None,
    ) -> list[int]:
        rows = self.store.select(namespace=namespace, filter=filter, now=now, slots=slots, columns="slot")
        return [r[0] for r in rows]

    def count(self, *, namespace: Namespace | None = None, filter: Filter = (), now: float | None = None) -> int:
        return self.store.count(namespace=namespace, filter=filter, now=now)

    def ids_with_prefix(
        self, prefix: str, *, namespace: Namespace | None = None, now: float | None = None, limit: int = 2
    ) -> list[str]:
        return self.store.ids_with_prefix(prefix, namespace=namespace, now=now, limit=limit)

    def any(self, *, namespace: Namespace | None = None, now: float | None = None) -> bool:
        return self.store.any(namespace=namespace, now=now)

    def namespace_counts(self, now: float | None = None) -> dict[Namespace, int]:
        return self.store.namespace_counts(now)

    def history(self, slot: int) -> list[dict[str, Any]]:
        return self.store.history(slot)

    def vectors(self, slots: Sequence[int]) -> np.ndarray:
        assert self._dim is not None, "open_index first"
        return self.store.vectors(slots, self._dim)

    def expired_slots(self, now: float) -> list[int]:
        return self.store.expired_slots(now)

    def reader(self) -> LocalReader:
        self._refuse_if_lost()
        if self.store.conn.in_transaction:
            # Inside a write transaction the caches stay as committed: what the log shows now, a
            # rollback may yet take back. Such a read sees the store as the transaction began. The
            # transaction's thread holds the store's lock until it ends: no other thread can read.
            reader = LocalReader(self)
            reader.concurrent = False
            return reader
        if self.store.data_version() != self._data_version or self.columns.seq < 0:
            if self.columns.seq < 0:
                with self.store.lock:
                    self.columns.sync(self.store)
            self._replay()
        return LocalReader(self)

    def hold_columns(self, tenant: str | None) -> bool:
        """Whether the read columns of `tenant` (None: of every slot) are held in memory, reading them
        now if need be; every slot's only while the store holds at most `columns_all_max` memories. The
        caller holds the store's lock outside a transaction."""
        columns = self.columns
        if columns.all or (tenant is not None and tenant in columns.tenants):
            return True
        if tenant is not None:
            columns.load(self.store, tenant)
            return True
        if self._columns_all_refused:
            return False
        if self.store.count() > self.config.columns_all_max:
            self._columns_all_refused = True
            return False
        columns.load_all(self.store)
        return True

    def partition(self, tenant: str) -> Partition | None:
        """The keys of one tenant, searched exactly by a read scoped to it (tenants.py); None when the
        tenant is too large, and the dense index over the store serves it."""
        assert self._tenants is not None, "open_index first"
        with self.store.lock:
            # The tenant's rows of the same scan go to the read columns, once they follow the log.
            take = functools.partial(self.columns.take_tenant, tenant) if self.columns.seq >= 0 else None
            return self._tenants.get(self.store, tenant, take)

    def describe(self) -> dict[str, Any]:
        return {
            "index": self.config.index.kind,
            "indexed": self.store.count(indexed_only=True),
            "schema_version": int(self.store.get_meta("schema_version") or 0),
            "bytes_on_disk": self.store.bytes_on_disk(),
        }

    def none_expired(self, now: float) -> bool:
        """Whether `now` is before the earliest expiry in the store (read once per change)."""
        if self._earliest_expiry is None:
            self._earliest_expiry = self.store.earliest_expiry()
        return now < self._earliest_expiry

    # -- upkeep -----------------------------------------------------------------------------------

    def compact(self) -> None:
        """Rewrite the database without its free pages, and the caches without what was removed."""
        self.store.vacuum()
        self._save(force=True)

    def check(self, *, repair: bool = False) -> list[str]:
        """Problems of the database and of the caches against it (empty: none). With `repair`, a cache
        that cannot be trusted is rebuilt from the database; every cache is then saved."""
        problems = [f"database: {p}" for p in self.store.integrity_problems()]
        if problems:
            return problems
        if self._lost is not None:
            if repair:
                self.store.accept_loss()
                self._lost = None
            else:
                try:
                    self._refuse_if_lost()
                except CorruptStoreError as e:
                    problems.append(f"database: {e}")
        indexed = {r[0] for r in self.store.select(columns="slot", indexed_only=True)}
        for name, file, load in (
            ("dense index", INDEX_FILE, self._load_dense),
            ("lexical index", LEXICAL_FILE, self._load_lexical),
        ):
            try:
                held = load()
            except CorruptStoreError as e:
                if not repair:
                    problems.append(f"{name}: {e}")
                    continue
                (self.directory / file).unlink(missing_ok=True)
                held = load()
            if held != indexed:
                problems.append(
                    f"{name}: holds {len(held - indexed)} memories the database does not and lacks "
                    f"{len(indexed - held)} it does"
                )
        if repair:
            self._save(force=True)
        return problems

    def _load_dense(self) -> set[int]:
        """Load the dense index afresh from its file (or the database); the slots it holds."""
        with self._dense_lock:
            self._dense = None
        return self.dense.slots()

    def _load_lexical(self) -> set[int]:
        with self._lexical_lock:
            self._lexical = None
        return self.lexical.slots()

    def _save(self, *, force: bool = False) -> None:
        store_id = self.store.get_meta("store_id") or ""
        if self._dense is not None and (force or self._dense.seq != self._dense_saved_seq):
            self._dense.save(self.directory, store_id)
            self._dense_saved_seq = self._dense.seq
        if self._lexical is not None and (force or self._lexical.seq != self._lexical_saved_seq):
            self._lexical.save(self.directory, store_id)
            self._lexical_saved_seq = self._lexical.seq

    def close(self, *, save: bool = True) -> None:
        try:
            if save:
                self._save()
        except OSError as e:  # the caches are rebuilt at the next open; the memories are committed
            log.warning("could not save the caches of %s (%s): the next open rebuilds them", self.directory, e)
        finally:
            self.store.close()


class LocalReader(SlotReader):
    """The local backend's answers to a read's candidate questions (storage.base.SlotReader)."""

    def __init__(self, backend: LocalBackend) -> None:
        assert backend._dim is not None, "open_index first"
        self.backend = backend
        self.dim = backend._dim
        self._rows: dict[int, SlotRow] = {}  # every row `rows` fetched, for the call's later asks
        self._partition: Partition | None = None  # the tenant partition the read searched, if any

    @property
    def index(self) -> SlotIndex:
        """The dense index over the whole store, loaded by the first read that needs it."""
        return self.backend.dense

    def search_many(
        self, vectors: np.ndarray, k: int, *, namespace: Namespace | None = None, filter: Filter = ()
    ) -> list[list[tuple[int, float]]]:
        b = self.backend
        tenant = namespace_tenant(namespace)
        part = None if tenant is None else b.partition(tenant)
        if part is not None:
            self._partition = part
            return self._search_partition(part, vectors, k, namespace, filter)
        index, store, now = self.index, b.store, time.time()
        allowed = None
        if namespace is not None:
            # A tenant too large for its own partition: a small namespace of it is searched exactly
            # through an id selector, a large one by overfetching.
            n_ns = store.count(namespace=namespace, indexed_only=True)
            if n_ns == 0:
                return [[] for _ in vectors]
            if n_ns * 4 <= index.size:
                allowed = np.array(
                    [r[0] for r in store.select(namespace=namespace, columns="slot", indexed_only=True)]
                )
        if namespace is None and not filter and index.exact and b.none_expired(now):
            # Nothing can hide a hit, so an exact index's top k is the answer: no overfetch, no visibility
            # check (an approximate search keeps its overfetch, which also widens its beam).
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

    def _search_partition(
        self, part: Partition, vectors: np.ndarray, k: int, namespace: Namespace | None, filter: Filter
    ) -> list[list[tuple[int, float]]]:
        """Exact top-k over one tenant's keys under the namespace; hits the filter or an expiry hides are
        passed over, fetching deeper until k are visible or the namespace is exhausted."""
        b, now = self.backend, time.time()
        positions = part.within(namespace)
        limit = len(part) if positions is None else len(positions)
        queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, part.index.d)
        if limit == 0:
            return [[] for _ in queries]
        hidden = bool(filter) or not b.none_expired(now)
        fetch = k * b.config.overfetch if hidden else k
        while True:
            cand = _hit_lists(*part.search(queries, fetch, positions))
            if not hidden:
                return cand
            visible = self.visible(sorted({s for row in cand for s, _ in row}), namespace=namespace, filter=filter, now=now)
            hits = [[(s, c) for s, c in row if s in visible][:k] for row in cand]
            if all(len(h) >= k for h in hits) or fetch >= limit:
                return hits
            fetch = min(fetch * 4, limit)

    def lexical(
        self, text: str, k: int, *, namespace: Namespace | None = None, filter: Filter = ()
    ) -> list[tuple[int, float]]:
        b = self.backend
        index = b.lexical
        tenant = namespace_tenant(namespace)
        fetch = k * b.config.overfetch
        while fetch <= _LEXICAL_OVERFETCH_CAP:
            got = index.search(text, fetch, tenant=tenant)
            visible = self.visible([s for s, _ in got], namespace=namespace, filter=filter)
            hits = [(s, w) for s, w in got if s in visible]
            if len(hits) >= k or len(got) < fetch:
                return hits[:k]
            fetch *= 8
        # The namespace or filter is too rare among the matches: score only the memories it allows.
        allowed = b.store.select(
            namespace=namespace, filter=filter, now=time.time(), columns="slot", indexed_only=True
        )
        return index.search(text, k, allowed=[r[0] for r in allowed], tenant=tenant)

    def naming(self, phrases: Sequence[str], *, namespace: Namespace | None = None) -> np.ndarray:
        return self.backend.lexical.naming(phrases, namespace_tenant(namespace))

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
        with b.store.lock:
            if not filter and not b.store.conn.in_transaction and b.hold_columns(namespace_tenant(namespace)):
                # A scoped read: its tenant's read columns say where each memory lives and when it expires.
                lo, hi = ns_prefix_range(namespace)
                return b.columns.visible(slots, in_namespace=lambda k: lo <= k < hi, now=now)
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
        """From the read columns held in memory (caught up when the read began) when it can, in one query
        otherwise (a metadata filter, a read inside a write transaction, a read across the tenants of a
        large store)."""
        store, columns = self.backend.store, self.backend.columns
        now = time.time() if visible else None
        if not visible:  # training's gold slots, wherever they are
            namespace, filter = None, ()
        with store.lock:
            held = (
                not filter
                and not store.conn.in_transaction
                and self.backend.hold_columns(namespace_tenant(namespace))
            )
            if not held:
                return batch_from_rows(
                    store.neighbourhood_rows(
                        slots, strong, namespace=namespace, filter=filter, now=now, indexed_only=visible
                    )
                )
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
        wanted = np.asarray(slots, dtype=np.int64)
        part = self._partition
        if part is not None and len(part):
            at, found = part.at(wanted)
            if found.all():  # a scoped read's candidates: its tenant's keys, in memory
                return part.keys[at]
        dense = self.backend._dense
        if dense is not None:
            try:
                return dense.vectors(wanted)
            except (RuntimeError, KeyError):
                pass  # a slot the lexical index found before the dense index held it
        return self.backend.store.vectors(list(slots), self.dim)


def _hit_lists(scores: np.ndarray, slots: np.ndarray) -> list[list[tuple[int, float]]]:
    """An index search's (scores (B, k), slots (B, k)) as one [(slot, score)] list per query, without
    the missing entries (slot -1)."""
    return [
        [(s, c) for s, c in zip(row_s, row_c, strict=True) if s >= 0]
        for row_s, row_c in zip(slots.tolist(), scores.tolist(), strict=True)
    ]
