"""Top-K over the slots of a sparse memory, updated incrementally at every write (SAM).

Each batch element has its own memory. Rows are L2-normalised so inner product = cosine, the
similarity content addressing uses. A write replaces only the rows it changed: rebuilding the index
each step would make SAM's step O(N) again.

Kinds:
- "flat" is exact. The normalised rows of all batch elements live in one (B, N, W) tensor on the
  memory's device, and one batched matmul + top-k answers every element's queries at once. This is
  what a FAISS IndexFlatIP computes, without a FAISS call per batch element in a Python loop (FAISS
  cannot restrict one search to a different id range per query), and it runs on CUDA too. An update
  writes the changed rows in place, O(K).
- "ivf" is approximate and sub-linear, for large N: one FAISS IndexIVFFlat per batch element, with a
  hash-table direct map so `remove_ids` of a few ids costs O(K), not a scan. It lives on the CPU
  (FAISS's GPU indexes cannot remove ids, which an incrementally updated memory needs), and its
  searches and updates loop over the batch elements.
- "auto" picks flat up to `flat_max` slots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import faiss
import numpy as np
import torch
import torch.nn.functional as F

# Small query batches (a few heads) are otherwise many times slower than with BLAS kicking in early.
faiss.cvar.distance_compute_blas_threshold = 20

_NORM_EPS = 1e-12  # a zero row stays zero (cosine 0 to every query) instead of dividing by 0


@dataclass(frozen=True)
class MemoryIndexConfig:
    kind: str = "auto"  # "auto" | "flat" | "ivf"
    flat_max: int = 16_384
    nprobe: int = 8
    seed: int = 0


class MemoryIndex:
    """Top-K cosine search over `batch_size` memories of `memory_size` slots of `word_size` floats."""

    def __init__(
        self,
        *,
        batch_size: int,
        memory_size: int,
        word_size: int,
        config: MemoryIndexConfig = MemoryIndexConfig(),
        device: torch.device | str = "cpu",
    ) -> None:
        self.config = config
        self.word_size = word_size
        kind = config.kind
        if kind == "auto":
            kind = "flat" if memory_size <= config.flat_max else "ivf"
        self.kind = kind
        if kind == "flat":
            self.rows = torch.zeros(batch_size, memory_size, word_size, device=device)  # (B, N, W) unit
            self.present = torch.zeros(batch_size, memory_size, dtype=torch.bool, device=device)  # (B, N)
        elif kind == "ivf":
            template = self._trained_ivf(memory_size, word_size)
            self.indexes = [faiss.clone_index(template) for _ in range(batch_size)]
            for index in self.indexes:
                index.set_direct_map_type(faiss.DirectMap.Hashtable)
                index.nprobe = config.nprobe
        else:
            raise ValueError(f"unknown index kind {config.kind!r}")
        self.batch_size = batch_size

    def _trained_ivf(self, memory_size: int, word_size: int) -> faiss.Index:
        # Lists of ~sqrt(N) rows: a probe costs O(sqrt(N)) instead of O(N). Keys are unit vectors, so
        # centroids trained on random unit vectors cover the sphere evenly.
        nlist = max(16, int(math.sqrt(memory_size)))
        quantizer = faiss.IndexFlatIP(word_size)
        index = faiss.IndexIVFFlat(quantizer, word_size, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(self.config.seed)
        sample = rng.standard_normal((nlist * 39, word_size)).astype(np.float32)
        index.train(np.ascontiguousarray(sample / np.linalg.norm(sample, axis=-1, keepdims=True)))
        return index

    def __len__(self) -> int:
        return self.batch_size

    def ntotal(self, b: int) -> int:
        """How many slots of batch element b are indexed."""
        if self.kind == "flat":
            return int(self.present[b].sum())
        return self.indexes[b].ntotal

    def update(self, ids: torch.Tensor, vectors: torch.Tensor) -> None:
        """Replace the rows `ids` (B, M) (-1 = none, distinct per element) by `vectors` (B, M, W)."""
        unit = F.normalize(vectors.detach().float(), dim=-1, eps=_NORM_EPS)
        if self.kind == "flat":
            valid = ids >= 0
            batch = torch.arange(ids.shape[0], device=ids.device).unsqueeze(-1).expand_as(ids)
            self.rows[batch[valid], ids[valid]] = unit[valid].to(self.rows)
            self.present[batch[valid], ids[valid]] = True
            return
        ids_np = ids.detach().cpu().numpy().astype(np.int64)
        unit_np = unit.cpu().numpy()
        for b, index in enumerate(self.indexes):
            keep = ids_np[b] >= 0
            if not keep.any():
                continue
            # A full update (a prefilled memory) passes its rows as they are: masking would copy N x W.
            rows = unit_np[b] if keep.all() else unit_np[b][keep]
            row_ids = np.ascontiguousarray(ids_np[b][keep])
            index.remove_ids(faiss.IDSelectorArray(row_ids))
            index.add_with_ids(np.ascontiguousarray(rows), row_ids)

    def search(self, queries: torch.Tensor, k: int) -> torch.Tensor:
        """Top-k slot ids by cosine for queries (B, H, W) -> (B, H, k) int64, -1 where fewer exist."""
        unit = F.normalize(queries.detach().float(), dim=-1, eps=_NORM_EPS)
        if self.kind == "flat":
            scores = torch.einsum("bhw,bnw->bhn", unit.to(self.rows), self.rows)
            scores = scores.masked_fill(~self.present.unsqueeze(1), float("-inf"))
            top = scores.topk(min(k, scores.shape[-1]), dim=-1)
            found = torch.where(torch.isfinite(top.values), top.indices, -1)
            return F.pad(found, (0, k - found.shape[-1]), value=-1).to(queries.device)
        unit_np = unit.cpu().numpy()
        out = np.full((*unit_np.shape[:2], k), -1, dtype=np.int64)
        for b, index in enumerate(self.indexes):
            if index.ntotal:
                out[b] = index.search(np.ascontiguousarray(unit_np[b]), k)[1]
        return torch.from_numpy(out).to(queries.device)

    def vector(self, b: int, slot: int) -> np.ndarray:
        """The stored (normalised) vector of one slot; raises if the slot is not indexed."""
        if self.kind == "flat":
            if not self.present[b, slot]:
                raise KeyError(f"slot {slot} of batch element {b} is not indexed")
            return self.rows[b, slot].cpu().numpy()
        return self.indexes[b].reconstruct(int(slot))
