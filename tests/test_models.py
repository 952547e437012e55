"""NTM, DNC, SAM and LSTM networks: shapes, finite gradients, SAM's index, and tiny training runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agentmem.research.models import MemoryIndex, MemoryIndexConfig, SAMConfig, SAMMemory, build_model
from agentmem.research.models.network import split_interface
from agentmem.research.tasks import CopyConfig, CopyTask
from agentmem.research.trainer import train_step


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: extra threads only contend with the rest of the suite on a small machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


SMALL = {"memory_size": 16, "word_size": 8, "read_heads": 1}


def small_model(name: str, *, input_size: int = 5, output_size: int = 4):
    from agentmem.research.models import ControllerConfig

    return build_model(
        name,
        input_size=input_size,
        output_size=output_size,
        controller=ControllerConfig(hidden_size=32),
        **({} if name == "lstm" else SMALL),
    )


@pytest.mark.parametrize("name", ["ntm", "dnc", "sam", "lstm"])
def test_forward_backward_shapes_and_finite_grads(name: str) -> None:
    torch.manual_seed(0)
    model = small_model(name)
    out = model(torch.randn(3, 7, 5))
    assert out.shape == (3, 7, 4)
    out.pow(2).mean().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname


@pytest.mark.parametrize("name", ["ntm", "dnc", "sam"])
def test_zero_input_first_step_is_nan_free(name: str) -> None:
    """Empty memory, zero usage, zero keys: the first step must not produce NaN gradients."""
    model = small_model(name)
    for p in model.parameters():
        torch.nn.init.zeros_(p)
    out = model(torch.zeros(2, 3, 5))
    out.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_unknown_options_raise() -> None:
    with pytest.raises(ValueError):
        build_model("dnc", input_size=3, output_size=3, candidates=4)
    with pytest.raises(ValueError):
        build_model("transformer", input_size=3, output_size=3)


def _sam_step(core: SAMMemory, state, generator: torch.Generator):
    raw = torch.randn(state.source.shape[0], core.interface_size, generator=generator) * 2
    return core.step(split_interface(raw, core.fields), state)


def test_sam_index_matches_memory_after_many_incremental_writes() -> None:
    """Every slot a SAM memory wrote is in its FAISS index with exactly its current contents."""
    generator = torch.Generator().manual_seed(0)
    core = SAMMemory(SAMConfig(memory_size=32, word_size=6, read_heads=2, candidates=4))
    state = core.initial_state(3, torch.device("cpu"))
    with torch.no_grad():
        for _ in range(60):  # wraps the memory about twice: slots are rewritten in place
            _sam_step(core, state, generator)
        for b in range(3):
            written = (state.source[b] >= 0).nonzero().flatten().tolist()
            assert state.index.ntotal(b) == len(written) > 0
            rows = core.rows(state, torch.tensor(written).unsqueeze(0).expand(3, -1))[b].numpy()
            norms = np.linalg.norm(rows, axis=-1, keepdims=True)
            stored = np.stack([state.index.vector(b, slot) for slot in written])
            np.testing.assert_allclose(stored, rows / np.maximum(norms, 1e-12), atol=1e-5)


def test_sam_reads_find_what_was_written() -> None:
    """A query equal to a stored row returns that row's slot first."""
    index = MemoryIndex(batch_size=2, memory_size=10, word_size=4)
    vectors = torch.eye(4).repeat(2, 1, 1)
    index.update(torch.tensor([[1, 3, 5, 7], [0, 2, 4, 6]]), vectors)
    index.update(
        torch.tensor([[3, -1], [-1, -1]]), torch.tensor([[[0.0, 0, 0, -1], [9, 9, 9, 9]]]).expand(2, -1, -1)
    )
    found = index.search(torch.tensor([[[0.0, 0, 0, -1]], [[0.0, 0, 1, 0]]]), 2)
    assert found[:, 0, 0].tolist() == [3, 4]
    assert index.ntotal(0) == 4 and index.ntotal(1) == 4
    assert index.search(torch.tensor([[[0.0, 0, 0, 1]], [[1.0, 0, 0, 0]]]), 1)[:, 0, 0].tolist() == [7, 0]


def test_ivf_index_supports_incremental_updates() -> None:
    torch.manual_seed(0)
    index = MemoryIndex(
        batch_size=1, memory_size=4096, word_size=8, config=MemoryIndexConfig(kind="ivf", nprobe=64)
    )
    assert index.kind == "ivf"
    rows = torch.nn.functional.normalize(torch.randn(1, 4096, 8), dim=-1)
    index.update(torch.arange(4096).unsqueeze(0), rows)
    index.update(torch.tensor([[17]]), -rows[:, 17:18])
    assert index.ntotal(0) == 4096
    np.testing.assert_allclose(index.vector(0, 17), -rows[0, 17].numpy(), atol=1e-6)
    assert index.search(-rows[:, 17:18], 1)[0, 0, 0].item() == 17


def test_sam_content_equals_dense_when_k_is_n() -> None:
    """With K = N candidates, SAM's content read weights are the dense softmax over all written slots."""
    from agentmem.research import addressing as A

    generator = torch.Generator().manual_seed(3)
    core = SAMMemory(SAMConfig(memory_size=8, word_size=4, read_heads=1, candidates=8, prefill=True))
    state = core.initial_state(2, torch.device("cpu"))
    memory = state.initial
    keys, beta = torch.randn(2, 1, 4, generator=generator), torch.rand(2, 1, generator=generator) * 5
    ids = state.index.search(keys, 8)
    sparse = A.sparse_content_weighting(core.rows(state, ids), keys, beta)
    dense = A.content_weighting(memory, keys, beta).gather(-1, ids)
    torch.testing.assert_close(sparse, dense, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["ntm", "dnc", "sam", "lstm"])
def test_short_training_reduces_copy_loss(name: str) -> None:
    """A few steps on one fixed copy batch must bring the loss down (a wiring check, kept tiny)."""
    torch.manual_seed(0)
    task = CopyTask(CopyConfig(bits=4))
    batch = task.sample(8, generator=torch.Generator().manual_seed(0), length=3)
    model = small_model(name, input_size=task.input_size, output_size=task.output_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = [train_step(model, task, batch, optimizer, clip=10.0)[0] for _ in range(25)]
    assert sum(losses[-3:]) / 3 < 0.8 * sum(losses[:3]) / 3, losses


def test_sam_gradients_through_sparse_memory_match_finite_differences() -> None:
    """Reads at step t differentiate w.r.t. the writes of earlier steps through the provenance pool.

    Read modes are pinned to content: the link values are bookkeeping without gradient by design.
    """
    core = SAMMemory(SAMConfig(memory_size=6, word_size=3, read_heads=1, candidates=3))
    generator = torch.Generator().manual_seed(0)
    raw = torch.randn(4, core.interface_size, generator=generator, dtype=torch.float64)
    raw[:, -3:] = torch.tensor([-30.0, 30.0, -30.0], dtype=torch.float64)

    def episode(x: torch.Tensor) -> torch.Tensor:
        default = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            state = core.initial_state(1, torch.device("cpu"))
            reads = [core.step(split_interface(x[t : t + 1], core.fields), state)[0] for t in range(4)]
        finally:
            torch.set_default_dtype(default)
        return torch.stack(reads).sum()

    x = raw.clone().requires_grad_()
    episode(x).backward()
    numeric = torch.zeros_like(raw)
    for i in range(raw.shape[0]):
        for j in range(raw.shape[1]):
            step = torch.zeros_like(raw)
            step[i, j] = 1e-6
            numeric[i, j] = (episode(raw + step) - episode(raw - step)) / 2e-6
    torch.testing.assert_close(x.grad, numeric, atol=1e-6, rtol=1e-5)
    assert x.grad[0, 7:10].abs().min() > 0  # the first write vector reaches the later reads
