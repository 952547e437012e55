"""The storage seam: what `Memory` and the controllers need from where memories live.

Two interfaces, so that a second backend plugs in without touching the controller:

- `Backend`: a store's durable truth. Write transactions (an id returned after one commits is
  durable), rows by id and by slot, listing, counting, history, the store's own metadata. A backend
  keeps its caches (a dense index, a lexical index, read columns) in step with what is committed, its
  own process's writes and other processes' alike; a crash may lose a cache, never a memory.
- `SlotReader`: one controller call's window on a backend. The candidate questions a sparse read asks,
  each scoped to a namespace prefix and metadata filter: the dense top-K, the lexical top-K, the
  memories naming someone, the read rows of candidates and their temporal neighbours, key vectors.

A backend knows nothing of how reads score: it answers these questions, the controller decides.

Slots are numbered in write order; a slot's number is its key in every index and never reused.
Times are unix seconds (float, UTC). A namespace is a tuple of strings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from agentmem.filters import Filter

Namespace = tuple[str, ...]


@dataclass(frozen=True)
class SlotRow:
    """A slot as stored.

    speaker: who said the memory, lower-cased ("" when unknown), as `Memory` worked it out at write time
        (text.speaker_of). prev_slot / next_slot: the temporal links, the memories written just before /
        after in the same namespace; prev_id / next_id: their ids (None: no neighbour).
    """

    slot: int
    id: str
    namespace: Namespace
    text: str
    metadata: dict[str, Any]
    speaker: str
    created_at: float
    updated_at: float
    event_time: float | None
    usage: float
    last_read_at: float | None
    prev_slot: int | None
    next_slot: int | None
    version: int
    ttl: float | None
    expires_at: float | None
    indexed: bool
    prev_id: str | None
    next_id: str | None

    @classmethod
    def from_columns(cls, r: Sequence[Any], metadata: dict[str, Any]) -> SlotRow:
        """A row as both backends select it: slot, id, namespace key, text, metadata (decoded by the
        caller, as `metadata`), speaker, created_at, updated_at, event_time, usage, last_read_at,
        prev_slot, next_slot, version, ttl, expires_at, indexed, prev_id, next_id."""
        return cls(
            slot=r[0],
            id=r[1],
            namespace=ns_tuple(r[2]),
            text=r[3],
            metadata=metadata,
            speaker=r[5],
            created_at=r[6],
            updated_at=r[7],
            event_time=r[8],
            usage=r[9],
            last_read_at=r[10],
            prev_slot=r[11],
            next_slot=r[12],
            version=r[13],
            ttl=r[14],
            expires_at=r[15],
            indexed=bool(r[16]),
            prev_id=r[17],
            next_id=r[18],
        )


@dataclass(frozen=True)
class NewSlot:
    """A slot to insert; `vector` `(d,)` is None for memories stored with index=False."""

    id: str
    namespace: Namespace
    text: str
    metadata: dict[str, Any]
    event_time: float | None
    vector: np.ndarray | None
    speaker: str = ""
    ttl: float | None = None
    created_at: float | None = None


@dataclass
class ReadBatch:
    """The read rows of n slots, column by column: what a learned read describes a candidate by.

    slot, prev, next (n,) int64 (-1: no neighbour); event_time (n,) float64 (nan: unknown); usage (n,)
    float32; ns and speaker (n,) int64 codes into `ns_names` (namespace keys: segments joined by
    U+001F) and `speakers` (lower-cased speaker names, "" when unknown); asks (n,) bool: the text holds
    a question (text.has_question); named_start, named_end (n,) float64: the stretch of time the text
    names (time_expressions.named_time; nan: none); length (n,) integers: the text's length in characters.
    """

    slot: np.ndarray
    prev: np.ndarray
    next: np.ndarray
    event_time: np.ndarray
    usage: np.ndarray
    ns: np.ndarray
    speaker: np.ndarray
    asks: np.ndarray
    named_start: np.ndarray
    named_end: np.ndarray
    length: np.ndarray
    ns_names: Sequence[str]
    speakers: Sequence[str]

    def __len__(self) -> int:
        return len(self.slot)

    def take(self, at: np.ndarray) -> ReadBatch:
        """The rows at positions `at (m,)`."""
        return replace(self, **{name: getattr(self, name)[at] for name in READ_BATCH_ARRAYS})


READ_BATCH_ARRAYS = (
    "slot", "prev", "next", "event_time", "usage", "ns", "speaker", "asks", "named_start", "named_end", "length",
)


def ns_key(namespace: Sequence[str]) -> str:
    """A namespace as one string: its segments joined by U+001F, which no segment holds, so the keys of
    a namespace and of everything under it form one contiguous range (`ns_prefix_range`)."""
    return "\x1f".join(namespace)


def ns_tuple(key: str) -> Namespace:
    return tuple(key.split("\x1f")) if key else ()


def ns_prefix_range(prefix: Sequence[str]) -> tuple[str, str]:
    """The namespace keys under `prefix` (itself included), respecting segment boundaries ('a' never
    matches 'ab'), as one half-open range [lo, hi) of keys."""
    key = ns_key(prefix)
    # Segments are joined by U+001F and hold no character below U+0020, so `key` and its children
    # (key + U+001F + ...) are exactly the keys in [key, key + " ").
    return key, key + " "


class SlotReader(ABC):
    """What a controller may see of the memory during one call: no write comes between its lookups.

    Every candidate question takes the namespace prefix (None: the whole store) and filter of the read,
    and answers with indexed, unexpired memories under them only.
    """

    dim: int
    # Whether other threads may ask this reader's questions while the calling thread waits (a
    # controller overlaps its lexical and dense searches): False when the calling thread holds a lock
    # the answers need.
    concurrent: bool = True

    @abstractmethod
    def search_many(
        self, vectors: np.ndarray, k: int, *, namespace: Namespace | None = None, filter: Filter = ()
    ) -> list[list[tuple[int, float]]]:
        """The top-k slots by inner product with each row of `vectors (n, d)`: one [(slot, cosine)]
        list per row, best first."""

    def search(
        self, vector: np.ndarray, k: int, *, namespace: Namespace | None = None, filter: Filter = ()
    ) -> list[tuple[int, float]]:
        """`search_many` for one vector `(d,)`."""
        return self.search_many(vector[None, :], k, namespace=namespace, filter=filter)[0]

    @abstractmethod
    def lexical(
        self, text: str, k: int, *, namespace: Namespace | None = None, filter: Filter = ()
    ) -> list[tuple[int, float]]:
        """The lexical (BM25) top-k slots for `text`: [(slot, score)], best first."""

    @abstractmethod
    def naming(self, phrases: Sequence[str], *, namespace: Namespace | None = None) -> np.ndarray:
        """The slots (sorted `(m,)`) of the memories whose text, or a version it superseded, holds one of
        the name `phrases` (text.name_phrases), in the tenant of `namespace` (its first segment; None: in
        any namespace): callers keep those they may see."""

    @abstractmethod
    def neighbourhood(
        self,
        slots: Sequence[int],
        strong: Sequence[int],
        *,
        namespace: Namespace | None = None,
        filter: Filter = (),
        visible: bool = True,
    ) -> ReadBatch:
        """The read rows of `slots` and of the temporal neighbours (previous and next) of `strong`, in
        one lookup; with `visible`, only those the read may return (under the namespace and filter,
        indexed, unexpired)."""

    @abstractmethod
    def rows(self, slots: Sequence[int]) -> dict[int, SlotRow]:
        """The stored rows of those of `slots` that exist. A row fetched once in a call is not fetched
        again: the records a read returns are made from them."""

    @abstractmethod
    def vectors(self, slots: Sequence[int]) -> np.ndarray:
        """Key vectors `(len(slots), d)` of indexed slots."""


class Backend(ABC):
    """A store's durable truth and the caches a read needs (see the module docstring).

    Writes (`insert` ... `refresh_ttl`) run inside `transaction()`; everything else runs outside one.
    """

    @abstractmethod
    def location(self) -> str:
        """Where the store lives (a directory, a database URL), for messages."""

    @abstractmethod
    def errors(self) -> AbstractContextManager[None]:
        """A block in which the backend's own failures (a damaged or vanished store, a lock held too
        long, a closed connection) are raised as the library's errors, each naming its fix."""

    # -- the store's own facts --------------------------------------------------------------------

    @abstractmethod
    def get_meta(self, key: str) -> str | None: ...

    @abstractmethod
    def set_meta(self, **facts: str) -> None:
        """Record the store's own facts (its encoder, its dimension), all in one commit."""

    @abstractmethod
    def open_index(self, dim: int, kind: str | None) -> None:
        """Load (or build) the dense index for `dim`-d keys, of the store's recorded kind, else `kind`,
        else the configured one; recorded for later opens. Once per backend, before any read."""

    # -- writes ---------------------------------------------------------------------------------

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """One atomic write: committed as a whole on leaving the block (durable once it returns),
        rolled back on any error; the caches catch up with it before the block is left. A transaction
        opened inside another joins it."""

    @abstractmethod
    def insert(self, rows: Sequence[NewSlot], now: float) -> list[int]:
        """Append slots in order, each linked after the latest memory of its namespace; their slots."""

    @abstractmethod
    def update(
        self,
        slot: int,
        *,
        text: str,
        metadata: dict[str, Any],
        speaker: str,
        event_time: float | None,
        vector: np.ndarray | None,
        now: float,
        ttl: float | None = None,
        relink: bool = False,
    ) -> None:
        """Replace a slot's content, its current version kept in its history; `relink` moves it to the
        end of its namespace's write order."""

    @abstractmethod
    def delete(self, slots: Sequence[int]) -> int:
        """Delete slots and their history, linking each one's neighbours to each other; how many. What
        was deleted is recoverable from no file of the store once the transaction is done."""

    @abstractmethod
    def purge_history(self, slots: Sequence[int]) -> int:
        """Delete the past versions of `slots`, keeping the current ones; how many versions went. Erased
        as `delete` erases."""

    @abstractmethod
    def restore_history(self, slot: int, versions: Sequence[Mapping[str, Any]]) -> None:
        """Put back past versions verbatim (version, text, metadata, event_time, updated_at)."""

    @abstractmethod
    def set_fields(self, slot: int, **fields: Any) -> None:
        """Set version, created_at, updated_at, usage, last_read_at or expires_at verbatim (restore)."""

    @abstractmethod
    def add_usage(self, weights: Mapping[int, float], now: float) -> None:
        """Grow the usage of read slots by their read weights (DNC usage, u <- u + w - u w)."""

    @abstractmethod
    def refresh_ttl(self, slots: Sequence[int], now: float) -> None:
        """Restart the expiry clock of those of `slots` stored with a ttl."""

    # -- reads ----------------------------------------------------------------------------------

    @abstractmethod
    def rows(self, slots: Sequence[int]) -> dict[int, SlotRow]: ...

    @abstractmethod
    def rows_by_id(self, ids: Sequence[str]) -> dict[str, SlotRow]: ...

    @abstractmethod
    def select(
        self,
        *,
        namespace: Namespace | None = None,
        filter: Filter = (),
        now: float | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[SlotRow]:
        """Rows under a namespace prefix matching a filter, unexpired at `now` (None: expired too), in
        write order."""

    @abstractmethod
    def select_slots(
        self,
        *,
        namespace: Namespace | None = None,
        filter: Filter = (),
        now: float | None = None,
        slots: Sequence[int] | None = None,
    ) -> list[int]:
        """The slots `select` would return (of `slots` only, when given)."""

    @abstractmethod
    def count(
        self, *, namespace: Namespace | None = None, filter: Filter = (), now: float | None = None
    ) -> int: ...

    @abstractmethod
    def ids_with_prefix(
        self, prefix: str, *, namespace: Namespace | None = None, now: float | None = None, limit: int = 2
    ) -> list[str]:
        """Up to `limit` ids starting with `prefix`, sorted, under the namespace prefix."""

    @abstractmethod
    def any(self, *, namespace: Namespace | None = None, now: float | None = None) -> bool:
        """Whether any memory is under the namespace prefix: one index probe, however many there are."""

    @abstractmethod
    def namespace_counts(self, now: float | None = None) -> dict[Namespace, int]:
        """Memories per namespace (unexpired ones only when `now` is given)."""

    @abstractmethod
    def history(self, slot: int) -> list[dict[str, Any]]:
        """Every version of a slot, oldest first (the last is the current one)."""

    @abstractmethod
    def vectors(self, slots: Sequence[int]) -> np.ndarray:
        """Stored key vectors `(len(slots), d)` (zeros for slots without one)."""

    @abstractmethod
    def expired_slots(self, now: float) -> list[int]: ...

    @abstractmethod
    def reader(self) -> SlotReader:
        """A window for one controller call, caught up with every commit so far."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What `Memory.stats` reports of the storage: index kind, indexed memories, bytes on disk."""

    @abstractmethod
    def compact(self) -> None:
        """Reclaim the space of what was deleted."""

    @abstractmethod
    def check(self, *, repair: bool = False) -> list[str]:
        """The store's integrity and its caches against it: the problems found (empty: none); with
        `repair`, caches that cannot be trusted are rebuilt."""

    @abstractmethod
    def close(self, *, save: bool = True) -> None:
        """Close; with `save`, write the caches that changed so the next open need not rebuild them."""
