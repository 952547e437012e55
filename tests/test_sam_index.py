"""SAM's batched exact index: the same answers as one FAISS IndexFlatIP per batch element."""

from __future__ import annotations

import faiss
import numpy as np
import torch

from agentmem.research import addressing as A
from agentmem.research.models import MemoryIndex, MemoryIndexConfig, SAMConfig, SAMMemory
from agentmem.research.models.network import split_interface


def _faiss_reference(rows: dict[int, np.ndarray], queries: np.ndarray, k: int) -> np.ndarray:
    """Per-element search the way SAM did it before batching: one IndexFlatIP per element."""
    out = np.full((*queries.shape[:2], k), -1, dtype=np.int64)
    for b, table in rows.items():
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(queries.shape[-1]))
        ids = np.array(sorted(table), dtype=np.int64)
        if len(ids):
            vectors = np.stack([table[i] for i in ids]).astype(np.float32)
            index.add_with_ids(vectors / np.linalg.norm(vectors, axis=-1, keepdims=True), ids)
            q = queries[b] / np.linalg.norm(queries[b], axis=-1, keepdims=True)
            out[b] = index.search(np.ascontiguousarray(q, dtype=np.float32), k)[1]
    return out


def test_flat_batched_search_equals_per_element_faiss_after_incremental_updates() -> None:
    generator = torch.Generator().manual_seed(0)
    batch, slots, width, k = 3, 20, 6, 5
    index = MemoryIndex(batch_size=batch, memory_size=slots, word_size=width, config=MemoryIndexConfig(kind="flat"))
    truth: dict[int, dict[int, np.ndarray]] = {b: {} for b in range(batch)}
    for step in range(30):  # overwrites slots in place; element 2 stays empty for the first 10 steps
        ids = torch.randint(0, slots, (batch, 3), generator=generator)
        ids = A.coalesce(ids, torch.zeros(ids.shape))[0]  # distinct per element, -1 padded
        if step < 10:
            ids[2] = -1
        vectors = torch.randn(batch, 3, width, generator=generator)
        index.update(ids, vectors)
        for b in range(batch):
            for m, slot in enumerate(ids[b].tolist()):
                if slot >= 0:
                    truth[b][slot] = vectors[b, m].numpy()
        queries = torch.randn(batch, 2, width, generator=generator)
        found = index.search(queries, k).numpy()
        expected = _faiss_reference(truth, queries.numpy(), k)
        np.testing.assert_array_equal(found, expected)
        assert [index.ntotal(b) for b in range(batch)] == [len(truth[b]) for b in range(batch)]


def test_flat_search_pads_with_minus_one_when_k_exceeds_the_slots() -> None:
    index = MemoryIndex(batch_size=1, memory_size=3, word_size=2, config=MemoryIndexConfig(kind="flat"))
    index.update(torch.tensor([[2]]), torch.tensor([[[1.0, 0.0]]]))
    assert index.search(torch.tensor([[[1.0, 1.0]]]), 5).tolist() == [[[2, -1, -1, -1, -1]]]


def test_sparse_reads_equal_dense_content_weighting_when_k_is_n_after_training_writes() -> None:
    """Sparse == dense through the batched index: after SAM's own writes, K = N content weights over
    the written slots equal the dense softmax over those slots' current contents."""
    generator = torch.Generator().manual_seed(1)
    core = SAMMemory(SAMConfig(memory_size=8, word_size=4, read_heads=1, candidates=8, prefill=True))
    state = core.initial_state(2, torch.device("cpu"))
    with torch.no_grad():
        for _ in range(12):
            raw = torch.randn(2, core.interface_size, generator=generator) * 2
            core.step(split_interface(raw, core.fields), state)
        keys = torch.randn(2, 1, 4, generator=generator)
        beta = torch.rand(2, 1, generator=generator) * 5
        ids = state.index.search(keys, 8)
        sparse = A.sparse_content_weighting(core.rows(state, ids), keys, beta)
        memory = core.rows(state, torch.arange(8).expand(2, 8))
        dense = A.content_weighting(memory, keys, beta).gather(-1, ids)
    torch.testing.assert_close(sparse, dense, atol=1e-5, rtol=0)
