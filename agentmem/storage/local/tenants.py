"""TenantKeys: the key vectors of one tenant at a time, searched exactly (SAM's sparse read, per tenant).

A tenant is a namespace's first segment ("user-42" of ("user-42", "memories")): the unit a store is
shared by. A read scoped to a namespace only ever returns memories of its tenant, so it searches that
tenant's keys alone, exactly, as one `(B, d) x (d, n)` product: its cost follows the tenant's size n,
whatever the size of the store. The dense index over the whole store (dense.py) is left to unscoped
reads, and is not even loaded by a process that reads scoped only.

A tenant's partition (its slots, namespace codes and keys) is read from the store on its first scoped
read, with one range scan of the (ns, slot) index, and kept in memory; the partitions held are bounded
by `TenantConfig.cache_bytes`, the least recently read dropped first. Like the other caches, the
partitions follow the store's change log (changelog.py): a replay adds and removes the keys of the
tenants held and ignores the others, which are read afresh when next needed. A tenant holding more
than `exact_max` keys is searched through the store-wide index instead, where an approximate search
over it costs less than an exact one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np

from agentmem.cpu import faiss_threads
from agentmem.storage.base import ns_prefix_range
from agentmem.storage.local.changelog import ChangeLogCache
from agentmem.storage.local.sqlite import SlotStore, keys_of


@dataclass
class TenantConfig:
    """exact_max: a tenant with more keys than this is searched through the store-wide index;
    cache_bytes: the tenants' keys held in memory at most (least recently read dropped first)."""

    exact_max: int = 100_000
    cache_bytes: int = 256 << 20


def tenant_of(ns: str) -> str:
    """The tenant of a namespace key (storage.base.ns_key): its first segment."""
    return ns.split("\x1f", 1)[0]


class Partition:
    """One tenant's keys: slots `(n,)` ascending, namespace key codes `(n,)` into `names`, and the keys
    `(n, d)` in a FAISS `IndexFlatIP` (position = id): FAISS scores one query with its own SIMD loop on
    the calling thread, where numpy would hand a (1, d) x (d, n) product to a BLAS thread pool that
    fights the read's lexical worker for the cores."""

    def __init__(self, slots: np.ndarray, ns: Sequence[str], keys: np.ndarray) -> None:
        self.names: list[str] = sorted(set(ns))
        slots = np.asarray(slots, dtype=np.int64)
        if len(self.names) == 1:  # a tenant of one namespace, the usual case
            codes = np.zeros(len(slots), dtype=np.int32)
        else:
            code = {name: i for i, name in enumerate(self.names)}
            codes = np.array([code[k] for k in ns], dtype=np.int32)
        keys = np.asarray(keys, dtype=np.float32)
        if len(slots) > 1 and not (slots[1:] > slots[:-1]).all():
            order = np.argsort(slots, kind="stable")
            slots, codes, keys = slots[order], codes[order], keys[order]
        self.slots, self.ns = slots, codes
        self.index = faiss.IndexFlatIP(keys.shape[1])
        self.index.add(np.ascontiguousarray(keys))

    def __len__(self) -> int:
        return len(self.slots)

    @property
    def keys(self) -> np.ndarray:
        """The keys `(n, d)`, a view into the index."""
        n, d = self.index.ntotal, self.index.d
        return faiss.rev_swig_ptr(self.index.get_xb(), n * d).reshape(n, d) if n else np.zeros((0, d), np.float32)

    @property
    def nbytes(self) -> int:
        return self.slots.nbytes + self.ns.nbytes + self.index.ntotal * self.index.d * 4

    def add(self, slots: np.ndarray, ns: Sequence[str], keys: np.ndarray) -> None:
        """Add keys; a slot already held is replaced (a partition read after the position its cache
        reflects holds some of what the next replay adds)."""
        self.remove(slots)
        for name in ns:
            if name not in self.names:
                self.names.append(name)
        code = {name: i for i, name in enumerate(self.names)}
        slots = np.asarray(slots, dtype=np.int64)
        keys = np.ascontiguousarray(keys, dtype=np.float32)
        codes = np.array([code[k] for k in ns], dtype=np.int32)
        if len(self.slots) and slots.min() <= self.slots[-1]:  # rare: the keys of updated slots
            merged = Partition(
                np.concatenate([self.slots, slots]),
                [self.names[c] for c in self.ns] + list(ns),
                np.concatenate([self.keys, keys]),
            )
            self.names, self.slots, self.ns, self.index = merged.names, merged.slots, merged.ns, merged.index
            return
        self.slots = np.concatenate([self.slots, slots])
        self.ns = np.concatenate([self.ns, codes])
        self.index.add(keys)

    def remove(self, slots: np.ndarray) -> None:
        gone = np.isin(self.slots, slots)
        if gone.any():
            self.index.remove_ids(faiss.IDSelectorBatch(np.flatnonzero(gone).astype(np.int64)))
            self.slots, self.ns = self.slots[~gone], self.ns[~gone]

    def at(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions of `slots (m,)` in the partition, and whether each is there."""
        at = np.minimum(np.searchsorted(self.slots, slots), max(len(self.slots) - 1, 0))
        found = self.slots[at] == slots if len(self.slots) else np.zeros(len(slots), dtype=bool)
        return at, found

    def within(self, prefix: tuple[str, ...] | None) -> np.ndarray | None:
        """Positions of the keys under a namespace prefix (None: every key)."""
        if prefix is None or len(prefix) < 2:  # the whole tenant
            return None
        lo, hi = ns_prefix_range(prefix)
        inside = [i for i, name in enumerate(self.names) if lo <= name < hi]
        if len(inside) == len(self.names):
            return None
        if len(inside) == 1:
            return np.flatnonzero(self.ns == inside[0])
        return np.flatnonzero(np.isin(self.ns, np.array(inside, dtype=np.int32), kind="sort"))

    def search(
        self, queries: np.ndarray, k: int, positions: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k by inner product of queries `(B, d)` over the keys at `positions` (None: all):
        (scores (B, k'), slots (B, k')), best first, k' = min(k, keys searched); -1 pads nothing."""
        n = len(self.slots) if positions is None else len(positions)
        k = min(k, n)
        if k == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        faiss_threads(1)  # per calling thread (dense.IndexConfig.omp_threads)
        params = None if positions is None else faiss.SearchParameters(sel=faiss.IDSelectorBatch(positions))
        scores, at = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k, params=params)
        return scores, np.where(at >= 0, self.slots[np.maximum(at, 0)], -1)


class TenantKeys(ChangeLogCache):
    """The partitions of the tenants read lately (module docstring)."""

    what = "tenant key partitions"

    def __init__(self, dim: int, config: TenantConfig | None = None) -> None:
        self.config = config or TenantConfig()
        self.dim = dim
        self.seq = 0
        self._reset()

    def _reset(self) -> None:
        self.parts: OrderedDict[str, Partition] = OrderedDict()
        self.large: set[str] = set()  # tenants past exact_max when last counted

    def get(
        self, store: SlotStore, tenant: str, columns: Callable[[list[tuple[Any, ...]]], None] | None = None
    ) -> Partition | None:
        """The tenant's partition, read from the store when not held; None when the tenant is too large
        to be searched exactly. The caller has caught the partitions up with the store (`sync`). Read
        inside a write transaction, a partition serves that read only: a rollback may take back what
        it holds. `columns`, when given, is handed the tenant's read-column rows (sqlite.CACHED_COLUMNS)
        of the same scan, so a tenant's first read reads its rows once."""
        part = self.parts.get(tenant)
        if part is not None:
            self.parts.move_to_end(tenant)
            return part
        if tenant in self.large:
            return None
        lo, hi = ns_prefix_range((tenant,))
        rows = store.tenant_rows(lo, hi, limit=self.config.exact_max + 1)
        if len(rows) > self.config.exact_max:
            self.large.add(tenant)
            return None
        keep = not store.conn.in_transaction
        if columns is not None and keep:
            columns([r[:-1] for r in rows])
        slots, ns, keys = keys_of([(r[0], r[5], r[-1]) for r in rows if r[-1] is not None], self.dim)
        part = Partition(np.asarray(slots, dtype=np.int64), ns, keys)
        if keep:
            self.parts[tenant] = part
            self._bound()
        return part

    def _bound(self) -> None:
        held = sum(p.nbytes for p in self.parts.values())
        while len(self.parts) > 1 and held > self.config.cache_bytes:
            _, dropped = self.parts.popitem(last=False)
            held -= dropped.nbytes

    # -- ChangeLogCache: a replay touches the tenants held, and forgets the verdict on large ones ----

    def add(self, slots: Sequence[int], items: tuple[Sequence[str], np.ndarray]) -> None:
        ns, keys = items
        if len(slots) == 0:
            return
        tenants = [tenant_of(k) for k in ns]
        for tenant in dict.fromkeys(tenants):
            part = self.parts.get(tenant)
            if part is None:
                continue
            mine = np.array([t == tenant for t in tenants])
            part.add(np.asarray(slots)[mine], [k for k, m in zip(ns, mine, strict=True) if m], keys[mine])
        self._bound()

    def remove(self, slots: Sequence[int]) -> None:
        if len(slots) == 0:
            return
        gone = np.asarray(slots, dtype=np.int64)
        for part in self.parts.values():
            part.remove(gone)

    def _present(self, store: SlotStore, slots: list[int]) -> tuple[list[int], tuple[list[str], np.ndarray]]:
        found, ns, keys = store.present_keys(slots, self.dim)
        return found, (ns, keys)

    def _all(self, store: SlotStore) -> Iterator[tuple[list[int], tuple[list[str], np.ndarray]]]:
        return iter(())  # partitions are read when a tenant is next searched, not all at once

    def _rebuild_locked(self, store: SlotStore) -> None:
        self._reset()
        self.seq = store.latest_seq()
        self.tx = store.change_tx(self.seq)


def namespace_tenant(namespace: tuple[str, ...] | None) -> str | None:
    """The tenant a read under `namespace` is confined to (None: unscoped)."""
    return namespace[0] if namespace else None
