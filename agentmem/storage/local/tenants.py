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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from agentmem.storage.base import ns_prefix_range
from agentmem.storage.local.changelog import ChangeLogCache
from agentmem.storage.local.sqlite import SlotStore


@dataclass
class TenantConfig:
    """exact_max: a tenant with more keys than this is searched through the store-wide index;
    cache_bytes: the tenants' keys held in memory at most (least recently read dropped first)."""

    exact_max: int = 100_000
    cache_bytes: int = 512 << 20


def tenant_of(ns: str) -> str:
    """The tenant of a namespace key (storage.base.ns_key): its first segment."""
    return ns.split("\x1f", 1)[0]


class Partition:
    """One tenant's keys: slots `(n,)` ascending, namespace key codes `(n,)` into `names`, keys `(n, d)`."""

    def __init__(self, slots: np.ndarray, ns: Sequence[str], keys: np.ndarray) -> None:
        order = np.argsort(slots, kind="stable")
        self.names: list[str] = sorted(set(ns))
        codes = {name: i for i, name in enumerate(self.names)}
        self.slots = np.asarray(slots, dtype=np.int64)[order]
        self.ns = np.array([codes[k] for k in ns], dtype=np.int32)[order]
        self.keys = np.ascontiguousarray(np.asarray(keys, dtype=np.float32)[order])

    def __len__(self) -> int:
        return len(self.slots)

    @property
    def nbytes(self) -> int:
        return self.slots.nbytes + self.ns.nbytes + self.keys.nbytes

    def add(self, slots: np.ndarray, ns: Sequence[str], keys: np.ndarray) -> None:
        """Add keys; a slot already held is replaced (a partition read after the position its cache
        reflects holds some of what the next replay adds)."""
        self.remove(slots)
        for name in ns:
            if name not in self.names:
                self.names.append(name)
        codes = {name: i for i, name in enumerate(self.names)}
        slots = np.asarray(slots, dtype=np.int64)
        if len(self.slots) and slots.min() <= self.slots[-1]:  # rare: re-added keys of updated slots
            merged = Partition(
                np.concatenate([self.slots, slots]),
                [self.names[c] for c in self.ns] + list(ns),
                np.concatenate([self.keys, keys]),
            )
            self.names, self.slots, self.ns, self.keys = merged.names, merged.slots, merged.ns, merged.keys
            return
        self.slots = np.concatenate([self.slots, slots])
        self.ns = np.concatenate([self.ns, np.array([codes[k] for k in ns], dtype=np.int32)])
        self.keys = np.concatenate([self.keys, np.asarray(keys, dtype=np.float32)])

    def remove(self, slots: np.ndarray) -> None:
        keep = ~np.isin(self.slots, slots)
        if not keep.all():
            self.slots, self.ns, self.keys = self.slots[keep], self.ns[keep], self.keys[keep]

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
        return np.flatnonzero(np.isin(self.ns, inside))

    def search(
        self, queries: np.ndarray, k: int, positions: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k by inner product of queries `(B, d)` over the keys at `positions` (None: all):
        (scores (B, k'), slots (B, k')), best first, k' = min(k, keys searched)."""
        keys, slots = (self.keys, self.slots) if positions is None else (self.keys[positions], self.slots[positions])
        n = len(slots)
        if n == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        scores = queries @ keys.T  # (B, n)
        k = min(k, n)
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (len(queries), 1))
        top_scores = np.take_along_axis(scores, top, axis=1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        return np.take_along_axis(top_scores, order, axis=1), slots[top]


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

    def get(self, store: SlotStore, tenant: str) -> Partition | None:
        """The tenant's partition, read from the store when not held; None when the tenant is too large
        to be searched exactly. The caller has caught the partitions up with the store (`sync`). Read
        inside a write transaction, a partition serves that read only: a rollback may take back what
        it holds."""
        part = self.parts.get(tenant)
        if part is not None:
            self.parts.move_to_end(tenant)
            return part
        if tenant in self.large:
            return None
        lo, hi = ns_prefix_range((tenant,))
        if store.count_keys_in_range(lo, hi) > self.config.exact_max:
            self.large.add(tenant)
            return None
        slots, ns, keys = store.keys_in_range(lo, hi, self.dim)
        part = Partition(np.asarray(slots, dtype=np.int64), ns, keys)
        if not store.conn.in_transaction:
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
