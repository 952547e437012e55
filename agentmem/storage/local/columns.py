"""ReadColumns: the few columns a learned read describes its candidates by, held in memory per tenant.

A read gathers a few hundred candidate slots after its index scan and needs each one's temporal links,
event time, usage, namespace, speaker, whether it asks, the time its text names and its text's length
(storage.base.ReadBatch). Fetched from SQLite, that is one query of a few hundred rows on the read's
critical path, right after the scan. Held here as arrays indexed by slot, it is a handful of numpy
gathers.

The store stays the source of truth. Triggers log every slot a write touches, its own or its neighbours'
(sqlite.py, table `touched`), and `sync` re-reads just those slots before a read: this process's writes
and another process's alike, committed or rolled back. When the log no longer reaches back to the
cache (pruned, or another store's), the cache drops what it holds.

A tenant's rows (a namespace's first segment: tenants.py) are read on the first read scoped to it, with
one range scan of the (ns, slot) index, so opening a store of a million memories reads none of them and
a read costs what its tenant costs. Reads that span tenants ask the store (`SlotStore.neighbourhood_rows`).
The arrays, indexed by slot number, take 75 bytes a slot of the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from agentmem.storage.base import ReadBatch, ns_prefix_range
from agentmem.storage.local.tenants import tenant_of

if TYPE_CHECKING:
    from agentmem.storage.local.sqlite import SlotStore

_NO_EXPIRY = np.inf


def batch_from_rows(rows: Sequence[tuple[Any, ...]]) -> ReadBatch:
    """A ReadBatch from store rows in sqlite.READ_COLUMNS order (slot, prev, next, event time, usage,
    namespace key, speaker, asks, named start, named end, length)."""
    names, speakers = _Codes(), _Codes()
    slot, prev, nxt, event_time, usage, ns, speaker, asks, start, end, length = list(zip(*rows, strict=True)) or [()] * 11
    return ReadBatch(
        np.array(slot, dtype=np.int64),
        _links(prev),
        _links(nxt),
        np.array(event_time, dtype=np.float64),  # None -> nan
        np.array(usage, dtype=np.float32),
        np.array([names.code(k) for k in ns], dtype=np.int64),
        np.array([speakers.code(v) for v in speaker], dtype=np.int64),
        np.array(asks, dtype=bool),
        np.array(start, dtype=np.float64),  # None -> nan
        np.array(end, dtype=np.float64),
        np.array(length, dtype=np.int64),
        names.values,
        speakers.values,
    )


class ReadColumns:
    """Every slot's read columns as arrays indexed by slot number (see the module docstring)."""

    def __init__(self) -> None:
        self.seq = -1  # the `touched` log position reflected; -1: not started
        self.tenants: set[str] = set()  # the tenants whose rows are held
        self.all = False  # every slot's rows are held
        self._ns, self._speakers = _Codes(), _Codes()
        self._allocate(0)

    def load(self, store: SlotStore, tenant: str) -> None:
        """Hold the rows of `tenant` (the caller has synced, and holds `store.lock` outside a transaction)."""
        if tenant in self.tenants:
            return
        lo, hi = ns_prefix_range((tenant,))
        self.take_tenant(tenant, store.column_rows_in_range(lo, hi))

    def take_tenant(self, tenant: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Hold `tenant`'s rows (sqlite.CACHED_COLUMNS, every one of the tenant's), read by the caller in
        the snapshot the columns were last synced to."""
        if tenant not in self.tenants and not self.all:
            self._take((), rows)
            self.tenants.add(tenant)

    def load_all(self, store: SlotStore) -> None:
        """Hold every slot's rows (same conditions as `load`)."""
        self._allocate(0)
        self._take((), store.column_rows(None))
        self.all = True

    def _allocate(self, size: int) -> None:
        self.present = np.zeros(size, dtype=bool)
        self.indexed = np.zeros(size, dtype=bool)
        self.prev = np.full(size, -1, dtype=np.int64)
        self.next = np.full(size, -1, dtype=np.int64)
        self.event_time = np.full(size, np.nan)
        self.expires = np.full(size, _NO_EXPIRY)
        self.usage = np.zeros(size, dtype=np.float32)
        self.ns = np.zeros(size, dtype=np.int64)
        self.speaker = np.zeros(size, dtype=np.int64)
        self.asks = np.zeros(size, dtype=bool)
        self.named_start = np.full(size, np.nan)
        self.named_end = np.full(size, np.nan)
        self.length = np.zeros(size, dtype=np.int32)

    def _grow(self, size: int) -> None:
        old = {name: getattr(self, name) for name in _ARRAYS}
        self._allocate(max(size, 2 * len(self.present)))
        for name, values in old.items():
            getattr(self, name)[: len(values)] = values

    def sync(self, store: SlotStore) -> None:
        """Catch up with the store's committed slots. The caller holds `store.lock` outside a transaction:
        inside one, the log would show writes a rollback may yet take back, with their log positions."""
        hi, slots, replayable = store.touched_since(self.seq)
        if hi == self.seq and replayable:
            return
        if replayable and self.all:
            self._take(slots, store.column_rows(slots))
        elif replayable and self.tenants:
            held = self.tenants
            self._take(slots, [r for r in store.column_rows(slots) if tenant_of(r[5]) in held])
        elif not replayable:
            self._allocate(0)
            self.tenants, self.all = set(), False
        self.seq = hi

    def _take(self, slots: Iterable[int], rows: Sequence[tuple[Any, ...]]) -> None:
        """Mark `slots` absent, then set the columns of `rows` (the ones of them still there)."""
        gone = np.fromiter(slots, dtype=np.int64)
        gone = gone[gone < len(self.present)]
        self.present[gone] = False
        self.prev[gone] = self.next[gone] = -1
        if not rows:
            return
        slot, prev, nxt, event_time, usage, ns, speaker, asks, start, end, length, expires, indexed = zip(
            *rows, strict=True
        )
        at = np.array(slot, dtype=np.int64)
        if at.max() >= len(self.present):
            self._grow(int(at.max()) + 1)
        self.present[at] = True
        self.indexed[at] = indexed
        self.prev[at] = _links(prev)
        self.next[at] = _links(nxt)
        self.event_time[at] = np.array(event_time, dtype=np.float64)
        self.expires[at] = np.array([_NO_EXPIRY if e is None else e for e in expires], dtype=np.float64)
        self.usage[at] = usage
        self.ns[at] = [self._ns.code(k) for k in ns]
        self.speaker[at] = [self._speakers.code(v) for v in speaker]
        self.asks[at] = asks
        self.named_start[at] = np.array(start, dtype=np.float64)
        self.named_end[at] = np.array(end, dtype=np.float64)
        self.length[at] = length

    def visible(self, slots: Sequence[int], *, in_namespace: Callable[[str], bool], now: float) -> set[int]:
        """Those of `slots` held, indexed, unexpired at `now` and whose namespace key passes `in_namespace`."""
        at = np.asarray(slots, dtype=np.int64)
        at = at[at < len(self.present)]
        if len(at) == 0:
            return set()
        keep = self.present[at] & self.indexed[at] & (self.expires[at] > now)
        codes = np.unique(self.ns[at])
        keep &= np.isin(self.ns[at], [c for c in codes.tolist() if in_namespace(self._ns.values[c])])
        return set(at[keep].tolist())

    def neighbourhood(
        self,
        slots: Sequence[int],
        strong: Sequence[int],
        *,
        in_namespace: Callable[[str], bool] | None,
        now: float | None,
        indexed_only: bool,
    ) -> ReadBatch:
        """SlotStore.neighbourhood_rows without a metadata filter: the rows of `slots` and of the temporal
        neighbours of `strong` whose namespace key passes `in_namespace` (None: any), unexpired at `now`
        (None: expired too), and indexed ones only when `indexed_only`."""
        size = len(self.present)
        strong = np.asarray(strong, dtype=np.int64)
        strong = strong[strong < size]
        at = np.concatenate([np.asarray(slots, dtype=np.int64), self.prev[strong], self.next[strong]])
        at = np.unique(at[(at >= 0) & (at < size)])
        keep = self.present[at]
        if indexed_only:
            keep &= self.indexed[at]
        if now is not None:
            keep &= self.expires[at] > now
        if in_namespace is not None:
            codes = np.unique(self.ns[at])
            inside = [c for c in codes.tolist() if in_namespace(self._ns.values[c])]
            keep &= np.isin(self.ns[at], inside)
        at = at[keep]
        return ReadBatch(
            at,
            self.prev[at],
            self.next[at],
            self.event_time[at],
            self.usage[at],
            self.ns[at],
            self.speaker[at],
            self.asks[at],
            self.named_start[at],
            self.named_end[at],
            self.length[at],
            self._ns.values,
            self._speakers.values,
        )


_ARRAYS = (
    "present", "indexed", "prev", "next", "event_time", "expires", "usage", "ns", "speaker", "asks", "named_start",
    "named_end", "length",
)


class _Codes:
    """Strings numbered in order of first sight (a read's rows share a few namespaces and speakers)."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._codes: dict[str, int] = {}

    def code(self, value: str) -> int:
        code = self._codes.get(value)
        if code is None:
            code = self._codes[value] = len(self.values)
            self.values.append(value)
        return code


def _links(values: Sequence[int | None]) -> np.ndarray:
    return np.array([-1 if v is None else v for v in values], dtype=np.int64)
