"""SlotIndex: FAISS top-K over slot keys, a cache of the store that can always be rebuilt.

Like the BM25 index, it is a `ChangeLogCache` (replay.py): caught up by replaying the store's change
log, rebuilt with a warning only when that cannot be done.

It answers the reads that span tenants (unscoped ones, and those of a tenant too large to search
exactly): a read scoped to one tenant searches that tenant's keys alone (tenants.py).

Kinds:
- "auto" (default): exact (as "flat") until the index holds `ivf_from` keys, then an inverted file
  (`IndexIVFScalarQuantizer`, float16 codes, `ivf_lists` k-means lists trained on the keys held then):
  a search scans the `ivf_probe` lists nearest the query, a few thousand keys of a million, and a key
  takes half the memory of a float32 one. Removal is in place (a hash table maps slots to codes).
  The lists are trained once; keys added later join the nearest list.
- "flat": `IndexIDMap2(IndexFlatIP)`, exact inner product (= cosine on unit keys), and `remove_ids`
  deletes in place.
- "hnsw": `IndexHNSWFlat`, approximate and sub-linear for large stores. HNSW cannot remove vectors,
  so removed entries become tombstones that searches skip, and the graph is rebuilt once tombstones
  pass `rebuild_tombstone_ratio` of its size.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import faiss
import numpy as np

from agentmem.cpu import faiss_threads
from agentmem.errors import InvalidInputError
from agentmem.storage.local.changelog import ChangeLogCache, open_member, read_stamp, save_npz
from agentmem.storage.local.sqlite import SlotStore

# Small query batches go through FAISS's non-BLAS path below this size; the default (20) already
# applies, but set it explicitly: with larger values single queries run many times slower.
faiss.cvar.distance_compute_blas_threshold = 20

log = logging.getLogger("agentmem")
INDEX_FILE = "index.faiss.npz"
INDEX_MEMBER = "index.faiss"  # the FAISS index inside INDEX_FILE, streamed in and out
KINDS = ("auto", "flat", "hnsw")


@dataclass
class IndexConfig:
    """Which FAISS index holds the slot keys.

    kind: "auto" (exact, then an inverted file past `ivf_from` keys; default), "flat" (exact) or
        "hnsw" (approximate).
    ivf_from / ivf_lists / ivf_probe: "auto" trains `ivf_lists` lists once it holds `ivf_from` keys,
        and a search scans the `ivf_probe` nearest lists.
    hnsw_m / hnsw_ef_construction / hnsw_ef_search: HNSW graph degree and beam widths.
    rebuild_tombstone_ratio: rebuild an HNSW graph once this share of it is tombstones.
    omp_threads: FAISS OpenMP threads (process-wide). One suits an agent's tiny query batches: FAISS
        ships its own OpenMP runtime beside torch's, and on a busy CPU two spinning pools make a small
        search orders of magnitude slower than one thread does.
    """

    kind: Literal["auto", "flat", "hnsw"] = "auto"
    ivf_from: int = 50_000
    ivf_lists: int = 1024
    ivf_probe: int = 24
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 96
    rebuild_tombstone_ratio: float = 0.25
    omp_threads: int = 1


class SlotIndex(ChangeLogCache):
    """Top-K inner-product search over slot keys `(N, d)`, addressed by slot number."""

    what = "index"

    def __init__(self, dim: int, config: IndexConfig | None = None) -> None:
        self.config = config or IndexConfig()
        if self.config.kind not in KINDS:
            raise InvalidInputError(f"unknown index kind {self.config.kind!r}; use 'auto', 'flat' or 'hnsw'")
        self.dim = dim
        self.seq = 0  # change-log position this index reflects
        faiss_threads(self.config.omp_threads)
        self._reset()

    def _reset(self) -> None:
        if self.config.kind in ("flat", "auto"):  # "auto" starts exact (`_maybe_train`)
            self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        else:
            self.index = faiss.IndexHNSWFlat(self.dim, self.config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            self.index.hnsw.efConstruction = self.config.hnsw_ef_construction
            self.index.hnsw.efSearch = self.config.hnsw_ef_search
        # HNSW only: position in the graph -> slot (-1 = tombstone), and the live position of a slot.
        self.labels = np.zeros(0, dtype=np.int64)
        self.position: dict[int, int] = {}

    @property
    def size(self) -> int:
        """Live (searchable) keys."""
        return len(self.position) if self.config.kind == "hnsw" else self.index.ntotal

    @property
    def ivf(self) -> bool:
        """Whether the index is an inverted file ("auto" past `ivf_from` keys)."""
        return isinstance(self.index, faiss.IndexIVF)

    @property
    def exact(self) -> bool:
        return self.config.kind != "hnsw" and not self.ivf

    def _maybe_train(self) -> None:
        """Turn an "auto" index holding `ivf_from` keys into an inverted file trained on them."""
        c = self.config
        if c.kind != "auto" or self.ivf or self.index.ntotal < c.ivf_from:
            return
        flat = self.index
        slots = faiss.vector_to_array(flat.id_map).astype(np.int64)
        keys = faiss.rev_swig_ptr(faiss.downcast_index(flat.index).get_xb(), flat.ntotal * self.dim)
        keys = np.asarray(keys).reshape(-1, self.dim)
        lists = min(c.ivf_lists, max(1, len(keys) // 39))  # k-means wants 39 points a centroid
        ivf = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(self.dim), self.dim, lists, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        sample = np.random.default_rng(0).choice(len(keys), min(len(keys), 64 * lists), replace=False)
        log.info("training an inverted file of %d lists on %d keys", lists, len(sample))
        faiss_threads(0)  # training is a batch job: every core (0: OpenMP's default)
        try:
            ivf.train(np.ascontiguousarray(keys[np.sort(sample)]))
        finally:
            faiss_threads(c.omp_threads)
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        ivf.nprobe = c.ivf_probe
        ivf.add_with_ids(np.ascontiguousarray(keys), slots)
        self.index = ivf

    # -- mutation ------------------------------------------------------------------------------

    def add(self, slots: np.ndarray, vectors: np.ndarray) -> None:
        """Add keys `(n, d)` for `slots (n,)`; a slot must not already be live."""
        if len(slots) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        slots = np.asarray(slots, dtype=np.int64)
        if self.config.kind != "hnsw":
            self.index.add_with_ids(vectors, slots)
            self._maybe_train()
            return
        start = self.index.ntotal
        self.index.add(vectors)
        self.labels = np.concatenate([self.labels, slots])
        self.position.update(zip(slots.tolist(), range(start, start + len(slots)), strict=True))

    def remove(self, slots: np.ndarray) -> None:
        if len(slots) == 0:
            return
        slots = np.asarray(slots, dtype=np.int64)
        if self.ivf:  # the slot -> code hash table removes by an id array only
            self.index.remove_ids(faiss.IDSelectorArray(len(slots), faiss.swig_ptr(slots)))
            return
        if self.config.kind != "hnsw":
            self.index.remove_ids(faiss.IDSelectorBatch(slots))
            return
        dead = [pos for s in slots.tolist() if (pos := self.position.pop(s, None)) is not None]
        self.labels[dead] = -1
        # HNSW keeps a removed key in its graph: zero it, so an erased memory's key is in no saved file.
        stored = faiss.downcast_index(self.index.storage)
        faiss.rev_swig_ptr(stored.get_xb(), self.index.ntotal * self.dim).reshape(-1, self.dim)[dead] = 0.0

    def slots(self) -> set[int]:
        """The slots live in the index."""
        if self.config.kind == "hnsw":
            return set(self.position)
        if self.index.ntotal == 0:
            return set()
        if self.ivf:
            invlists = self.index.invlists
            return {
                int(i)
                for lst in range(self.index.nlist)
                for i in faiss.rev_swig_ptr(invlists.get_ids(lst), invlists.list_size(lst))
            }
        return set(faiss.vector_to_array(faiss.downcast_index(self.index).id_map).tolist())

    def vectors(self, slots: np.ndarray) -> np.ndarray:
        """The live keys of `slots (n,)` as `(n, d)`: a copy out of the index, no database read. A slot
        the index does not hold raises (RuntimeError for flat, KeyError for HNSW)."""
        slots = np.asarray(slots, dtype=np.int64)
        if self.config.kind != "hnsw":
            return self.index.reconstruct_batch(slots)
        return self.index.reconstruct_batch(np.array([self.position[s] for s in slots.tolist()], np.int64))

    def needs_compaction(self) -> bool:
        dead = self.index.ntotal - self.size
        return self.config.kind == "hnsw" and dead > self.config.rebuild_tombstone_ratio * max(
            self.index.ntotal, 1
        )

    # -- search --------------------------------------------------------------------------------

    def search(
        self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k keys by inner product for queries `(B, d)`.

        allowed: optional slots `(M,)` to restrict the search to (exact for flat, filtered otherwise).
        Returns (scores (B, k), slots (B, k)); missing entries have slot -1 and score -inf.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        # OpenMP's thread count is per calling thread: a search from any other thread than the one that
        # opened the index would otherwise use every core.
        faiss_threads(self.config.omp_threads)
        k = max(1, min(k, self.size))
        if self.size == 0:
            return np.full((len(queries), 1), -np.inf, np.float32), np.full((len(queries), 1), -1, np.int64)
        if self.exact:
            if allowed is None:  # exhaustive over k <= size keys: every entry is filled, none is -1
                return self.index.search(queries, k)
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
            scores, slots = self.index.search(queries, k, params=params)
        elif self.ivf:
            params = faiss.SearchParametersIVF(nprobe=self.config.ivf_probe)
            if allowed is not None:
                params.sel = faiss.IDSelectorBatch(allowed)
            scores, slots = self.index.search(queries, k, params=params)
        else:
            scores, slots = self._search_hnsw(queries, k, allowed)
        scores = np.where(slots < 0, -np.inf, scores).astype(np.float32)
        return scores, slots

    def _search_hnsw(self, queries: np.ndarray, k: int, allowed: np.ndarray | None):
        if allowed is not None:
            keep = np.fromiter(
                (self.position[s] for s in np.asarray(allowed).tolist() if s in self.position), dtype=np.int64
            )
            sel = faiss.IDSelectorBatch(keep)
        else:
            dead = np.nonzero(self.labels < 0)[0]
            # Skip tombstones by excluding them (few), rather than listing every live position (many).
            sel = faiss.IDSelectorNot(faiss.IDSelectorBatch(dead)) if len(dead) else None
        params = faiss.SearchParametersHNSW(efSearch=max(self.config.hnsw_ef_search, k))
        if sel is not None:
            params.sel = sel
        scores, pos = self.index.search(queries, k, params=params)
        slots = np.where(pos >= 0, self.labels[np.maximum(pos, 0)], -1)
        return scores, slots

    # -- keeping up with the store -------------------------------------------------------------

    def _present(self, store: SlotStore, slots: list[int]) -> tuple[np.ndarray, np.ndarray]:
        return store.present_vectors(slots, self.dim)

    def _all(self, store: SlotStore) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return store.iter_vectors(self.dim)

    def sync(self, store: SlotStore) -> None:
        """Replay the store's changes since `seq` (or rebuild); then compact an HNSW graph if due."""
        super().sync(store)
        if self.needs_compaction():
            self.rebuild(store)

    # -- persistence ---------------------------------------------------------------------------

    def save(self, directory: Path, store_id: str) -> None:
        """Write index, labels and stamp as one file, atomically (changelog.save_npz)."""
        stamp = {"store_id": store_id, "seq": self.seq, "tx": self.tx, "kind": self.config.kind, "dim": self.dim}

        def write(out: Callable[[bytes], object]) -> None:
            # Streamed: a serialised copy of a million keys would double the memory a save takes.
            faiss.write_index(self.index, faiss.PyCallbackIOWriter(out))

        save_npz(Path(directory) / INDEX_FILE, stamp, streams={INDEX_MEMBER: write}, labels=self.labels)

    @classmethod
    def open(
        cls, directory: Path, store: SlotStore, dim: int, config: IndexConfig | None = None
    ) -> SlotIndex:
        """Load the saved index and catch it up, or rebuild it (with a warning) when unusable."""
        config = config or IndexConfig()
        path = Path(directory) / INDEX_FILE
        index = cls(dim, config)
        store_id = store.get_meta("store_id") or ""
        if not path.exists():
            # No file is the normal state of a store no process has read yet (writes with the
            # caller's ids never load the index), so building it is news, not a warning.
            if store.count(indexed_only=True):
                log.info("no index file %s: building it from the store", path)
            index.rebuild(store)
            return index
        try:
            with np.load(path) as z:
                stamp = read_stamp(z)
                if stamp != {**stamp, "store_id": store_id, "kind": config.kind, "dim": dim}:
                    raise ValueError(f"built for another store or index ({stamp})")
                index.labels = z["labels"]
            with open_member(path, INDEX_MEMBER) as member:
                index.index = faiss.read_index(faiss.PyCallbackIOReader(member.read))
            if isinstance(index.index, faiss.IndexIVF):
                index.index.nprobe = config.ivf_probe
            index.seq, index.tx, index.from_file = int(stamp["seq"]), stamp.get("tx"), True
            index.file_seq = index.seq
            if config.kind == "hnsw":
                index.index.hnsw.efSearch = config.hnsw_ef_search
                live = np.nonzero(index.labels >= 0)[0]
                index.position = dict(zip(index.labels[live].tolist(), live.tolist(), strict=True))
        except Exception as e:  # noqa: BLE001 - any unreadable cache is rebuilt, never fatal
            log.warning("index file %s is unreadable (%s): rebuilding it from the store", path, e)
            index = cls(dim, config)
            index.rebuild(store)
            return index
        index.sync(store)
        return index
