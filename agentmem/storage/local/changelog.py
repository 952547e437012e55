"""ChangeLogCache: what the FAISS index (index.py) and the BM25 index (lexical.py) share as caches of
the store that can always be rebuilt.

Each remembers the position in the store's change log it reflects (`seq`). `sync` replays the changes
after it: this process's writes, another process's, or everything since the cache was last saved.
Only when the log no longer reaches back that far (or belongs to another store) is the cache rebuilt
from the slots, with a warning. A subclass says what it holds per slot (a key, a text) through
`_present` and `_all`, and how to take it in through `add`, `remove` and `_reset`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from agentmem.storage.local.sqlite import SlotStore

log = logging.getLogger("agentmem")


class ChangeLogCache:
    """Keeps `seq` and replays or rebuilds; see the module docstring."""

    what = "cache"  # named in the rebuild warning
    seq: int

    def _reset(self) -> None:
        raise NotImplementedError

    def add(self, slots: Sequence[int], items: Any) -> None:
        raise NotImplementedError

    def remove(self, slots: Sequence[int]) -> None:
        raise NotImplementedError

    def _present(self, store: SlotStore, slots: list[int]) -> tuple[Any, Any]:
        """(slots, items) for those of `slots` still indexed in the store, in order."""
        raise NotImplementedError

    def _all(self, store: SlotStore) -> Iterator[tuple[Any, Any]]:
        """Every indexed slot as (slots, items) batches."""
        raise NotImplementedError

    def sync(self, store: SlotStore) -> None:
        """Replay the store's changes since `seq`; rebuild when they cannot be replayed."""
        with store.read_snapshot():
            hi, changes, replayable = store.changes_since(self.seq)
            if not replayable:
                log.warning(
                    "%s is behind what the change log keeps (or from another store): rebuilding it", self.what
                )
                self._rebuild_locked(store)
                return
            if not changes:
                return
            self.remove(sorted({s for s, op in changes if op == "remove"}))
            self.add(*self._present(store, list(dict.fromkeys(s for s, op in changes if op == "add"))))
            self.seq = hi

    def rebuild(self, store: SlotStore) -> None:
        """Rebuild from the store's slots (one consistent snapshot)."""
        with store.read_snapshot():
            self._rebuild_locked(store)

    def _rebuild_locked(self, store: SlotStore) -> None:
        self._reset()
        self.seq = store.latest_seq()
        for slots, items in self._all(store):
            self.add(slots, items)
