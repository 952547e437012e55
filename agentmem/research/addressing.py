"""Memory addressing: pure, batched tensor functions for NTM, DNC and SAM.

Every function here is stateless and differentiable where the paper's mechanism is. Shapes use
B = batch, N = memory slots, W = word size, H = heads, K = candidates (sparse), S = shift width.
Papers:
  NTM: Graves et al. 2014, "Neural Turing Machines" (eqs. numbered as in section 3.3).
  DNC: Graves et al. 2016, "Hybrid computing using a neural network with dynamic external memory"
       (Methods section; equations named after the quantity they define).
  SAM: Rae et al. 2016, "Scaling Memory-Augmented Neural Networks with Sparse Reads and Writes".

Sparse weightings are (ids, values) pairs: `ids` (..., K) int64 slot ids with -1 for "no slot" and
`values` (..., K). The same content addressing serves a copy task and an agent's memory: the agent
controller calls `sparse_content_weighting` on keys gathered for the candidates an index proposed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

EPS = 1e-6


# --------------------------------------------------------------------------------------------- content


def cosine_similarity(memory: torch.Tensor, keys: torch.Tensor, *, eps: float = EPS) -> torch.Tensor:
    """Cosine similarity K[k, M[i]] between each key and each slot (NTM eq. 6).

    memory (B, N, W), keys (B, H, W) -> (B, H, N). `eps` keeps the norm division finite (and its
    gradient NaN-free) when a slot or key is all zeros, as in an empty memory.
    """
    dot = torch.einsum("bhw,bnw->bhn", keys, memory)
    key_norm = torch.sqrt(keys.pow(2).sum(-1, keepdim=True) + eps)  # (B, H, 1)
    mem_norm = torch.sqrt(memory.pow(2).sum(-1) + eps).unsqueeze(1)  # (B, 1, N)
    return dot / (key_norm * mem_norm)


def content_weighting(
    memory: torch.Tensor, keys: torch.Tensor, strengths: torch.Tensor, *, eps: float = EPS
) -> torch.Tensor:
    """Dense content weighting C(M, k, β)[i] = softmax_i(β K[k, M[i]]) (NTM eq. 5; DNC content lookup).

    memory (B, N, W), keys (B, H, W), strengths β (B, H) >= 0 -> weights (B, H, N), rows sum to 1.
    """
    return torch.softmax(strengths.unsqueeze(-1) * cosine_similarity(memory, keys, eps=eps), dim=-1)


def sparse_content_weighting(
    candidate_keys: torch.Tensor,
    query: torch.Tensor,
    strength: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    eps: float = EPS,
) -> torch.Tensor:
    """Content weighting restricted to K candidate slots proposed by an index (SAM, "sparse read").

    candidate_keys (..., K, W) gathered for the candidates, query (..., W), strength β (...),
    mask (..., K) bool (False for padded candidates) -> weights (..., K).
    With K = N and no mask this equals `content_weighting`. Masked candidates get weight 0; if every
    candidate is masked (empty memory) all weights are 0, never NaN.
    """
    dot = (candidate_keys * query.unsqueeze(-2)).sum(-1)
    norms = torch.sqrt(candidate_keys.pow(2).sum(-1) + eps) * torch.sqrt(
        query.pow(2).sum(-1, keepdim=True) + eps
    )
    logits = strength.unsqueeze(-1) * dot / norms
    if mask is None:
        return torch.softmax(logits, dim=-1)
    # A finite fill (not -inf) keeps softmax finite when all K are masked; the product zeroes them.
    weights = torch.softmax(logits.masked_fill(~mask, -1e9), dim=-1)
    return weights * mask.to(weights.dtype)


# --------------------------------------------------------------------------------- NTM location addressing


def interpolate(content: torch.Tensor, previous: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
    """Interpolation gate w^g = g w^c + (1 - g) w_{t-1} (NTM eq. 7).

    content (B, H, N), previous (B, H, N), gate g (B, H) in [0, 1] -> (B, H, N).
    """
    g = gate.unsqueeze(-1)
    return g * content + (1 - g) * previous


def circular_shift(weights: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Circular convolution w~[i] = sum_j w[j] s[i - j] (NTM eq. 8).

    weights (B, H, N), shift (B, H, S) a distribution over the S offsets -(S//2) .. S//2 (S odd)
    -> (B, H, N). Offset +1 moves the focus from slot i to slot i + 1.
    """
    half = shift.shape[-1] // 2
    rolled = torch.stack([torch.roll(weights, offset, dims=-1) for offset in range(-half, half + 1)], dim=-1)
    return (rolled * shift.unsqueeze(-2)).sum(-1)


def sharpen(weights: torch.Tensor, gamma: torch.Tensor, *, eps: float = EPS) -> torch.Tensor:
    """Sharpening w[i] = w~[i]^γ / sum_j w~[j]^γ (NTM eq. 9).

    weights (B, H, N) >= 0, gamma γ (B, H) >= 1 -> (B, H, N). `eps` inside the power keeps the
    gradient w.r.t. γ (which involves log w) finite where a weight is exactly 0.
    """
    powered = (weights + eps).pow(gamma.unsqueeze(-1))
    return powered / powered.sum(-1, keepdim=True)


# ------------------------------------------------------------------------------------- memory read/write


def read_memory(memory: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Read vectors r = M^T w (NTM eq. 2; DNC read).

    memory (B, N, W), weights (B, H, N) -> (B, H, W).
    """
    return torch.einsum("bhn,bnw->bhw", weights, memory)


def erase_and_write(
    memory: torch.Tensor, weights: torch.Tensor, erase: torch.Tensor, add: torch.Tensor
) -> torch.Tensor:
    """Erase then add: M = M ∘ prod_h (1 - w_h e_h^T) + sum_h w_h a_h^T (NTM eqs. 3-4; DNC write).

    memory (B, N, W), weights (B, H, N), erase (B, H, W) in [0, 1], add (B, H, W) -> (B, N, W).
    Works unchanged on a gathered subset of rows (SAM's sparse write): pass (B, K, W) rows and
    (B, H, K) weights.
    """
    keep = torch.prod(1 - weights.unsqueeze(-1) * erase.unsqueeze(-2), dim=1)  # (B, N, W)
    return memory * keep + torch.einsum("bhn,bhw->bnw", weights, add)


# ---------------------------------------------------------------------------------- DNC dynamic allocation


def retention(free_gates: torch.Tensor, previous_read_weights: torch.Tensor) -> torch.Tensor:
    """Memory retention vector ψ = prod_i (1 - f^i w^{r,i}_{t-1}) (DNC, "dynamic memory allocation").

    free_gates f (B, R) in [0, 1], previous_read_weights (B, R, N) -> ψ (B, N).
    """
    return torch.prod(1 - free_gates.unsqueeze(-1) * previous_read_weights, dim=1)


def usage_update(
    usage: torch.Tensor, previous_write_weights: torch.Tensor, psi: torch.Tensor
) -> torch.Tensor:
    """Usage u_t = (u_{t-1} + w^w_{t-1} - u_{t-1} ∘ w^w_{t-1}) ∘ ψ_t (DNC, "dynamic memory allocation").

    usage (B, N), previous_write_weights (B, N), psi (B, N) -> (B, N) in [0, 1].
    """
    return (usage + previous_write_weights - usage * previous_write_weights) * psi


def allocation_weighting(usage: torch.Tensor, *, eps: float = EPS) -> torch.Tensor:
    """Allocation a[φ_j] = (1 - u[φ_j]) prod_{i<j} u[φ_i], φ the free list (DNC, "dynamic memory allocation").

    usage (B, N) in [0, 1] -> (B, N). φ sorts slots by ascending usage; the product is an exclusive
    cumulative product. Usage is squashed into [eps, 1] first so the cumprod gradient never meets an
    exact 0 (all-zero usage, i.e. an empty memory, is the common case at t = 0). Sorting is
    piecewise constant, so gradients flow through the values, not through the order (as in the paper).
    """
    usage = eps + (1 - eps) * usage
    sorted_usage, free_list = torch.sort(usage, dim=-1)
    exclusive = torch.cumprod(F.pad(sorted_usage[..., :-1], (1, 0), value=1.0), dim=-1)
    sorted_allocation = (1 - sorted_usage) * exclusive
    return torch.zeros_like(usage).scatter(-1, free_list, sorted_allocation)


def write_weighting(
    content: torch.Tensor, allocation: torch.Tensor, allocation_gate: torch.Tensor, write_gate: torch.Tensor
) -> torch.Tensor:
    """Write weighting w^w = g^w (g^a a + (1 - g^a) c^w) (DNC, "write weighting").

    content (B, N), allocation (B, N), allocation_gate g^a (B,), write_gate g^w (B,) -> (B, N).
    """
    g_a = allocation_gate.unsqueeze(-1)
    return write_gate.unsqueeze(-1) * (g_a * allocation + (1 - g_a) * content)


# ------------------------------------------------------------------------------- DNC temporal link matrix


def precedence_update(precedence: torch.Tensor, write_weights: torch.Tensor) -> torch.Tensor:
    """Precedence p_t = (1 - sum_i w^w_t[i]) p_{t-1} + w^w_t (DNC, "temporal memory linkage").

    precedence (B, N), write_weights (B, N) -> (B, N).
    """
    return (1 - write_weights.sum(-1, keepdim=True)) * precedence + write_weights


def link_update(link: torch.Tensor, precedence: torch.Tensor, write_weights: torch.Tensor) -> torch.Tensor:
    """Link L_t[i, j] = (1 - w[i] - w[j]) L_{t-1}[i, j] + w[i] p_{t-1}[j], L[i, i] = 0 (DNC).

    link (B, N, N), precedence p_{t-1} (B, N) (before this step's update), write_weights (B, N)
    -> (B, N, N). L[i, j] ≈ 1 means slot i was written right after slot j.
    """
    w_i = write_weights.unsqueeze(-1)
    w_j = write_weights.unsqueeze(-2)
    new_link = (1 - w_i - w_j) * link + w_i * precedence.unsqueeze(-2)
    return new_link * (1 - torch.eye(link.shape[-1], dtype=link.dtype, device=link.device))


def directional_weightings(
    link: torch.Tensor, previous_read_weights: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward f = L w^r_{t-1} and backward b = L^T w^r_{t-1} weightings (DNC, "temporal memory linkage").

    link (B, N, N), previous_read_weights (B, R, N) -> (forward (B, R, N), backward (B, R, N)).
    """
    forward = torch.einsum("bij,brj->bri", link, previous_read_weights)
    backward = torch.einsum("bij,bri->brj", link, previous_read_weights)
    return forward, backward


def read_weighting(
    backward: torch.Tensor, content: torch.Tensor, forward: torch.Tensor, modes: torch.Tensor
) -> torch.Tensor:
    """Read weighting w^r = π[0] b + π[1] c + π[2] f (DNC, "read weighting").

    backward, content, forward (..., R, N); modes π (..., R, 3) a distribution -> (..., R, N).
    """
    return modes[..., 0:1] * backward + modes[..., 1:2] * content + modes[..., 2:3] * forward


# ------------------------------------------------------------------------------------ SAM sparse versions


def coalesce(ids: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Merge a sparse weighting with repeated ids by summing their values.

    ids (..., M) int64 (-1 = none), values (..., M) -> (ids, values) of the same shape: each distinct
    id once (in ascending order), then padding (-1, 0). Differentiable in `values`.
    """
    sentinel = torch.iinfo(ids.dtype).max  # sorts padding last
    keyed = torch.where(ids < 0, torch.full_like(ids, sentinel), ids)
    sorted_ids, order = torch.sort(keyed, dim=-1)
    sorted_values = values.gather(-1, order)
    is_new = torch.ones_like(sorted_ids, dtype=torch.bool)
    is_new[..., 1:] = sorted_ids[..., 1:] != sorted_ids[..., :-1]
    segment = torch.cumsum(is_new.long(), dim=-1) - 1  # (..., M) position of each entry's distinct id
    merged_values = torch.zeros_like(values).scatter_add(-1, segment, sorted_values)
    merged_ids = torch.full_like(ids, -1).scatter(-1, segment, sorted_ids)
    valid = merged_ids != sentinel
    merged_ids = torch.where(valid, merged_ids, torch.full_like(merged_ids, -1))
    return merged_ids, merged_values * valid.to(values.dtype)


def sparse_top_k(ids: torch.Tensor, values: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep the k largest entries of a sparse weighting (SAM keeps K non-zeros per weighting).

    ids (..., M), values (..., M) -> (ids (..., k), values (..., k)); pads with (-1, 0) when M < k.
    """
    if values.shape[-1] < k:
        pad = k - values.shape[-1]
        ids = F.pad(ids, (0, pad), value=-1)
        values = F.pad(values, (0, pad), value=0.0)
    # Padding (-1) must lose to any real entry, including real entries of value 0.
    score = torch.where(ids < 0, torch.full_like(values, -1.0), values)
    order = score.topk(k, dim=-1).indices
    return ids.gather(-1, order), values.gather(-1, order)


def gather_rows(table: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Rows of a per-batch table for sparse ids: table (B, N, D), ids (B, ...) -> (B, ..., D).

    Padding ids (-1) read row 0; callers mask those entries out by a zero weight.
    """
    flat = ids.clamp(min=0).reshape(ids.shape[0], -1)
    rows = table.gather(1, flat.unsqueeze(-1).expand(-1, -1, table.shape[-1]))
    return rows.reshape(*ids.shape, table.shape[-1])


def sparse_read(rows: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Sparse read r = sum_k w[k] M[ids[k]] (SAM, "sparse read").

    rows (B, H, K, W) gathered for the candidates, weights (B, H, K) -> (B, H, W).
    """
    return (rows * weights.unsqueeze(-1)).sum(-2)


def least_recently_used(last_access: torch.Tensor) -> torch.Tensor:
    """The least recently used slot, SAM's allocation target I^U (SAM, "sparse memory management").

    last_access (B, N): the step at which each slot last had a read or write weight above δ
    (never-used slots hold -inf) -> ids (B,). Ties go to the lowest id, so an empty memory fills in order.
    """
    return last_access.argmin(dim=-1)


def touch(
    last_access: torch.Tensor, ids: torch.Tensor, values: torch.Tensor, step: float, *, delta: float
) -> None:
    """Sparse usage update: slots whose weight exceeds δ were used at `step` (in place, O(K); SAM).

    last_access (B, N), ids (B, M), values (B, M).
    """
    used = (ids >= 0) & (values.detach() > delta)
    batch = torch.arange(ids.shape[0], device=ids.device).unsqueeze(-1).expand_as(ids)
    last_access[batch[used], ids[used]] = step


def sparse_precedence_update(
    precedence_ids: torch.Tensor,
    precedence_values: torch.Tensor,
    write_ids: torch.Tensor,
    write_values: torch.Tensor,
    *,
    k: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sparse precedence p_t = (1 - sum w) p_{t-1} + w, keeping the top k entries (SAM's sparse DNC).

    precedence (B, K_p) ids/values, write (B, K_w) ids/values -> precedence (B, k) ids/values.
    With k = N it equals `precedence_update`.
    """
    decay = 1 - write_values.sum(-1, keepdim=True)
    ids, values = coalesce(
        torch.cat([precedence_ids, write_ids], -1), torch.cat([decay * precedence_values, write_values], -1)
    )
    return sparse_top_k(ids, values, k)


def put_rows(table: torch.Tensor, ids: torch.Tensor, rows: torch.Tensor) -> None:
    """In place table[b, ids[b, m]] = rows[b, m] for the non-padding ids (distinct per batch element).

    table (B, N, D), ids (B, M), rows (B, M, D). O(M): bookkeeping tables of a sparse memory are
    updated in place because copying an (N, D) table each step would make the step O(N).
    """
    valid = ids >= 0
    batch = torch.arange(ids.shape[0], device=ids.device).unsqueeze(-1).expand_as(ids)
    table[batch[valid], ids[valid]] = rows[valid].to(table.dtype)


@torch.no_grad()
def sparse_link_update(
    links: tuple[torch.Tensor, torch.Tensor],
    successors: tuple[torch.Tensor, torch.Tensor],
    precedence: tuple[torch.Tensor, torch.Tensor],
    write: tuple[torch.Tensor, torch.Tensor],
) -> None:
    """Sparse temporal link matrix with K_L links per row, updated in place in O(K) (SAM's sparse DNC).

    links: ids/values (B, N, K_L), row i lists the j with L[i, j] > 0 (i written after j).
    successors: ids/values (B, N, K_L), the transpose: row j lists the i with L[i, j] > 0.
    precedence: ids/values (B, K_p), p_{t-1} before this step's update. write: ids/values (B, K_w),
    distinct ids.

    Written rows get DNC's row update L[i, :] = (1 - w[i]) L[i, :] + w[i] p, top K_L kept, and the
    successor rows of their old and new predecessors are kept consistent with it. DNC's column term
    -w[j] L[i, j] for rows i *not* written is dropped: applying it touches every row (O(N)), and
    links into a freshly allocated slot are 0 anyway, so with one-hot writes to unused slots and
    K_L = N this equals `link_update` exactly. Link values carry no gradient (bookkeeping, as usage).
    """
    link_ids, link_values = links
    succ_ids, succ_values = successors
    p_ids, p_values = precedence
    w_ids, w_values = write
    k_links = link_ids.shape[-1]
    old_ids = gather_rows(link_ids, w_ids)  # (B, K_w, K_L)
    old_values = gather_rows(link_values, w_ids)
    written = (w_ids >= 0).unsqueeze(-1)
    old_ids = torch.where(written, old_ids, torch.full_like(old_ids, -1))
    w = w_values.unsqueeze(-1)
    candidate_ids = torch.cat([old_ids, p_ids.unsqueeze(1).expand(-1, w_ids.shape[1], -1)], -1)
    candidate_values = torch.cat([(1 - w) * old_values, w * p_values.unsqueeze(1)], -1)
    candidate_ids = torch.where(candidate_ids == w_ids.unsqueeze(-1), -1, candidate_ids)  # L[i, i] = 0
    new_ids, new_values = sparse_top_k(*coalesce(candidate_ids, candidate_values), k_links)
    put_rows(link_ids, w_ids, new_ids)
    put_rows(link_values, w_ids, new_values)

    # Successor rows j that gained or lost a link from a written row i: drop their entries for the
    # written rows, then insert (i, L_new[i, j]).
    touched = torch.cat([old_ids, new_ids], -1).flatten(1)
    affected = coalesce(touched, torch.zeros(touched.shape, dtype=new_values.dtype, device=touched.device))[0]
    rows_ids = gather_rows(succ_ids, affected)  # (B, M, K_L)
    rows_values = gather_rows(succ_values, affected)
    stale = (rows_ids.unsqueeze(-1) == w_ids[:, None, None, :]).any(-1) | (affected < 0).unsqueeze(-1)
    rows_ids = torch.where(stale, -1, rows_ids)
    target = affected[:, :, None, None]
    match = (new_ids.unsqueeze(1) == target) & (target >= 0)  # (B, M, K_w, K_L)
    inserted_values = (match.to(new_values.dtype) * new_values.unsqueeze(1)).sum(-1)  # (B, M, K_w)
    inserted_ids = torch.where(inserted_values > 0, w_ids.unsqueeze(1).expand_as(inserted_values), -1)
    merged = sparse_top_k(
        *coalesce(
            torch.cat([rows_ids, inserted_ids], -1), torch.cat([rows_values * ~stale, inserted_values], -1)
        ),
        k_links,
    )
    put_rows(succ_ids, affected, merged[0])
    put_rows(succ_values, affected, merged[1])


def sparse_forward_backward(
    links: tuple[torch.Tensor, torch.Tensor],
    successors: tuple[torch.Tensor, torch.Tensor],
    read: tuple[torch.Tensor, torch.Tensor],
) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """Sparse forward f = L w and backward b = L^T w weightings (DNC's, over K_L links per row; SAM).

    links (B, N, K_L) ids/values: row i -> predecessors j (L[i, j]). successors (B, N, K_L): row j ->
    successors i (L^T[j, i]). read: previous read weights ids/values (B, R, K).
    Returns forward ids/values (B, R, K*K_L) and backward ids/values (B, R, K*K_L), not coalesced.
    Link values are bookkeeping (no gradient); gradients flow through the read weights.
    """
    r_ids, r_values = read
    b, r, k = r_ids.shape

    def spread(table: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        ids = gather_rows(table[0], r_ids)  # (B, R, K, K_L)
        values = gather_rows(table[1], r_ids) * r_values.unsqueeze(-1)
        ids = torch.where((r_ids >= 0).unsqueeze(-1), ids, torch.full_like(ids, -1))
        return ids.reshape(b, r, -1), values.reshape(b, r, -1)

    # f[i] = sum_j L[i, j] w[j]: from each read slot j, go to its successors i.
    # b[j] = sum_i L[i, j] w[i]: from each read slot i, go to its predecessors j.
    return spread(successors), spread(links)
