"""Scoring a read's candidates: content addressing with strength β, the candidate signals, links that
know who spoke, session pooling, and attention across the candidates.

Each candidate i of one read (candidates.py) gets a logit

    ℓ_i = β z(cos(k, M))_i  +  Σ_f θ_f φ_f(i)          (content, then candidates.SIGNALS)

with k the unit query key, M_i the candidate's key, β = softplus(b) the read strength, and z the z-score
over the candidates. Then the candidates inform each other, through three terms that each stay
attributable (`why`, in PARTS order):

- **links** (the DNC's forward and backward weightings) carry each neighbour's match
  m = β z(cos) + θ_lex φ_lex, weighed by how related the two memories are and by who spoke both (σ: the
  same speaker, a burst; another, a reply; and with `ScoringConfig.link_machines`, on in the packaged
  checkpoint, a machine replying to a person, text.MACHINES: an assistant's advice after a user's
  question repeats its words without the user's facts, and its "Noted: buy genmaicha." repeats the
  user's words without adding one):

      link_i = Σ_dir γ_{dir,σ(i,dir(i)),α(i,dir(i))} c(i, dir(i)) m̃_dir(i),     m̃ = m − mean(m)
      c(i, j) = clip((cos(M_i, M_j) − lo) / (hi − lo), 0, 1)

  (in conversations the words of a question often sit in the turn that asked for the answer, or in the
  reply to it; in an agent's history consecutive observations are often unrelated). With
  `ScoringConfig.link_asks`, α tells whether the earlier memory of the pair asks something
  (α(i, prev(i)) = asks(prev(i)), α(i, next(i)) = asks(i): the reply to a question holds its answer,
  the reply to a statement is "Noted."); without it, α has one value. The packaged checkpoint has one:
  trained with the split, the links read locomo-dev no better (eval/results/controller, ablations);
- **session**: evidence clusters in sessions, so a candidate gains from the best matches among the
  other candidates of its session (candidates.py's session codes):

      session_i = γ_s Σ_{j ∈ S(i), j ≠ i} softmax_j(m̃_j) m̃_j

- **context**: one attention layer across the candidate set. Each candidate's unweighted inputs
  x_i = (z(cos), φ, the link and session inputs) go through h_i = tanh(x_i W_1 + b_1); attention
  over all candidates, with learned biases for pairs in one session, by one speaker, or adjacent,

      a_ij = softmax_j(q_i · k_j / √A + r_sess [S]_ij + r_spk [P]_ij + r_adj [L]_ij),   q, k, v = h W_q, h W_k, h W_v
      context_i = w_o · tanh([h_i, Σ_j a_ij v_j] W_2 + b_2)

  so a candidate's score can depend on what the others look like (two answers to one question, a
  strong match two turns away). w_o starts at 0: before training the read is the linear one.

**Redundancy.** A read returns its top k as a set, and two memories saying the same thing spend two
of its places on one piece of evidence. The hits are taken greedily (maximal marginal relevance,
Carbonell & Goldstein 1998): each next hit is the candidate with the best

    s_i − λ max(0, max_{j above i} cos(M_i, M_j))

and that difference is its score, the penalty reported as its `redundancy` part (`select`). λ
(`ScoringConfig.redundancy`) is not differentiated: training fits the scores, then chooses λ on the
held-out selection set (`controller.train.choose_redundancy`).

**Read modes.** The DNC mixes its weightings with read modes π that the controller emits for each read.
Here every mixing coefficient above (b, θ, γ, γ_s) is a base value plus a linear function of the
query's QUERY_FEATURES q (candidates.py: the question word, whether it names a speaker or a time,
whether it asks about the present):

    (b, θ, γ, γ_s)(q) = (b, θ, γ, γ_s) + q Π          (Π: Q x (2 + F + |γ|), starting at 0)

so a "when" question can lean on event times and a "now" question on recency, while the modes act on
logits and each term's share of the score stays exactly attributable. The read weights are w = softmax(s) over the candidates,
differentiable end to end. Softmax over z-scored cosines is NTM content addressing with the strength
divided by the cosines' spread: softmax(β z(cos)) = softmax((β/σ) cos) (research/addressing.py,
`content_weighting`).

Two paths compute the same numbers: `forward` (torch, batched over padded candidate sets, the
reference and what training differentiates) and `score_numpy` (one unpadded set, the fast path reads
take: a read's tensors are a few hundred rows, where torch's per-operation overhead costs more than
the arithmetic). `ScoringConfig.fast` chooses; the two are tested equal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agentmem.controller.candidates import QUERY_FEATURES, SIGNALS, Candidates
from agentmem.research.addressing import EPS, cosine_similarity

PARTS = ("content", *SIGNALS, "link_forward", "link_backward", "session", "context")
# The parts of a returned hit's score: the scorer's, then the redundancy penalty of the selection.
READ_PARTS = (*PARTS, "redundancy")
# Candidate cosines of one query closer than this are one value: standardised, they stay near-identical.
COSINE_SPREAD_FLOOR = 0.05
_LEX = SIGNALS.index("lexical")
_NEVER = -1e9  # the logit of a pair that must get no weight
INPUTS = len(SIGNALS) + 4  # the context layer's inputs: z(cos), the signals, forward, backward, session


@dataclass
class ScoringConfig:
    """link_coherence: (lo, hi) of the link weighting c(i, j) (None: every link counts fully);
    link_asks: the link weights tell whether the earlier memory of a pair asks (module docstring);
    link_machines: the link weights tell a machine's reply to a person from any other reply;
    redundancy: λ of the selection's penalty for a hit like one ranked above it (module docstring;
    0: the top k by score);
    read_modes: the coefficients follow the query's features (q Π) or are the same for every read;
    hidden / attention: widths H and A of the context layer (hidden 0: no context layer);
    fast: reads score with `score_numpy` (True) or the torch reference `forward` (False).

    The packaged checkpoint has neither read modes nor a context layer: trained on the generated shapes,
    both read locomo-dev worse than the linear read (eval/results/controller)."""

    link_coherence: tuple[float, float] | None = (0.2, 0.5)
    link_asks: bool = False
    link_machines: bool = True
    redundancy: float = 1.5
    read_modes: bool = False
    hidden: int = 0
    attention: int = 16
    fast: bool = True


class Scorer(nn.Module):
    """The read's learned parameters: strength β, signal weights θ, link weights γ (direction x who spoke
    the two memories x the earlier memory asks or not), session weight γ_s, the read modes Π, and the
    context layer's."""

    def __init__(self, config: ScoringConfig | None = None) -> None:
        super().__init__()
        self.config = config or ScoringConfig()
        self._numpy_views: dict[str, np.ndarray] | None = None
        # β = softplus(0.55) ≈ 1 and lexical weight 1: before any training, a read ranks by the sum of
        # standardised cosine and standardised BM25, a plain hybrid.
        self.strength = nn.Parameter(torch.tensor(0.55))
        self.signal_weight = nn.Parameter(torch.zeros(len(SIGNALS)))
        with torch.no_grad():
            self.signal_weight[_LEX] = 1.0
        # (forward, backward) x (same speaker, another[, a machine replying to a person: with
        # link_machines]) x (the pair's earlier memory asks, does not: with link_asks; else one value)
        who = 3 if self.config.link_machines else 2
        self.link_weight = nn.Parameter(torch.zeros(2, who, 2 if self.config.link_asks else 1))
        self.session_weight = nn.Parameter(torch.zeros(()))
        if self.config.read_modes:
            # the read-mode coefficients, in this order: strength, signal weights, link weights, session
            modes = 1 + len(SIGNALS) + self.link_weight.numel() + 1
            self.read_modes = nn.Parameter(torch.zeros(len(QUERY_FEATURES), modes))  # Π
        h, a = self.config.hidden, self.config.attention
        if h:
            g = torch.Generator().manual_seed(0)  # a fresh scorer is the same every time

            def init(*shape: int) -> nn.Parameter:
                return nn.Parameter(torch.randn(*shape, generator=g) / math.sqrt(shape[0]))

            self.w_in, self.b_in = init(INPUTS, h), nn.Parameter(torch.zeros(h))
            self.w_q, self.w_k, self.w_v = init(h, a), init(h, a), init(h, a)
            self.pair_bias = nn.Parameter(torch.zeros(3))  # (same session, same speaker, adjacent)
            self.w_mix, self.b_mix = init(h + a, h), nn.Parameter(torch.zeros(h))
            self.w_out = nn.Parameter(torch.zeros(h))

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
        speakers: torch.Tensor,
        sessions: torch.Tensor,
        asks: torch.Tensor,
        machine: torch.Tensor,
        modes: torch.Tensor,
        mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Score padded candidate sets.

        query (B, d); keys (B, C, d) candidate keys; features (B, C, F); prev / next (B, C) positions
        of the temporal neighbours (-1: none); speakers / sessions (B, C) codes (speaker -1: unknown);
        asks (B, C) bool, the candidate holds a question; machine (B, C) bool, a machine wrote it
        (text.MACHINES); modes (B, Q) the queries' QUERY_FEATURES;
        mask (B, C) True for real candidates.
        Returns scores (B, C) (-inf where masked) and their parts (B, C, P) in PARTS order, which
        sum to the scores.
        """
        n_sig, links = len(SIGNALS), self.link_weight.shape
        base = torch.cat(
            [self.strength.view(1), self.signal_weight, self.link_weight.view(-1), self.session_weight.view(1)]
        )
        # (B, 1 + F + |γ| + 1): each read's coefficients
        mix = base + modes @ self.read_modes if self.config.read_modes else base.expand(len(query), -1)
        beta = F.softplus(mix[:, :1])  # (B, 1)
        theta = mix[:, 1 : 1 + n_sig].unsqueeze(1)  # (B, 1, F)
        gamma = mix[:, 1 + n_sig : -1].view(-1, 1, *links)  # (B, 1, dir, speaker, asks)
        key = F.normalize(query, dim=-1).unsqueeze(1)  # (B, 1, d): the unit read key
        zcos = _standardise(cosine_similarity(keys, key)[:, 0], mask)  # (B, C), NTM eq. 6, standardised
        content = beta * zcos
        signals = features * theta  # (B, C, F)
        # The links and sessions carry how well a memory matches the query (content + lexical), not who
        # said it or when.
        match = content + signals[..., _LEX]
        centred = (match - _masked_mean(match, mask)) * mask  # (B, C)
        unit = F.normalize(keys, dim=-1)
        fwd_in = _gather(centred, prev) * self._coherence(unit, prev)  # (B, C)
        bwd_in = _gather(centred, next) * self._coherence(unit, next)
        # where prev / next is -1 the link carries 0 anyway
        fwd_reply = bwd_reply = None  # a machine replying to a person: the pair's later memory is a machine's
        if self.config.link_machines:
            fwd_reply = machine & ~torch.gather(machine, 1, prev.clamp(min=0))
            bwd_reply = torch.gather(machine, 1, next.clamp(min=0)) & ~machine
        # the asks of each link's earlier memory: prev(i)'s for i's forward link, i's own for its backward one
        fwd_asks, bwd_asks = (torch.gather(asks, 1, prev.clamp(min=0)), asks) if self.config.link_asks else (None, None)
        fwd_cell = _pair_onehot(speakers, prev, fwd_asks, fwd_reply)
        bwd_cell = _pair_onehot(speakers, next, bwd_asks, bwd_reply)
        fwd = (gamma[:, :, 0] * fwd_cell).sum((-2, -1)) * fwd_in
        bwd = (gamma[:, :, 1] * bwd_cell).sum((-2, -1)) * bwd_in
        both = mask.unsqueeze(1) & mask.unsqueeze(2)  # (B, C, C) pairs of real candidates
        same_session = (sessions.unsqueeze(1) == sessions.unsqueeze(2)) & both
        others = same_session & ~torch.eye(mask.shape[1], dtype=torch.bool, device=mask.device)
        # A finite fill, not -inf: a row with no others would be all -inf, whose softmax has NaN gradients.
        pooled_w = torch.softmax(centred.unsqueeze(1).masked_fill(~others, _NEVER), -1) * others
        pooled = (pooled_w * centred.unsqueeze(1)).sum(-1)  # (B, C)
        session = mix[:, -1:] * pooled
        columns = [
            content.unsqueeze(-1),
            signals,
            fwd.unsqueeze(-1),
            bwd.unsqueeze(-1),
            session.unsqueeze(-1),
        ]
        if self.config.hidden:
            x = torch.cat([zcos.unsqueeze(-1), features, torch.stack([fwd_in, bwd_in, pooled], -1)], -1)
            same_speaker = (speakers.unsqueeze(1) == speakers.unsqueeze(2)) & (speakers >= 0).unsqueeze(1)
            adjacent = _adjacency(prev, next)
            relations = torch.stack([same_session, same_speaker, adjacent], -1).to(x.dtype)  # (B, C, C, 3)
            columns.append(self._context(x, relations, both).unsqueeze(-1))
        parts = torch.cat(columns, dim=-1) * mask.unsqueeze(-1)
        if not self.config.hidden:
            parts = torch.cat([parts, torch.zeros_like(parts[..., :1])], -1)
        scores = parts.sum(-1).masked_fill(~mask, float("-inf"))
        return scores, parts

    def _context(self, x: torch.Tensor, relations: torch.Tensor, both: torch.Tensor) -> torch.Tensor:
        """The context layer: inputs x (B, C, INPUTS), pair relations (B, C, C, 3), real pairs (B, C, C)
        -> context (B, C)."""
        h = torch.tanh(x @ self.w_in + self.b_in)  # (B, C, H)
        q, k, v = h @ self.w_q, h @ self.w_k, h @ self.w_v  # (B, C, A)
        logits = q @ k.transpose(1, 2) / math.sqrt(q.shape[-1]) + relations @ self.pair_bias  # (B, C, C)
        att = torch.softmax(logits.masked_fill(~both, _NEVER), -1) * both
        mixed = torch.tanh(torch.cat([h, att @ v], -1) @ self.w_mix + self.b_mix)  # (B, C, H)
        return mixed @ self.w_out

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
        n_sig = len(SIGNALS)
        base = np.concatenate(
            [
                p["strength"].reshape(1),
                p["signal_weight"],
                p["link_weight"].ravel(),
                p["session_weight"].reshape(1),
            ]
        )
        mix = base + cand.query @ p["read_modes"] if self.config.read_modes else base  # this read's coefficients
        beta = np.logaddexp(0.0, mix[0])  # softplus
        zcos = _standardise_np(cos)
        content = beta * zcos
        signals = cand.features * mix[1 : 1 + n_sig]  # (C, F)
        match = content + signals[:, _LEX]
        centred = match - match.mean()
        norm = np.maximum(np.sqrt(sq), 1e-12)  # F.normalize's
        coh = self._prev_coherence(keys, norm, cand.prev)
        # The chain is doubly linked (next(i) = j exactly when prev(j) = i), so c(i, next(i)) is
        # c(j, prev(j)): the links to the next memory reuse the cosines of the links to the previous one.
        has_prev, has_next = cand.prev >= 0, cand.next >= 0
        prev, nxt = np.maximum(cand.prev, 0), np.maximum(cand.next, 0)
        fwd_in = np.where(has_prev, centred[prev] * coh, 0.0)
        bwd_in = np.where(has_next, centred[nxt] * coh[nxt], 0.0)
        spk, machine = cand.speakers, cand.machine
        gamma = mix[1 + n_sig : -1].reshape(p["link_weight"].shape)
        # index 0 of the asks axis: the earlier memory of the pair asks (prev(i) for i's forward link, i
        # itself for its backward one); without link_asks the axis has the one index 0
        fwd_asks, bwd_asks = ((~cand.asks[prev]).astype(int), (~cand.asks).astype(int)) if self.config.link_asks else (0, 0)
        if self.config.link_machines:
            fwd_who = _who_np(spk, prev, machine & ~machine[prev])
            bwd_who = _who_np(spk, nxt, machine[nxt] & ~machine)
        else:
            fwd_who, bwd_who = _who_np(spk, prev), _who_np(spk, nxt)
        fwd = gamma[0, fwd_who, fwd_asks] * fwd_in
        bwd = gamma[1, bwd_who, bwd_asks] * bwd_in
        same_session = cand.sessions[:, None] == cand.sessions[None, :]  # (C, C)
        others = same_session.copy()
        np.fill_diagonal(others, False)
        pooled = _pool_np(centred, others)
        columns = [content, signals, fwd, bwd, mix[-1] * pooled]
        if self.config.hidden:
            x = np.column_stack([zcos, cand.features, fwd_in, bwd_in, pooled]).astype(np.float32)
            same_speaker = (spk[:, None] == spk[None, :]) & (spk >= 0)[None, :]
            adjacent = np.zeros_like(same_session)
            rows = np.arange(len(spk))
            adjacent[rows[has_prev], cand.prev[has_prev]] = True
            adjacent[rows[has_next], cand.next[has_next]] = True
            bias = p["pair_bias"]
            rel = bias[0] * same_session + bias[1] * same_speaker + bias[2] * adjacent  # (C, C)
            columns.append(self._context_np(p, x, rel))
        else:
            columns.append(np.zeros(len(cos)))
        parts = np.column_stack(columns).astype(np.float32)
        return parts.sum(-1), parts

    @staticmethod
    def _context_np(p: dict[str, np.ndarray], x: np.ndarray, rel: np.ndarray) -> np.ndarray:
        """`_context` of one set: inputs x (C, INPUTS), pair-relation biases rel (C, C) -> (C,)."""
        h = np.tanh(x @ p["w_in"] + p["b_in"])  # (C, H)
        q, k, v = h @ p["w_q"], h @ p["w_k"], h @ p["w_v"]  # (C, A)
        logits = q @ k.T / math.sqrt(q.shape[-1]) + rel  # (C, C)
        att = np.exp(logits - logits.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        mixed = np.tanh(np.concatenate([h, att @ v], -1) @ p["w_mix"] + p["b_mix"])  # (C, H)
        return mixed @ p["w_out"]

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


def select(
    scores: np.ndarray, keys: np.ndarray, k: int | None, redundancy: float
) -> tuple[np.ndarray, np.ndarray]:
    """The top k of candidates with scores (C,) and keys (C, d), taken greedily by score less
    `redundancy` times the candidate's largest positive key cosine with those taken before it (the
    module docstring's maximal marginal relevance); k None: every candidate. Returns their positions
    (k,) in order and their penalties (k,), so that the scores less the penalties never increase."""
    n = len(scores) if k is None else min(k, len(scores))
    if not redundancy or n <= 1:
        return np.argsort(-scores, kind="stable")[:n], np.zeros(n)
    # A penalty is at most λ, so a candidate scoring under the k-th best score less λ can never be
    # taken: while fewer than k are taken, one of the k best is left, worth at least that much.
    within = np.arange(len(scores))
    if n < len(scores):
        within = np.flatnonzero(scores >= np.partition(scores, -n)[-n] - redundancy)
    keys = keys[within]
    unit = keys / np.maximum(np.linalg.norm(keys, axis=1, keepdims=True), 1e-12)
    closest = np.zeros(len(within))  # max(0, the largest cosine with a hit taken so far)
    value = scores[within].astype(np.float64)
    order, penalty = np.empty(n, dtype=np.int64), np.empty(n)
    for t in range(n):
        i = int(np.argmax(value - redundancy * closest))
        order[t], penalty[t] = within[i], redundancy * closest[i]
        value[i] = -np.inf
        np.maximum(closest, unit @ unit[i], out=closest)
    return order, penalty


def collate(cands: Sequence[Candidates], queries: Sequence[np.ndarray]) -> tuple[torch.Tensor, ...]:
    """Pad candidate sets into the batch `forward` takes: (query, keys, features, prev, next, speakers,
    sessions, asks, machine, modes, mask)."""
    b, c = len(cands), max(len(x) for x in cands)
    d, f = cands[0].keys.shape[1], cands[0].features.shape[1]
    keys = torch.zeros(b, c, d)
    feats = torch.zeros(b, c, f)
    prev, nxt, speakers, sessions = (torch.full((b, c), -1, dtype=torch.long) for _ in range(4))
    asks, machine, mask = (torch.zeros(b, c, dtype=torch.bool) for _ in range(3))
    for i, x in enumerate(cands):
        n = len(x)
        keys[i, :n] = torch.from_numpy(x.keys)
        feats[i, :n] = torch.from_numpy(x.features)
        prev[i, :n] = torch.from_numpy(x.prev)
        nxt[i, :n] = torch.from_numpy(x.next)
        speakers[i, :n] = torch.from_numpy(x.speakers)
        sessions[i, :n] = torch.from_numpy(x.sessions)
        asks[i, :n] = torch.from_numpy(x.asks)
        machine[i, :n] = torch.from_numpy(x.machine)
        mask[i, :n] = True
    query = torch.as_tensor(np.stack(queries), dtype=torch.float32)
    modes = torch.as_tensor(np.stack([x.query for x in cands]), dtype=torch.float32)
    return query, keys, feats, prev, nxt, speakers, sessions, asks, machine, modes, mask


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


def _pair_onehot(
    speakers: torch.Tensor, neighbour: torch.Tensor, asks: torch.Tensor | None, reply: torch.Tensor | None
) -> torch.Tensor:
    """(B, C, W, A): the one-hot (speaker, asks) cell of each candidate's link to its neighbour (B, C).
    Speaker axis: 0 where candidate i and its neighbour have one known speaker; else 2 where `reply`
    (B, C), the pair's later memory is a machine's and its earlier one is not; else 1 (reply None:
    W = 2, no third value). Asks axis (A = 2): 0 where `asks` (B, C), whether the pair's earlier memory
    asks, is True, else 1; asks None: A = 1."""
    same = (speakers == torch.gather(speakers, 1, neighbour.clamp(min=0))) & (speakers >= 0)
    if reply is None:
        by_speaker = torch.stack([same, ~same], -1).to(torch.float32)
    else:
        reply = reply & ~same
        by_speaker = torch.stack([same, ~same & ~reply, reply], -1).to(torch.float32)
    if asks is None:
        return by_speaker.unsqueeze(-1)
    by_asking = torch.stack([asks, ~asks], -1).to(torch.float32)
    return by_speaker.unsqueeze(-1) * by_asking.unsqueeze(-2)


def _who_np(speakers: np.ndarray, neighbour: np.ndarray, reply: np.ndarray | None = None) -> np.ndarray:
    """`_pair_onehot`'s speaker index (C,) of each candidate's link to its neighbour (C,) (positions,
    clamped at 0), in numpy."""
    same = (speakers == speakers[neighbour]) & (speakers >= 0)
    return np.where(same, 0, 1 if reply is None else np.where(reply, 2, 1))


def _adjacency(prev: torch.Tensor, next: torch.Tensor) -> torch.Tensor:
    """(B, C, C) True where j is i's previous or next memory, from positions prev / next (B, C)."""
    b, c = prev.shape
    adjacent = torch.zeros(b, c, c + 1, dtype=torch.bool, device=prev.device)
    for neighbour in (prev, next):
        adjacent.scatter_(2, torch.where(neighbour >= 0, neighbour, c).unsqueeze(-1), True)
    return adjacent[..., :c]


def _pool_np(centred: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Σ_{j: others[i, j]} softmax_j(centred_j) centred_j (C,), 0 for a row with no others."""
    e = np.exp(centred - centred.max()) * others  # (C, C); the shift cancels in the ratio
    total = e.sum(-1)
    return np.divide(e @ centred, total, out=np.zeros_like(total), where=total > 0)


def _gather(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """values (B, C) at positions index (B, C); 0 where index is -1."""
    got = torch.gather(values, 1, index.clamp(min=0))
    return got * (index >= 0)
