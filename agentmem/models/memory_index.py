"""FAISS top-K over the slots of a sparse memory, updated incrementally at every write (SAM).

One FAISS index per batch element (each element has its own memory). Rows are L2-normalised so inner
product = cosine, the similarity content addressing uses. A write removes and re-adds only the rows it
changed: rebuilding the index each step would make SAM's step O(N) again.

Kinds: "flat" is exact (IndexIDMap2 over IndexFlatIP; remove is an O(N) memmove, fine for small N);
"ivf" is approximate and sub-linear (IndexIVFFlat with a hash-table direct map, so `remove_ids` of a
few ids costs O(K), not a scan); "auto" picks flat up to `flat_max` slots. The index always lives on
the CPU: FAISS's GPU indexes cannot remove ids, which an incrementally updated memory needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import faiss
import numpy as np
import torch

# Small query batches (a few heads) are otherwise 11-13x slower than with BLAS kicking in early.
faiss.cvar.distance_compute_blas_threshold = 20


@dataclass(frozen=True)
class IndexConfig:
    kind: str = "auto"  # "auto" | "flat" | "ivf"
    flat_max: int = 16_384
    nprobe: int = 8
    seed: int = 0


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


class MemoryIndex:
    """FAISS indexes over `batch_size` memories of `memory_size` slots of `word_size` floats."""

    def __init__(
        self, *, batch_size: int, memory_size: int, word_size: int, config: IndexConfig = IndexConfig()
    ) -> None:
        self.config = config
        self.word_size = word_size
        kind = config.kind
        if kind == "auto":
            kind = "flat" if memory_size <= config.flat_max else "ivf"
        self.kind = kind
        if kind == "flat":
            self.indexes = [faiss.IndexIDMap2(faiss.IndexFlatIP(word_size)) for _ in range(batch_size)]
        elif kind == "ivf":
            template = self._trained_ivf(memory_size, word_size)
            self.indexes = [faiss.clone_index(template) for _ in range(batch_size)]
            for index in self.indexes:
                index.set_direct_map_type(faiss.DirectMap.Hashtable)
                index.nprobe = config.nprobe
        else:
            raise ValueError(f"unknown index kind {config.kind!r}")

    def _trained_ivf(self, memory_size: int, word_size: int) -> faiss.Index:
        # Lists of ~sqrt(N) rows: a probe costs O(sqrt(N)) instead of O(N). Keys are unit vectors, so
        # centroids trained on random unit vectors cover the sphere evenly.
        nlist = max(16, int(math.sqrt(memory_size)))
        quantizer = faiss.IndexFlatIP(word_size)
        index = faiss.IndexIVFFlat(quantizer, word_size, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(self.config.seed)
        index.train(_normalise(rng.standard_normal((nlist * 39, word_size)).astype(np.float32)))
        return index

    def __len__(self) -> int:
        return len(self.indexes)

    def ntotal(self, b: int) -> int:
        return self.indexes[b].ntotal

    def update(self, ids: torch.Tensor, vectors: torch.Tensor) -> None:
        """Replace the rows `ids` (B, M) (-1 = none, distinct per element) by `vectors` (B, M, W)."""
        ids_np = ids.detach().cpu().numpy().astype(np.int64)
        vectors_np = vectors.detach().float().cpu().numpy()
        for b, index in enumerate(self.indexes):
            keep = ids_np[b] >= 0
            if not keep.any():
                continue
            row_ids = np.ascontiguousarray(ids_np[b][keep])
            index.remove_ids(faiss.IDSelectorArray(row_ids))
            index.add_with_ids(_normalise(vectors_np[b][keep]), row_ids)

    def search(self, queries: torch.Tensor, k: int) -> torch.Tensor:
        """Top-k slot ids by cosine for queries (B, H, W) -> (B, H, k) int64, -1 where fewer exist."""
        queries_np = _normalise(queries.detach().float().cpu().numpy())
        out = np.full((*queries_np.shape[:2], k), -1, dtype=np.int64)
        for b, index in enumerate(self.indexes):
            if index.ntotal:
                out[b] = index.search(queries_np[b], k)[1]
        return torch.from_numpy(out).to(queries.device)

    def vector(self, b: int, slot: int) -> np.ndarray:
        """The stored (normalised) vector of one slot; raises if the slot is not indexed."""
        return self.indexes[b].reconstruct(int(slot))
