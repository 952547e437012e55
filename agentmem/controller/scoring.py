"""Scoring a read's candidates: content addressing with strength β, the candidate signals, and links.

Each candidate i of one read (candidates.py) gets a logit

    ℓ_i = β z(cos(k, M))_i  +  Σ_f θ_f φ_f(i)          (content, then candidates.SIGNALS)

with k the unit query key, M_i the candidate's key, β = softplus(b) the read strength, and z the z-score
over the candidates. The temporal links carry each neighbour's match m = β z(cos)_i + θ_lex φ_lex(i),
as the DNC's forward and backward weightings do, each link weighed by how related its two memories are:

    s_i = ℓ_i + γ_f c(i, prev(i)) m̃_prev(i) + γ_b c(i, next(i)) m̃_next(i),      m̃ = m − mean(m)
    c(i, j) = clip((cos(M_i, M_j) − lo) / (hi − lo), 0, 1)

(in conversations the words of a question often sit in the turn that asked for the answer, or in the
reply to it, rather than in the answer itself; in an agent's history consecutive observations are often
unrelated, and their link says nothing). The DNC mixes weightings with read modes π; here the modes act
on logits, so each signal's share of the score stays exactly attributable (`why`, in PARTS order). The
read weights are w = softmax(s) over the candidates, differentiable end to end.

Softmax over z-scored cosines is NTM content addressing with the strength divided by the cosines'
spread: softmax(β z(cos)) = softmax((β/σ) cos) (research/addressing.py, `content_weighting`).

Two paths compute the same numbers: `forward` (torch, batched over padded candidate sets, the
reference and what training differentiates) and `score_numpy` (one unpadded set, the fast path reads
take: a read's tensors are a few hundred rows, where torch's per-operation overhead costs more than
the arithmetic). `ScoringConfig.fast` chooses; the two are tested equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agentmem.controller.candidates import SIGNALS, Candidates
from agentmem.research.addressing import EPS, cosine_similarity

PARTS = ("content", *SIGNALS, "link_forward", "link_backward")
# Candidate cosines of one query closer than this are one value: standardised, they stay near-identical.
COSINE_SPREAD_FLOOR = 0.05


@dataclass
class ScoringConfig:
    """link_coherence: (lo, hi) of the link weighting c(i, j) (None: every link counts fully);
    fast: reads score with `score_numpy` (True) or the torch reference `forward` (False)."""

    link_coherence: tuple[float, float] | None = (0.2, 0.5)
    fast: bool = True


class Scorer(nn.Module):
    """The read's learned parameters: strength β, signal weights θ, link weights (γ_f, γ_b)."""

    def __init__(self, config: ScoringConfig | None = None) -> None:
        super().__init__()
        self.config = config or ScoringConfig()
        self._numpy_views: dict[str, np.ndarray] | None = None
        # β = softplus(0.55) ≈ 1 and lexical weight 1: before any training, a read ranks by the sum of
        # standardised cosine and standardised BM25, a plain hybrid.
        self.strength = nn.Parameter(torch.tensor(0.55))
        self.signal_weight = nn.Parameter(torch.zeros(len(SIGNALS)))
        with torch.no_grad():
            self.signal_weight[SIGNALS.index("lexical")] = 1.0
        self.link_weight = nn.Parameter(torch.zeros(2))  # (γ_f, γ_b)

    def score(self, cand: Candidates, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores (C,) and their parts (C, P) of one read's candidates, for query embedding (d,)."""
        if self.config.fast:
            return self.score_numpy(cand, query)
        with torch.no_grad():
            scores, parts = self(*collate([cand], [query]))
        return scores[0].numpy(), parts[0].numpy()

    # -- the reference: torch, batched, differentiable ------------------------------------------

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
        beta = F.softplus(self.strength)
        key = F.normalize(query, dim=-1).unsqueeze(1)  # (B, 1, d): the unit read key
        cos = cosine_similarity(keys, key)[:, 0]  # (B, C), NTM eq. 6
        content = beta * _standardise(cos, mask)  # (B, C)
        signals = features * self.signal_weight  # (B, C, F)
        # The links carry how well a neighbour matches the query (content + lexical), not who said it or
        # when: turns alternate speakers, so a neighbour's speaker signal says nothing about this turn.
        match = content + signals[..., SIGNALS.index("lexical")]
        centred = (match - _masked_mean(match, mask)) * mask
        unit = F.normalize(keys, dim=-1)
        fwd = self.link_weight[0] * _gather(centred, prev) * self._coherence(unit, prev)
        bwd = self.link_weight[1] * _gather(centred, next) * self._coherence(unit, next)
        parts = torch.cat([content.unsqueeze(-1), signals, fwd.unsqueeze(-1), bwd.unsqueeze(-1)], dim=-1)
        scores = parts.sum(-1).masked_fill(~mask, float("-inf"))
        return scores, parts

    def _coherence(self, unit: torch.Tensor, neighbour: torch.Tensor) -> torch.Tensor:
        """c(i, neighbour(i)) (B, C) of unit keys (B, C, d) and neighbour positions (B, C) (-1: none)."""
        if self.config.link_coherence is None:
            return torch.ones_like(neighbour, dtype=unit.dtype)
        lo, hi = self.config.link_coherence
        other = torch.gather(unit, 1, neighbour.clamp(min=0).unsqueeze(-1).expand_as(unit))
        return (((unit * other).sum(-1) - lo) / (hi - lo)).clamp(0.0, 1.0)

    # -- the fast path: numpy, one read ---------------------------------------------------------

    def score_numpy(self, cand: Candidates, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`forward` for one unpadded candidate set, in numpy: scores (C,) and parts (C, P)."""
        p = self._numpy_parameters()
        q = np.asarray(query, dtype=np.float32)
        key = q / np.maximum(np.linalg.norm(q), 1e-12)  # F.normalize's
        keys = np.asarray(cand.keys, dtype=np.float32)
        # One pass over the (C, d) keys for their squared norms: the keys are read once more, by the
        # product below, and no (C, d) temporary is made (a read runs right after a dense scan that has
        # flushed the CPU caches, where each pass over the keys costs as much as the arithmetic).
        sq = np.einsum("cd,cd->c", keys, keys)
        # cosine_similarity's ε-guarded norms, so both paths give the same numbers
        cos = (keys @ key) / (np.sqrt((key**2).sum() + EPS) * np.sqrt(sq + EPS))  # (C,)
        beta = np.logaddexp(0.0, p["strength"])  # softplus
        content = beta * _standardise_np(cos)
        signals = cand.features * p["signal_weight"]  # (C, F)
        match = content + signals[:, SIGNALS.index("lexical")]
        centred = match - match.mean()
        norm = np.maximum(np.sqrt(sq), 1e-12)  # F.normalize's
        coh = self._prev_coherence(keys, norm, cand.prev)
        # The chain is doubly linked (next(i) = j exactly when prev(j) = i), so c(i, next(i)) is
        # c(j, prev(j)): the links to the next memory reuse the cosines of the links to the previous one.
        prev, nxt = np.maximum(cand.prev, 0), np.maximum(cand.next, 0)
        fwd = p["link_weight"][0] * np.where(cand.prev >= 0, centred[prev] * coh, 0.0)
        bwd = p["link_weight"][1] * np.where(cand.next >= 0, centred[nxt] * coh[nxt], 0.0)
        parts = np.column_stack([content, signals, fwd, bwd]).astype(np.float32)
        return parts.sum(-1), parts

    def _prev_coherence(self, keys: np.ndarray, norm: np.ndarray, prev: np.ndarray) -> np.ndarray:
        """c(i, prev(i)) (C,) from keys (C, d), their norms (C,) and prev positions (C,) (-1: none, where
        the value does not matter); 1 without link coherence."""
        if self.config.link_coherence is None:
            return np.ones(len(prev), dtype=np.float32)
        lo, hi = self.config.link_coherence
        linked = prev >= 0  # only linked rows' cosines count: gather just their neighbours' keys
        cos = np.zeros(len(prev), dtype=np.float32)
        i, j = np.flatnonzero(linked), prev[linked]
        cos[i] = np.einsum("cd,cd->c", keys[i], keys[j]) / (norm[i] * norm[j])
        return np.clip((cos - lo) / (hi - lo), 0.0, 1.0)

    def _numpy_parameters(self) -> dict[str, np.ndarray]:
        """The parameters as numpy arrays. On the CPU they are views of the tensors, made once and always
        current (training updates them in place); elsewhere, copies made per call."""
        if self._numpy_views is None:
            params = {name: t.detach() for name, t in self.named_parameters()}
            if any(t.device.type != "cpu" for t in params.values()):
                return {name: t.cpu().numpy() for name, t in params.items()}
            self._numpy_views = {name: t.numpy() for name, t in params.items()}
        return self._numpy_views

    def _apply(self, fn, recurse=True):
        self._numpy_views = None  # .to(), .double(), ... may give the parameters new tensors
        return super()._apply(fn, recurse)


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


def _standardise(x: torch.Tensor, mask: torch.Tensor, floor: float = COSINE_SPREAD_FLOOR) -> torch.Tensor:
    """z-score x (..., C) over the masked candidates. Cosines of one query's candidates sit in a narrow,
    query-dependent band (a different band for each query); standardised, one strength β fits
    every query and the content score is on the same scale as the standardised lexical score. The
    spread is floored so that near-identical cosines (a handful of memories) stay near-identical."""
    centred = (x - _masked_mean(x, mask)) * mask
    std = (_masked_mean(centred**2, mask) + 1e-12).sqrt()
    return centred / std.clamp(min=floor)


def _standardise_np(x: np.ndarray, floor: float = COSINE_SPREAD_FLOOR) -> np.ndarray:
    """`_standardise` over the last axis of an unpadded x (..., C)."""
    centred = x - x.mean(-1, keepdims=True)
    std = np.sqrt((centred**2).mean(-1, keepdims=True) + 1e-12)
    return centred / np.maximum(std, floor)


def _gather(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """values (B, C) at positions index (B, C); 0 where index is -1."""
    got = torch.gather(values, 1, index.clamp(min=0))
    return got * (index >= 0)
