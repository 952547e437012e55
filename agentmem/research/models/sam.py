"""Sparse Access Memory (Rae et al. 2016) as a sparse DNC: O(K) reads, writes, usage and links.

Per step, reads and writes touch K slots proposed by a top-K index (`MemoryIndex`), usage is the time
of last access with least-recently-used allocation, and the temporal link matrix keeps K_L links per
row. No tensor of size N is copied or differentiated through, so step time and memory stay nearly flat
in N (the O(N) exceptions are the LRU argmin and the initial state, both without autograd).

Memory contents are differentiable through a *provenance* table rather than an (N, W) tensor per step:
`source[b, i]` says which row of the `written` pool (the concatenation of every row this episode wrote,
a differentiable tensor of size O(T K W)) holds slot i, or -1 for the initial, constant contents.
Reading slot i gathers from the pool or the initial memory, so gradients reach earlier writes exactly
as in the dense model, at O(K) cost per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from agentmem.research import addressing as A
from agentmem.research.models.memory_index import MemoryIndex, MemoryIndexConfig
from agentmem.research.models.network import Field, MemoryCore


@dataclass(frozen=True)
class SAMConfig:
    """N slots of W words, R read heads; K candidates per head, K_L links per row, K_p precedence."""

    memory_size: int = 64
    word_size: int = 16
    read_heads: int = 2
    candidates: int = 4
    links_per_row: int = 4
    precedence_size: int = 8
    delta: float = 0.005  # a weight above δ counts as an access for LRU usage (SAM, "usage")
    prefill: bool = False  # start from random unit rows (a full memory) instead of zeros; for benchmarks
    index: MemoryIndexConfig = field(default_factory=MemoryIndexConfig)


@dataclass
class SAMState:
    initial: torch.Tensor  # (B, N, W) constant initial contents
    source: torch.Tensor  # (B, N) int64: row of `written` holding each slot, -1 = initial contents
    written: torch.Tensor  # (B, P, W) every row written so far this episode (differentiable)
    last_access: torch.Tensor  # (B, N) step of last access; -inf = never
    links: tuple[torch.Tensor, torch.Tensor]  # (B, N, K_L) ids / values, L[i, j]
    successors: tuple[torch.Tensor, torch.Tensor]  # (B, N, K_L) ids / values, L^T
    precedence: tuple[torch.Tensor, torch.Tensor]  # (B, K_p) ids / values
    read: tuple[torch.Tensor, torch.Tensor]  # (B, R, K) ids / values of the last read weights
    index: MemoryIndex
    step: int = 0


class SAMMemory(MemoryCore):
    """Sparse DNC: content reads over index top-K, writes to read or LRU slots, sparse temporal links."""

    def __init__(self, config: SAMConfig = SAMConfig()) -> None:
        super().__init__()
        self.config = config
        self.read_heads = config.read_heads
        self.word_size = config.word_size
        r, w = config.read_heads, config.word_size
        self.fields = [
            Field("read_keys", (r, w)),
            Field("read_strengths", (r,), "oneplus"),
            Field("erase", (1, w), "sigmoid"),
            Field("write_vector", (1, w)),
            Field("allocation_gate", (), "sigmoid"),
            Field("write_gate", (), "sigmoid"),
            Field("read_modes", (r, 3), "softmax"),
        ]

    def initial_state(self, batch_size: int, device: torch.device) -> SAMState:
        cfg = self.config
        n, w, r, k = cfg.memory_size, cfg.word_size, cfg.read_heads, cfg.candidates
        index = MemoryIndex(
            batch_size=batch_size, memory_size=n, word_size=w, config=cfg.index, device=device
        )
        if cfg.prefill:
            initial = torch.nn.functional.normalize(torch.randn(batch_size, n, w, device=device), dim=-1)
            index.update(torch.arange(n, device=device).expand(batch_size, n), initial)
            last_access = torch.zeros(batch_size, n, device=device)
        else:
            # Zero rows are not indexed: they have cosine 0 to every key, and an index full of
            # identical rows would put them all in one IVF list.
            initial = torch.zeros(batch_size, n, w, device=device)
            last_access = torch.full((batch_size, n), float("-inf"), device=device)

        def table(width: int) -> tuple[torch.Tensor, torch.Tensor]:
            return (
                torch.full((batch_size, n, width), -1, dtype=torch.long, device=device),
                torch.zeros(batch_size, n, width, device=device),
            )

        return SAMState(
            initial=initial,
            source=torch.full((batch_size, n), -1, dtype=torch.long, device=device),
            written=torch.zeros(batch_size, 0, w, device=device),
            last_access=last_access,
            links=table(cfg.links_per_row),
            successors=table(cfg.links_per_row),
            precedence=(
                torch.full((batch_size, cfg.precedence_size), -1, dtype=torch.long, device=device),
                torch.zeros(batch_size, cfg.precedence_size, device=device),
            ),
            read=(
                torch.full((batch_size, r, k), -1, dtype=torch.long, device=device),
                torch.zeros(batch_size, r, k, device=device),
            ),
            index=index,
        )

    @staticmethod
    def detach_state(state: SAMState) -> SAMState:
        """Cut the gradient history (truncated backprop) so a state can start another episode."""
        state.written = state.written.detach()
        state.read = (state.read[0], state.read[1].detach())
        return state

    @staticmethod
    def rows(state: SAMState, ids: torch.Tensor) -> torch.Tensor:
        """Current contents of slots ids (B, ...) -> (B, ..., W), differentiable w.r.t. earlier writes."""
        source = A.gather_rows(state.source.unsqueeze(-1), ids).squeeze(-1)
        from_pool = A.gather_rows(state.written, source) if state.written.shape[1] else None
        from_initial = A.gather_rows(state.initial, ids)
        if from_pool is None:
            return from_initial
        return torch.where((source >= 0).unsqueeze(-1), from_pool, from_initial)

    def step(self, interface: dict[str, torch.Tensor], state: SAMState) -> tuple[torch.Tensor, SAMState]:
        cfg = self.config
        state.step += 1
        batch = interface["write_vector"].shape[0]

        # Write weighting w^w = α (γ w^r_{t-1} + (1 - γ) I^U) (SAM, "write"): the rows the heads read
        # last step (averaged over heads) or the least recently used slot, here with DNC's gate names
        # (g^w = α, g^a = 1 - γ). Writes need no index lookup of their own.
        prev_ids, prev_w = state.read  # (B, R, K)
        lru = A.least_recently_used(state.last_access).unsqueeze(-1)  # (B, 1)
        g_a, g_w = interface["allocation_gate"].unsqueeze(-1), interface["write_gate"].unsqueeze(-1)
        write_ids, write_w = A.coalesce(
            torch.cat([lru, prev_ids.flatten(1)], -1),
            g_w * torch.cat([g_a, (1 - g_a) * prev_w.flatten(1) / cfg.read_heads], -1),
        )

        # Sparse erase-and-write on the touched rows only; the new rows join the differentiable pool.
        new_rows = A.erase_and_write(
            self.rows(state, write_ids), write_w.unsqueeze(1), interface["erase"], interface["write_vector"]
        )
        positions = state.written.shape[1] + torch.arange(write_ids.shape[1], device=write_ids.device)
        A.put_rows(state.source.unsqueeze(-1), write_ids, positions.expand(batch, -1).unsqueeze(-1))
        state.written = torch.cat([state.written, new_rows], 1)
        state.index.update(write_ids, new_rows)
        A.touch(state.last_access, write_ids, write_w, state.step, delta=cfg.delta)
        write = (write_ids, write_w.detach())
        A.sparse_link_update(state.links, state.successors, state.precedence, write)
        state.precedence = A.sparse_precedence_update(*state.precedence, *write, k=cfg.precedence_size)

        # Read weighting π[0] b + π[1] c + π[2] f over the union of candidates, truncated to K.
        read_ids = state.index.search(interface["read_keys"], cfg.candidates)  # (B, R, K)
        content_r = A.sparse_content_weighting(
            self.rows(state, read_ids),
            interface["read_keys"],
            interface["read_strengths"],
            mask=read_ids >= 0,
        )
        (f_ids, f_w), (b_ids, b_w) = A.sparse_forward_backward(state.links, state.successors, state.read)
        modes = interface["read_modes"]
        ids, weights = A.sparse_top_k(
            *A.coalesce(
                torch.cat([b_ids, read_ids, f_ids], -1),
                torch.cat([modes[..., 0:1] * b_w, modes[..., 1:2] * content_r, modes[..., 2:3] * f_w], -1),
            ),
            cfg.candidates,
        )
        state.read = (ids, weights)
        A.touch(state.last_access, ids.flatten(1), weights.flatten(1), state.step, delta=cfg.delta)
        return A.sparse_read(self.rows(state, ids), weights), state
