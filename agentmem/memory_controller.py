"""MemoryController: the trainable read and write policy over sparse, FAISS-backed slots.

Read (one query, R read heads):
  1. Each head r maps the query embedding q to a read key k_r = norm(q + (q A_r) B_r) (a low-rank
     learned residual, identity at initialisation) with a strength β_r = softplus(b_r).
  2. Candidates (SAM: sparse access) are the union of the index top-K for every head key, the
     lexical (FTS5 BM25) top-K, and the temporal neighbours (DNC links, one each way) of both.
  3. Each candidate i gets a logit
         ℓ_i = Σ_r β_r z(cos(k_r, M))_i  +  Σ_f θ_f φ_f(i)       (content + signals.py's signals)
     with z the z-score over the candidates, and the temporal links carry the neighbours' match
     m = Σ_r β_r z(cos)_i + θ_lex φ_lex(i), as the DNC's forward and backward weightings do:
         s_i = ℓ_i + γ_f m̃_prev(i) + γ_b m̃_next(i),     m̃ = m − mean(m)
     (in conversations the words of a question often sit in the turn that asked for the answer, or in
     the reply to it, rather than in the answer itself).
     The DNC mixes weightings with read modes π; here the modes act on logits, so each signal's
     share of the score stays exactly attributable (`why`).
  4. Read weights w = softmax(s) over the candidates, differentiable end to end.

Write: the controller skips an observation whose text is already stored in the namespace (a
near-duplicate by key and by normalised text); every other observation gets a new slot.

Training (training.py) replays episodes through the same `gather` and `forward` used at read time
and minimises -log Σ_{i ∈ gold} w_i.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agentmem.addressing import cosine_similarity
from agentmem.controller import PendingWrite, ReadHit, ReadQuery, SlotAccess, WriteDecision
from agentmem.cpu import single_threaded
from agentmem.errors import InvalidInputError
from agentmem.signals import SIGNALS, Candidates, describe

PARTS = ("content", *SIGNALS, "link_forward", "link_backward")


@dataclass
class MemoryControllerConfig:
    """dim: key size (the encoder's); heads: read heads R; key_rank: rank of the learned key residual;
    dense_k / lexical_k: candidates from the index per head / from the lexical index;
    neighbours: add the temporal neighbours of the candidates; duplicate_cosine: a write whose key is
    at least this close to a slot with the same normalised text is skipped."""

    dim: int = 384
    heads: int = 2
    key_rank: int = 16
    dense_k: int = 48
    lexical_k: int = 48
    neighbours: bool = True
    duplicate_cosine: float = 0.98


class MemoryController(nn.Module):
    """Learned read heads and signal weights; see the module docstring for the equations."""

    name = "learned"

    def __init__(self, config: MemoryControllerConfig | None = None) -> None:
        super().__init__()
        self.config = c = config or MemoryControllerConfig()
        g = torch.Generator().manual_seed(0)
        # LoRA-style init: A random, B zero, so every head starts as the plain query embedding.
        self.key_a = nn.Parameter(torch.randn(c.heads, c.dim, c.key_rank, generator=g) / c.dim**0.5)
        self.key_b = nn.Parameter(torch.zeros(c.heads, c.key_rank, c.dim))
        # β_r = softplus(0.55) ≈ 1 per head, and lexical weight 1: at initialisation a read ranks by the
        # sum of standardised cosine and standardised BM25, a plain hybrid, before any training.
        self.strength = nn.Parameter(torch.full((c.heads,), 0.55))
        self.signal_weight = nn.Parameter(torch.zeros(len(SIGNALS)))
        with torch.no_grad():
            self.signal_weight[SIGNALS.index("lexical")] = 1.0
        self.link_weight = nn.Parameter(torch.zeros(2))  # (γ_f, γ_b)

    # -- the differentiable part ---------------------------------------------------------------

    def read_keys(self, query: torch.Tensor) -> torch.Tensor:
        """Query embeddings (B, d) -> unit read keys (B, R, d)."""
        residual = torch.einsum("bd,rdk,rke->bre", query, self.key_a, self.key_b)
        return F.normalize(query.unsqueeze(1) + residual, dim=-1)

    def forward(
        self,
        query: torch.Tensor,
        keys: torch.Tensor,
        features: torch.Tensor,
        prev: torch.Tensor,
        next: torch.Tensor,
        mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Score padded candidate sets.

        query (B, d); keys (B, C, d) candidate keys; features (B, C, F); prev / next (B, C) positions
        of the temporal neighbours (-1: none); mask (B, C) True for real candidates.
        Returns scores (B, C) (-inf where masked) and their parts (B, C, P) in PARTS order, which
        sum to the scores.
        """
        beta = F.softplus(self.strength)  # (R,)
        cos = cosine_similarity(keys, self.read_keys(query))  # (B, R, C)
        content = torch.einsum("r,brc->bc", beta, _standardise(cos, mask.unsqueeze(1)))
        signals = features * self.signal_weight  # (B, C, F)
        # The links carry how well a neighbour matches the query (content + lexical), not who said it or
        # when: turns alternate speakers, so a neighbour's speaker signal says nothing about this turn.
        match = content + signals[..., SIGNALS.index("lexical")]
        centred = (match - _masked_mean(match, mask)) * mask
        fwd = self.link_weight[0] * _gather(centred, prev)
        bwd = self.link_weight[1] * _gather(centred, next)
        parts = torch.cat([content.unsqueeze(-1), signals, fwd.unsqueeze(-1), bwd.unsqueeze(-1)], dim=-1)
        scores = parts.sum(-1).masked_fill(~mask, float("-inf"))
        return scores, parts

    # -- the controller interface --------------------------------------------------------------

    def gather(self, query: ReadQuery, memory: SlotAccess, *, extra: Sequence[int] = ()) -> Candidates:
        """The candidate set of one read (`extra` slots are added: training adds the gold ones)."""
        c = self.config
        with torch.no_grad():
            head_keys = self.read_keys(torch.as_tensor(query.vector, dtype=torch.float32)[None])[0].numpy()
        found: dict[int, None] = {}
        for key in head_keys:
            for s, _ in memory.search(key, c.dense_k, namespace=query.namespace, filter=query.filter):
                found[s] = None
        for s, _ in memory.lexical(query.text, c.lexical_k, namespace=query.namespace, filter=query.filter):
            found[s] = None
        found.update(dict.fromkeys(extra))
        rows = memory.rows(list(found))
        if c.neighbours:
            links = {
                n for r in rows.values() for n in (r.prev_slot, r.next_slot) if n is not None
            } - rows.keys()
            visible = memory.visible(sorted(links), namespace=query.namespace, filter=query.filter)
            rows.update(memory.rows(sorted(visible)))
        slots = sorted(rows)
        lexical = dict(memory.lexical(query.text, len(slots), namespace=query.namespace, slots=slots))
        return describe(
            slots,
            rows,
            memory.vectors(slots),
            lexical,
            query=query.text,
            namespace=query.namespace,
            query_time=query.time,
        )

    def read(self, queries: Sequence[ReadQuery], memory: SlotAccess) -> list[list[ReadHit]]:
        with single_threaded():
            return [self._read_one(q, memory) for q in queries]

    def _read_one(self, q: ReadQuery, memory: SlotAccess) -> list[ReadHit]:
        cand = self.gather(q, memory)
        if len(cand) == 0:
            return []
        with torch.no_grad():
            scores, parts = self(*collate([cand], [q.vector]))
        scores, parts = scores[0], parts[0]
        weights = torch.softmax(scores, dim=-1)
        top = torch.argsort(scores, descending=True)[: q.k].tolist()
        return [
            ReadHit(
                slot=int(cand.slots[i]),
                score=float(scores[i]),
                weight=float(weights[i]),
                why={p: float(v) for p, v in zip(PARTS, parts[i].tolist(), strict=True)},
            )
            for i in top
        ]

    def plan_writes(self, writes: Sequence[PendingWrite], memory: SlotAccess) -> list[WriteDecision]:
        out = []
        for w in writes:
            decision = WriteDecision("new")
            if w.vector is not None:
                found = memory.search(w.vector, 1, namespace=w.namespace, filter=None)
                if found and found[0][1] >= self.config.duplicate_cosine:
                    row = memory.rows([found[0][0]])[found[0][0]]
                    if row.namespace == w.namespace and _norm(row.text) == _norm(w.text):
                        decision = WriteDecision("skip", row.slot)
            out.append(decision)
        return out

    # -- checkpoints ---------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """safetensors weights with the config in the file's metadata."""
        from safetensors.torch import save_file

        state = {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        save_file(
            state,
            str(path),
            metadata={"config": json.dumps(asdict(self.config)), "format": "agentmem-controller/1"},
        )

    @classmethod
    def load(cls, path: str | Path) -> MemoryController:
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
                state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open is not a dict
        except Exception as e:  # noqa: BLE001 - any unreadable file gets the same one-line answer
            raise InvalidInputError(
                f"cannot read controller checkpoint {path} ({e}); pass a file written by `agentmem train controller`"
            ) from e
        if meta.get("format") != "agentmem-controller/1":
            raise InvalidInputError(
                f"{path} is not an agentmem controller checkpoint; pass one written by `agentmem train controller`"
            )
        model = cls(MemoryControllerConfig(**json.loads(meta["config"])))
        model.load_state_dict(state)
        model.eval()
        return model


def collate(cands: Sequence[Candidates], queries: Sequence[np.ndarray]) -> tuple[torch.Tensor, ...]:
    """Pad candidate sets into the batch `forward` takes: (query, keys, features, prev, next, mask)."""
    b, c = len(cands), max(len(x) for x in cands)
    d, f = cands[0].keys.shape[1], cands[0].features.shape[1]
    keys = torch.zeros(b, c, d)
    feats = torch.zeros(b, c, f)
    prev = torch.full((b, c), -1, dtype=torch.long)
    nxt = torch.full((b, c), -1, dtype=torch.long)
    mask = torch.zeros(b, c, dtype=torch.bool)
    for i, x in enumerate(cands):
        n = len(x)
        keys[i, :n] = torch.from_numpy(x.keys)
        feats[i, :n] = torch.from_numpy(x.features)
        prev[i, :n] = torch.from_numpy(x.prev)
        nxt[i, :n] = torch.from_numpy(x.next)
        mask[i, :n] = True
    return torch.as_tensor(np.stack(queries), dtype=torch.float32), keys, feats, prev, nxt, mask


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of x (..., C) over the candidates where mask (..., C) is True, keeping the last dim."""
    return (x * mask).sum(-1, keepdim=True) / mask.sum(-1, keepdim=True).clamp(min=1)


def _standardise(x: torch.Tensor, mask: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """z-score x (..., C) over the masked candidates. Cosines of one query's candidates sit in a narrow,
    query-dependent band (0.2-0.4 for one, 0.5-0.7 for the next); standardised, one strength β fits
    every query and the content score is on the same scale as the standardised lexical score."""
    centred = (x - _masked_mean(x, mask)) * mask
    var = _masked_mean(centred**2, mask)
    return centred / (var + eps).sqrt()


def _gather(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """values (B, C) at positions index (B, C); 0 where index is -1."""
    got = torch.gather(values, 1, index.clamp(min=0))
    return got * (index >= 0)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())
