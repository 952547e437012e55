"""ChangeLogCache: what the dense index (dense.py) and the BM25 index (lexical.py) share as caches of
the store that can always be rebuilt.

Each remembers the position in the store's change log it reflects (`seq`) and the token of the
transaction that logged that change (`tx`). `sync` replays the changes after it: this process's
writes, another process's, or everything since the cache was last saved. When the log no longer
reaches back that far, or its entry at `seq` has another token (the cache belongs to another copy of
the store, whose contents diverged), the cache is rebuilt from the slots, with a warning. A cache
ahead of the log means the database lost commits the cache saw: that is refused, never papered over.

A subclass says what it holds per slot (a key, a text) through `_present` and `_all`, and how to take
it in through `add`, `remove` and `_reset`.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from agentmem.errors import CorruptStoreError
from agentmem.storage.local.sqlite import SlotStore

log = logging.getLogger("agentmem")


class ChangeLogCache:
    """Keeps `seq` and replays or rebuilds; see the module docstring."""

    what = "cache"  # named in the rebuild warning
    seq: int
    tx: str | None = None
    # Loaded from a file and not synced since: a position ahead of the log then means lost commits.
    # (A cache kept in memory can be ahead only of a transaction that rolled back: it is rebuilt.)
    from_file = False
    # The position of the file this cache was loaded from (-1: built, not loaded): a cache whose
    # position has moved past it is saved again on close.
    file_seq = -1

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
            if self.seq > hi and self.from_file:
                raise CorruptStoreError(
                    f"the {self.what} of {store.directory} has seen changes up to {self.seq} but the database's "
                    f"log ends at {hi}: the database lost commits (a deleted or damaged write-ahead log, or an "
                    f"older copy restored); run `agentmem --store {store.directory} check --repair` to keep what "
                    "the database holds, or restore a backup"
                )
            if replayable and self.seq > 0 and store.change_tx(self.seq) != self.tx:
                replayable = False  # the same position in another copy's log: other contents
            self.from_file = False
            if not replayable:
                log.warning(
                    "%s is behind what the change log keeps (or from another copy of the store): rebuilding it",
                    self.what,
                )
                self._rebuild_locked(store)
                return
            if not changes:
                return
            self.remove(sorted({s for s, op in changes if op == "remove"}))
            self.add(*self._present(store, list(dict.fromkeys(s for s, op in changes if op == "add"))))
            self.seq, self.tx = hi, store.change_tx(hi)

    def rebuild(self, store: SlotStore) -> None:
        """Rebuild from the store's slots (one consistent snapshot)."""
        with store.read_snapshot():
            self._rebuild_locked(store)

    def _rebuild_locked(self, store: SlotStore) -> None:
        self._reset()
        self.seq = store.latest_seq()
        self.tx = store.change_tx(self.seq)
        for batch in self._all(store):
            self.add(*batch)


def save_npz(
    path: Path,
    stamp: Mapping[str, Any],
    *,
    streams: Mapping[str, Callable[[Callable[[bytes], Any]], None]] | None = None,
    **arrays: Any,
) -> None:
    """Write a cache file (its arrays and its stamp) atomically: into a temporary file of its own in the
    same directory (several processes may save at once), synced, then renamed over the old one. A crash
    leaves the old file or the new one, never half of either. `streams`: members written by a function
    handed the member's `write`, so a large one (a FAISS index) goes to disk without a copy in memory
    (read back with `open_member`)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
                members = {"stamp": np.frombuffer(json.dumps(dict(stamp)).encode(), dtype=np.uint8), **arrays}
                for name, value in members.items():
                    with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)
                for name, write in (streams or {}).items():
                    with zf.open(name, "w", force_zip64=True) as member:
                        write(member.write)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def open_member(path: Path, name: str) -> Iterator[Any]:
    """A streamed member of a cache file written by `save_npz`, as a binary file object."""
    with zipfile.ZipFile(path) as zf, zf.open(name) as member:
        yield member


def read_stamp(z: Any) -> dict[str, Any]:
    """The stamp of a cache file opened with np.load."""
    return json.loads(z["stamp"].tobytes())
