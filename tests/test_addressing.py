"""Addressing ops: hand-computed values, float64 gradchecks, NaN-free edges, sparse == dense at K = N."""

from __future__ import annotations

import math

import pytest
import torch

from agentmem.research import addressing as A


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: extra threads only contend with the rest of the suite on a small machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


T = torch.tensor


def close(actual: torch.Tensor, expected, atol: float = 1e-4) -> None:
    torch.testing.assert_close(actual, torch.as_tensor(expected, dtype=actual.dtype), atol=atol, rtol=0)


# ------------------------------------------------------------------------------------------ content


def test_cosine_similarity_hand_values() -> None:
    memory = T([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    keys = T([[[2.0, 0.0]]])
    close(A.cosine_similarity(memory, keys), [[[1.0, 0.0, 1 / math.sqrt(2)]]])


def test_content_weighting_strength() -> None:
    memory = T([[[1.0, 0.0], [0.0, 1.0]]])
    keys = T([[[1.0, 0.0]]])
    # similarities [1, 0]; β = ln 3 gives softmax [3/4, 1/4]; β = 0 gives uniform.
    close(A.content_weighting(memory, keys, T([[math.log(3)]])), [[[0.75, 0.25]]])
    close(A.content_weighting(memory, keys, T([[0.0]])), [[[0.5, 0.5]]])


def test_sparse_content_equals_dense_when_k_is_n() -> None:
    torch.manual_seed(0)
    memory, keys, beta = torch.randn(2, 7, 5), torch.randn(2, 3, 5), torch.rand(2, 3) * 5
    dense = A.content_weighting(memory, keys, beta)
    sparse = A.sparse_content_weighting(memory.unsqueeze(1).expand(-1, 3, -1, -1), keys, beta)
    close(sparse, dense, atol=1e-6)


def test_sparse_content_mask_and_empty_memory() -> None:
    rows = T([[[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]]])
    query = T([[1.0, 0.0]])
    beta = T([math.log(3)])
    weights = A.sparse_content_weighting(rows, query, beta, mask=T([[True, True, False]]))
    close(weights, [[0.75, 0.25, 0.0]])
    # Every candidate masked (empty memory): zero weights and finite gradients.
    query = torch.zeros(1, 2, requires_grad=True)
    rows = torch.zeros(1, 3, 2, requires_grad=True)
    weights = A.sparse_content_weighting(rows, query, beta, mask=torch.zeros(1, 3, dtype=torch.bool))
    close(weights, [[0.0, 0.0, 0.0]])
    (weights.sum() + A.content_weighting(rows, query.unsqueeze(1), beta.unsqueeze(1)).pow(2).sum()).backward()
    assert torch.isfinite(query.grad).all() and torch.isfinite(rows.grad).all()


# ------------------------------------------------------------------------------------------ NTM


def test_interpolate() -> None:
    close(A.interpolate(T([[[1.0, 0, 0]]]), T([[[0.0, 0, 1]]]), T([[0.25]])), [[[0.25, 0, 0.75]]])


@pytest.mark.parametrize(
    ("weights", "shift", "expected"),
    [
        ([1.0, 0, 0, 0], [0, 0, 1.0], [0, 1.0, 0, 0]),  # +1 moves focus forward
        ([1.0, 0, 0, 0], [1.0, 0, 0], [0, 0, 0, 1.0]),  # -1 wraps around
        ([0, 1.0, 0, 0], [0.5, 0.5, 0], [0.5, 0.5, 0, 0]),
        (
            [0.2, 0.8, 0, 0],
            [0.1, 0.6, 0.3],
            [0.2 * 0.6 + 0.8 * 0.1, 0.8 * 0.6 + 0.2 * 0.3, 0.8 * 0.3, 0.2 * 0.1],
        ),
    ],
)
def test_circular_shift(weights, shift, expected) -> None:
    close(A.circular_shift(T([[weights]]), T([[shift]])), [[expected]])


def test_sharpen() -> None:
    close(A.sharpen(T([[[0.6, 0.4]]]), T([[2.0]])), [[[0.36 / 0.52, 0.16 / 0.52]]])
    close(A.sharpen(T([[[0.6, 0.4]]]), T([[1.0]])), [[[0.6, 0.4]]])


# ------------------------------------------------------------------------------------------ read/write


def test_read_and_erase_write() -> None:
    memory = T([[[1.0, 2.0], [3.0, 4.0]]])
    close(A.read_memory(memory, T([[[0.5, 0.5]]])), [[[2.0, 3.0]]])
    written = A.erase_and_write(memory, T([[[1.0, 0.0]]]), T([[[1.0, 0.0]]]), T([[[5.0, 6.0]]]))
    close(written, [[[5.0, 8.0], [3.0, 4.0]]])
    # Two heads: erases multiply, adds sum.
    two = A.erase_and_write(
        memory, T([[[1.0, 0.0], [0.5, 0.0]]]), T([[[0.5, 0.0], [1.0, 0.0]]]), T([[[1.0, 1.0], [2.0, 2.0]]])
    )
    close(two, [[[1.0 * 0.5 * 0.5 + 1 + 1, 2.0 + 1 + 1], [3.0, 4.0]]])


# ------------------------------------------------------------------------------------------ DNC allocation


def test_retention_and_usage() -> None:
    psi = A.retention(T([[0.5]]), T([[[1.0, 0.5]]]))
    close(psi, [[0.5, 0.75]])
    close(A.usage_update(T([[0.5, 0.0]]), T([[0.5, 1.0]]), T([[1.0, 0.5]])), [[0.75, 0.5]])


def test_allocation_hand_values() -> None:
    # Free list φ = [1, 0, 2]: a[1] = 1 - 0.2, a[0] = (1 - 0.5) * 0.2, a[2] = (1 - 1) * 0.2 * 0.5.
    close(A.allocation_weighting(T([[0.5, 0.2, 1.0]])), [[0.1, 0.8, 0.0]])


def test_allocation_empty_memory_is_finite_and_one_hot() -> None:
    usage = torch.zeros(2, 5, requires_grad=True)
    allocation = A.allocation_weighting(usage)
    close(allocation.sum(-1), [1.0, 1.0])
    assert allocation.max(-1).values.min() > 0.99
    (allocation * torch.arange(5.0)).sum().backward()
    assert torch.isfinite(usage.grad).all()


def test_write_weighting() -> None:
    w = A.write_weighting(T([[0.0, 1.0]]), T([[1.0, 0.0]]), T([0.25]), T([0.5]))
    close(w, [[0.5 * 0.25, 0.5 * 0.75]])


# ------------------------------------------------------------------------------------------ DNC links


def test_precedence_and_links_hand_values() -> None:
    close(A.precedence_update(T([[0.2, 0.3]]), T([[0.5, 0.0]])), [[0.6, 0.15]])
    link = torch.zeros(1, 3, 3)
    # Write slot 0, then 1, then 2 (one-hot): L[1, 0] = L[2, 1] = 1.
    precedence = torch.zeros(1, 3)
    for slot in range(3):
        w = torch.zeros(1, 3)
        w[0, slot] = 1
        link = A.link_update(link, precedence, w)
        precedence = A.precedence_update(precedence, w)
    close(link, [[[0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]]])
    forward, backward = A.directional_weightings(link, T([[[0.0, 1.0, 0.0]]]))
    close(forward, [[[0, 0, 1.0]]])  # what was written after slot 1
    close(backward, [[[1.0, 0, 0]]])  # what was written before slot 1
    # Soft write: L[i, j] = (1 - w[i] - w[j]) L[i, j] + w[i] p[j], diagonal 0.
    link = A.link_update(link, T([[0.0, 0.0, 1.0]]), T([[0.5, 0.0, 0.0]]))
    close(link, [[[0, 0, 0.5], [0.5, 0, 0], [0, 1.0, 0]]])


def test_read_weighting_modes() -> None:
    b, c, f = T([[[1.0, 0, 0]]]), T([[[0, 1.0, 0]]]), T([[[0, 0, 1.0]]])
    close(A.read_weighting(b, c, f, T([[[0.2, 0.3, 0.5]]])), [[[0.2, 0.3, 0.5]]])


# ------------------------------------------------------------------------------------------ gradcheck


def _f64(*shape: int, low: float = 0.05, high: float = 0.95) -> torch.Tensor:
    return (low + (high - low) * torch.rand(*shape, dtype=torch.float64)).requires_grad_()


def test_gradcheck_allocation() -> None:
    torch.manual_seed(0)
    assert torch.autograd.gradcheck(lambda u: A.allocation_weighting(u), (_f64(2, 6),))


def test_gradcheck_links() -> None:
    torch.manual_seed(0)
    link, precedence, w = _f64(2, 4, 4, high=0.3), _f64(2, 4, high=0.25), _f64(2, 4, high=0.25)
    assert torch.autograd.gradcheck(A.link_update, (link, precedence, w))
    assert torch.autograd.gradcheck(A.precedence_update, (precedence, w))
    assert torch.autograd.gradcheck(A.directional_weightings, (link, _f64(2, 3, 4)))


def test_gradcheck_shift_and_sharpen() -> None:
    torch.manual_seed(0)
    assert torch.autograd.gradcheck(A.circular_shift, (_f64(2, 3, 5), _f64(2, 3, 3)))
    gamma = (1 + torch.rand(2, 3, dtype=torch.float64) * 3).requires_grad_()
    assert torch.autograd.gradcheck(A.sharpen, (_f64(2, 3, 5), gamma))


def test_gradcheck_content_and_usage() -> None:
    torch.manual_seed(0)
    memory, keys, beta = (
        (torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True) for _ in range(1)),
        None,
        None,
    )
    memory = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    keys = torch.randn(2, 2, 3, dtype=torch.float64, requires_grad=True)
    beta = _f64(2, 2, low=0.5, high=3)
    assert torch.autograd.gradcheck(A.content_weighting, (memory, keys, beta))
    assert torch.autograd.gradcheck(A.usage_update, (_f64(2, 5), _f64(2, 5), _f64(2, 5)))


def test_sharpen_grad_finite_at_zero_weights() -> None:
    weights = T([[[1.0, 0.0, 0.0]]], requires_grad=True)
    gamma = T([[3.0]], requires_grad=True)
    A.sharpen(weights, gamma)[..., 0].sum().backward()
    assert torch.isfinite(weights.grad).all() and torch.isfinite(gamma.grad).all()


# ------------------------------------------------------------------------------------------ sparse (SAM)


def test_coalesce_and_top_k() -> None:
    ids, values = A.coalesce(T([[3, 1, 3, -1]]), T([[1.0, 2.0, 3.0, 4.0]]))
    assert ids.tolist() == [[1, 3, -1, -1]]
    close(values, [[2.0, 4.0, 0.0, 0.0]])
    top_ids, top_values = A.sparse_top_k(ids, values, 3)
    assert top_ids.tolist() == [[3, 1, -1]]
    close(top_values, [[4.0, 2.0, 0.0]])
    padded_ids, _ = A.sparse_top_k(T([[5]]), T([[0.0]]), 2)
    assert padded_ids.tolist() == [[5, -1]]


def test_gather_rows_and_sparse_read() -> None:
    table = torch.arange(12.0).reshape(1, 4, 3)
    rows = A.gather_rows(table, T([[[2, 0]]]))
    close(rows, [[[[6.0, 7, 8], [0, 1, 2]]]])
    close(A.sparse_read(rows, T([[[0.5, 0.5]]])), [[[3.0, 4.0, 5.0]]])


def test_touch_and_least_recently_used() -> None:
    last = torch.full((1, 4), -math.inf)
    assert A.least_recently_used(last).tolist() == [0]
    A.touch(last, T([[0, 2, -1]]), T([[0.9, 0.5, 1.0]]), 1.0, delta=0.01)
    assert last.tolist() == [[1.0, -math.inf, 1.0, -math.inf]]
    assert A.least_recently_used(last).tolist() == [1]
    A.touch(last, T([[1, 3]]), T([[0.5, 0.001]]), 2.0, delta=0.01)  # slot 3's weight is below δ
    assert A.least_recently_used(last).tolist() == [3]


def test_put_rows_ignores_padding() -> None:
    table = torch.zeros(1, 3, 2)
    A.put_rows(table, T([[2, -1]]), T([[[1.0, 1.0], [9.0, 9.0]]]))
    close(table, [[[0, 0], [0, 0], [1.0, 1.0]]])


def _dense(ids: torch.Tensor, values: torch.Tensor, n: int) -> torch.Tensor:
    """Materialise a sparse weighting (..., K) or a sparse table (B, N, K) as dense (..., n)."""
    out = torch.zeros(*ids.shape[:-1], n + 1, dtype=values.dtype)
    out.scatter_add_(-1, torch.where(ids < 0, n, ids), values)
    return out[..., :n]


def _sparse_state(batch: int, n: int, k_links: int):
    links = (torch.full((batch, n, k_links), -1), torch.zeros(batch, n, k_links))
    successors = (torch.full((batch, n, k_links), -1), torch.zeros(batch, n, k_links))
    precedence = (torch.full((batch, n), -1), torch.zeros(batch, n))
    return links, successors, precedence


def test_sparse_links_equal_dense_for_one_hot_writes_to_fresh_slots() -> None:
    torch.manual_seed(0)
    batch, n = 2, 6
    links, successors, precedence = _sparse_state(batch, n, n)
    link, dense_p = torch.zeros(batch, n, n), torch.zeros(batch, n)
    orders = torch.stack([torch.randperm(n) for _ in range(batch)])
    for t in range(n):
        w_ids = orders[:, t : t + 1]
        w_values = torch.ones(batch, 1)
        dense_w = _dense(w_ids, w_values, n)
        link = A.link_update(link, dense_p, dense_w)
        dense_p = A.precedence_update(dense_p, dense_w)
        A.sparse_link_update(links, successors, precedence, (w_ids, w_values))
        precedence = A.sparse_precedence_update(*precedence, w_ids, w_values, k=n)
        close(_dense(*links, n), link, atol=1e-6)
        close(_dense(*successors, n), link.transpose(1, 2), atol=1e-6)
        close(_dense(*precedence, n), dense_p, atol=1e-6)
    reads = (torch.stack([torch.randperm(n)[:3] for _ in range(batch)]).unsqueeze(1), torch.rand(batch, 1, 3))
    (f_ids, f_values), (b_ids, b_values) = A.sparse_forward_backward(links, successors, reads)
    forward, backward = A.directional_weightings(link, _dense(*reads, n))
    close(_dense(f_ids, f_values, n), forward, atol=1e-6)
    close(_dense(b_ids, b_values, n), backward, atol=1e-6)


def test_sparse_successors_stay_the_transpose_under_soft_writes() -> None:
    torch.manual_seed(1)
    batch, n = 2, 8
    links, successors, precedence = _sparse_state(batch, n, n)
    for _ in range(30):
        w_ids = torch.stack([torch.randperm(n)[:3] for _ in range(batch)])
        w_values = torch.softmax(torch.randn(batch, 3), -1) * 0.9
        A.sparse_link_update(links, successors, precedence, (w_ids, w_values))
        precedence = A.sparse_precedence_update(*precedence, w_ids, w_values, k=n)
        close(_dense(*successors, n), _dense(*links, n).transpose(1, 2), atol=1e-5)
    assert (_dense(*links, n).diagonal(dim1=1, dim2=2) == 0).all()
    assert _dense(*links, n).sum() > 0


def test_sparse_links_keep_k_per_row() -> None:
    torch.manual_seed(2)
    links, successors, precedence = _sparse_state(1, 10, 2)
    for _ in range(20):
        w_ids = torch.randperm(10)[:2].unsqueeze(0)
        w_values = torch.full((1, 2), 0.4)
        A.sparse_link_update(links, successors, precedence, (w_ids, w_values))
        precedence = A.sparse_precedence_update(*precedence, w_ids, w_values, k=3)
    assert links[0].shape == (1, 10, 2) and precedence[0].shape == (1, 3)
    assert ((links[0] >= 0) == (links[1] > 0)).all()
