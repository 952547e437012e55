"""MemoryController: the trainable read and write policy over sparse, FAISS-backed slots.

Read (one query, R read heads):
  1. Each head r maps the query embedding q to a read key k_r = norm(q + (q A_r) B_r) (a low-rank
     learned residual, identity at initialisation) with a strength β_r = softplus(b_r).
  2. Candidates (SAM: sparse access) are the union of the index top-K for every head key, the
     lexical (BM25, lexical.py) top-K, and the temporal neighbours (DNC links, one each way) of the
     best few of each.
  3. Each candidate i gets a logit
         ℓ_i = Σ_r β_r z(cos(k_r, M))_i  +  Σ_f θ_f φ_f(i)       (content + signals.py's signals)
     with z the z-score over the candidates, and the temporal links carry the neighbours' match
     m = Σ_r β_r z(cos)_i + θ_lex φ_lex(i), as the DNC's forward and backward weightings do, each
     link weighed by how related its two memories are:
         s_i = ℓ_i + γ_f c(i, prev(i)) m̃_prev(i) + γ_b c(i, next(i)) m̃_next(i),     m̃ = m − mean(m)
         c(i, j) = clip((cos(M_i, M_j) − lo) / (hi − lo), 0, 1)
     (in conversations the words of a question often sit in the turn that asked for the answer, or in
     the reply to it, rather than in the answer itself; in an agent's history consecutive observations
     are often unrelated, and their link says nothing: locomo-dev's consecutive turns have a median
     cosine of 0.52, the synthetic agent histories' 0.17).
     The DNC mixes weightings with read modes π; here the modes act on logits, so each signal's
     share of the score stays exactly attributable (`why`).
  4. Read weights w = softmax(s) over the candidates, differentiable end to end.

Write (write_gate.py): the controller skips an observation whose text is already stored in the
namespace (a near-duplicate by key and by normalised text); it updates a memory in place (history
kept) when the learned gate says the observation supersedes it, p = σ(w·tanh(φ(new, old) U + c) + b)
above the trained threshold for one of the memories it weighs (the G closest, and the G closest of
those naming someone it names), merging the two keys; otherwise it allocates a new slot, linked after
the namespace's last one. An earlier write of the same batch is weighed as it would be once stored.

Training (training.py) fits the write gate first, on pairs a right gate would have left (teacher
forcing), then replays episodes through it and the same `gather` used at read time and minimises
-log Σ_{i ∈ gold} w_i through `forward` (torch, batched); a read scores its one candidate set with
`score`, the same equations in numpy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import wait
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agentmem.controller import PendingWrite, ReadHit, ReadQuery, SlotAccess, WriteDecision
from agentmem.cpu import in_background
from agentmem.errors import InvalidInputError
from agentmem.research.addressing import EPS, cosine_similarity
from agentmem.signals import SIGNALS, CandidateBuilder, Candidates
from agentmem.store import SlotRow
from agentmem.text import name_phrases, speaker_of
from agentmem.write_gate import GATE_FEATURES, pair_features

PARTS = ("content", *SIGNALS, "link_forward", "link_backward", "second_hop")
_ADDED_SINCE_FORMAT_1 = {"hop_weight"}  # parameters an older checkpoint may lack; they start switched off
_NAMING_CAP = 256  # memories naming someone a write names that its gate may weigh
COSINE_SPREAD_FLOOR = 0.05  # locomo-dev's candidate cosines spread 0.09-0.15 (1st-75th percentile)


@dataclass
class MemoryControllerConfig:
    """dim: key size (the encoder's); heads: read heads R; key_rank: rank of the learned key residual;
    dense_k / lexical_k: candidates from the index per head / from the lexical index;
    neighbours: the temporal neighbours of the best this-many index candidates (per head) and lexical
    candidates join the candidates (0: none; the DNC's links, kept sparse). A read's cost after its index
    scan grows with the candidates: 32 and 24 (about 160 candidates) read 0.2 ms faster at 100k memories
    than 48 and 48 (about 260), for 0.1-0.3 points of locomo-dev recall; hop_k: candidates the optional second
    hop's key adds from the index (0: no second hop; trained with a second hop, locomo-dev lost 3
    points, so the packaged checkpoint has none); duplicate_cosine: a write whose key is
    at least this close to a slot with the same normalised text is skipped; gate_candidates: G, the
    closest memories (stored, or written earlier in the batch) the write gate weighs a new observation
    against, and again the closest of those naming someone it names;
    update_threshold: the gate probability above which the observation updates that memory;
    gate_hidden: hidden units of the write gate (0: a logistic gate over the pair features);
    link_coherence: (lo, hi) of the link weighting c(i, j) (None: every link counts fully, as in
    checkpoints trained before it)."""

    dim: int = 384
    heads: int = 2
    key_rank: int = 16
    dense_k: int = 32
    lexical_k: int = 48
    neighbours: int = 24
    hop_k: int = 0
    duplicate_cosine: float = 0.98
    gate_candidates: int = 4
    update_threshold: float = 0.5
    gate_hidden: int = 16
    link_coherence: tuple[float, float] | None = (0.2, 0.5)


class MemoryController(nn.Module):
    """Learned read heads and signal weights; see the module docstring for the equations."""

    name = "learned"

    def __init__(self, config: MemoryControllerConfig | None = None) -> None:
        super().__init__()
        self.config = c = config or MemoryControllerConfig()
        self._numpy_views: dict[str, np.ndarray] | None = None
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
        self.hop_weight = nn.Parameter(torch.zeros(()))  # second hop: off until trained
        # Write gate (write_gate.py). Output weights 0 and σ(-4) ≈ 0.02: an untrained gate never turns an
        # observation into an update; the random hidden layer lets training tell its units apart.
        if c.gate_hidden > 0:
            f = len(GATE_FEATURES)
            self.gate_hidden_weight = nn.Parameter(torch.randn(f, c.gate_hidden, generator=g) / f**0.5)
            self.gate_hidden_bias = nn.Parameter(torch.zeros(c.gate_hidden))
        self.gate_weight = nn.Parameter(torch.zeros(c.gate_hidden or len(GATE_FEATURES)))
        self.gate_bias = nn.Parameter(torch.tensor(-4.0))

    # -- the differentiable part ---------------------------------------------------------------

    def read_keys(self, query: torch.Tensor) -> torch.Tensor:
        """Query embeddings (B, d) -> unit read keys (B, R, d). Without a learned residual (key_rank 0,
        the packaged checkpoint) every head reads with the query itself, whatever the encoder's d."""
        keys = query.unsqueeze(1).expand(-1, self.config.heads, -1)
        if self.config.key_rank > 0:
            keys = keys + torch.einsum("bd,rdk,rke->bre", query, self.key_a, self.key_b)
        return F.normalize(keys, dim=-1)

    def check_dim(self, dim: int) -> None:
        """Refuse an encoder whose keys the learned key residual was not trained for."""
        if self.config.key_rank > 0 and dim != self.config.dim:
            raise InvalidInputError(
                f"this controller's read heads were trained on {self.config.dim}-d keys but the encoder gives "
                f"{dim}-d; use controller='cosine' or train one for this encoder (`agentmem train controller`)"
            )

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
        unit = F.normalize(keys, dim=-1)
        fwd = self.link_weight[0] * _gather(centred, prev) * self._coherence(unit, prev)
        bwd = self.link_weight[1] * _gather(centred, next) * self._coherence(unit, next)
        parts = torch.cat([content.unsqueeze(-1), signals, fwd.unsqueeze(-1), bwd.unsqueeze(-1)], dim=-1)
        # Second hop: the first read's vector r = Σ_i w_i M_i (the DNC read vector) becomes a key, so
        # memories like what the first hop found (the other half of a multi-hop answer) score too.
        # Without one (hop_k 0) its part is 0 and its weight stays untrained.
        hop = torch.zeros_like(content)
        if self.config.hop_k > 0:
            first = torch.softmax(parts.sum(-1).masked_fill(~mask, float("-inf")), dim=-1)  # (B, C)
            second = torch.einsum("bcd,bd->bc", unit, self.read_vector(first, keys))
            hop = self.hop_weight * _standardise(second, mask)
        parts = torch.cat([parts, hop.unsqueeze(-1)], dim=-1)
        scores = parts.sum(-1).masked_fill(~mask, float("-inf"))
        return scores, parts

    def _coherence(self, unit: torch.Tensor, neighbour: torch.Tensor) -> torch.Tensor:
        """c(i, neighbour(i)) (B, C) of unit keys (B, C, d) and neighbour positions (B, C) (-1: none)."""
        if self.config.link_coherence is None:
            return torch.ones_like(neighbour, dtype=unit.dtype)
        lo, hi = self.config.link_coherence
        other = torch.gather(unit, 1, neighbour.clamp(min=0).unsqueeze(-1).expand_as(unit))
        return (((unit * other).sum(-1) - lo) / (hi - lo)).clamp(0.0, 1.0)

    @staticmethod
    def read_vector(weights: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """Read weights (B, C) over candidate keys (B, C, d) -> unit read vectors (B, d)."""
        return F.normalize(torch.einsum("bc,bcd->bd", weights, keys), dim=-1)

    def _numpy_parameters(self) -> dict[str, np.ndarray]:
        """The parameters as numpy arrays. On the CPU they are views of the tensors, made once and always
        current (training updates them in place); elsewhere, copies made per call. Made per read, they
        were a measurable part of a 100k-memory read, which runs with caches its index scan has flushed."""
        if self._numpy_views is None:
            params = {name: t.detach() for name, t in self.named_parameters()}
            if any(t.device.type != "cpu" for t in params.values()):
                return {name: t.cpu().numpy() for name, t in params.items()}
            self._numpy_views = {name: t.numpy() for name, t in params.items()}
        return self._numpy_views

    def _apply(self, fn, recurse=True):
        self._numpy_views = None  # .to(), .double(), ... may give the parameters new tensors
        return super()._apply(fn, recurse)

    def head_keys(self, query: np.ndarray) -> np.ndarray:
        """`read_keys` for one query embedding (d,), in numpy: unit read keys (R, d)."""
        q = np.asarray(query, dtype=np.float32)
        heads = np.broadcast_to(q, (self.config.heads, q.shape[0]))
        if self.config.key_rank > 0:
            p = self._numpy_parameters()
            heads = heads + np.einsum("d,rdk,rke->re", q, p["key_a"], p["key_b"])
        return heads / np.maximum(np.linalg.norm(heads, axis=-1, keepdims=True), 1e-12)

    def score(self, cand: Candidates, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`forward` for one read, in numpy: scores (C,) and their parts (C, P) in PARTS order.

        The same equations without autograd. A read's tensors are a few hundred rows, where torch's
        per-operation overhead made its forward pass cost 0.8 ms a read against 0.45 ms here (profiled
        reads of the 100k latency store, eval/results/controller/README.md); training keeps `forward`.
        Tested equal to it.
        """
        p = self._numpy_parameters()
        c = self.config
        heads = self.head_keys(query)
        keys = np.asarray(cand.keys, dtype=np.float32)
        # One pass over the (C, d) keys for their squared norms: the keys are read once more, by the
        # product below, and no (C, d) temporary is made (the read runs right after a scan that has
        # flushed the CPU caches, where each pass over the keys costs as much as the arithmetic).
        sq = np.einsum("cd,cd->c", keys, keys)
        dots = keys @ heads.T  # (C, R)
        # cosine_similarity's ε-guarded norms, so both paths give the same numbers
        cos = dots.T / (np.sqrt((heads**2).sum(-1, keepdims=True) + EPS) * np.sqrt(sq + EPS))  # (R, C)
        beta = np.logaddexp(0.0, p["strength"])  # softplus
        content = beta @ _standardise_np(cos)
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
        hop = np.zeros_like(content)
        if c.hop_k > 0:
            vector = _read_vector_np(content + signals.sum(-1) + fwd + bwd, keys)
            hop = p["hop_weight"] * _standardise_np((keys @ vector) / norm)
        parts = np.column_stack([content, signals, fwd, bwd, hop]).astype(np.float32)
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

    # -- the controller interface --------------------------------------------------------------

    def gather(self, query: ReadQuery, memory: SlotAccess, *, extra: Sequence[int] = ()) -> Candidates:
        """The candidate set of one read (`extra` slots are added: training adds the gold ones)."""
        c = self.config
        cand = CandidateBuilder(
            query=query.text, namespace=query.namespace, query_time=query.time, keys=memory.vectors
        )

        def take(slots: Sequence[int], strong: Sequence[int], *, visible: bool = True) -> None:
            """Add candidates, and the temporal neighbours of the `strong` ones among them (from the rows
            already collected where it can, so only the others' links are looked up)."""
            new = [s for s in slots if s not in cand]
            unseen = [s for s in strong if s not in cand]
            new += [s for s in cand.linked(strong) if s not in cand]
            if new or unseen:
                cand.add(
                    memory.neighbourhood(
                        new, unseen, namespace=query.namespace, filter=query.filter, visible=visible
                    )
                )

        def lexical_part() -> tuple[dict[int, float], np.ndarray]:
            """The lexical top-K and its candidates' rows (BM25 of candidates outside it counts as 0), and
            the memories naming whom the query names."""
            found = dict(
                memory.lexical(query.text, c.lexical_k, namespace=query.namespace, filter=query.filter)
            )
            take(list(found), list(found)[: c.neighbours])
            cand.describe()
            naming = memory.naming(query.text)
            # Most of a read's top k are lexical candidates: their rows, fetched here while the scan
            # runs, are not fetched after it for the records.
            memory.rows(list(found))
            return found, naming

        # The lexical part runs on another core while this thread scans the index (FAISS and SQLite
        # release the GIL; eval/results/controller/README.md, Latency). The caller must not hold the
        # store's lock, which the worker needs.
        lexical_done = in_background(lexical_part)
        try:
            dense_lists = memory.search_many(
                self.head_keys(query.vector), c.dense_k, namespace=query.namespace, filter=query.filter
            )
        except BaseException:
            wait([lexical_done])  # never leave the worker reading a memory the caller may change or close
            raise
        lexical, naming = lexical_done.result()
        dense = [[s for s, _ in hits] for hits in dense_lists]
        take([s for src in dense for s in src], [s for src in dense for s in src[: c.neighbours]])
        # Training adds the gold slots (wherever they are), with the neighbours a read of them would see.
        take(extra, (), visible=False)
        take((), extra)
        first = cand.build(lexical, naming)
        if c.hop_k == 0 or len(first) == 0:
            return first
        scores, _ = self.score(first, query.vector)
        key = _read_vector_np(scores, first.keys)
        hop = memory.search(key, c.hop_k, namespace=query.namespace, filter=query.filter)
        n = len(cand)
        take([s for s, _ in hop], ())
        return cand.build(lexical, naming) if len(cand) > n else first

    def read(self, queries: Sequence[ReadQuery], memory: SlotAccess) -> list[list[ReadHit]]:
        return [self._read_one(q, memory, k=q.k) for q in queries]

    def explain(
        self, query: ReadQuery, slots: Sequence[int], memory: SlotAccess
    ) -> dict[int, tuple[int, ReadHit]]:
        """(rank among the candidates, hit) of each of `slots`, scored as if a read had gathered them."""
        hits = self._read_one(query, memory, extra=slots, k=None)
        wanted = set(slots)
        return {h.slot: (rank, h) for rank, h in enumerate(hits, 1) if h.slot in wanted}

    def _read_one(
        self, q: ReadQuery, memory: SlotAccess, *, k: int | None, extra: Sequence[int] = ()
    ) -> list[ReadHit]:
        """The top `k` hits (every candidate when None)."""
        cand = self.gather(q, memory, extra=extra)
        if len(cand) == 0:
            return []
        scores, parts = self.score(cand, q.vector)
        weights = np.exp(scores - scores.max())
        weights /= weights.sum()
        top = np.argsort(-scores, kind="stable")[:k]
        columns = (cand.slots[top], scores[top], weights[top], parts[top])
        return [
            ReadHit(slot=slot, score=score, weight=weight, why=dict(zip(PARTS, why, strict=True)))
            for slot, score, weight, why in zip(*(c.tolist() for c in columns), strict=True)
        ]

    def gate_logit(self, features: torch.Tensor) -> torch.Tensor:
        """Write gate: pair features (..., F) -> the logit of p(the new observation supersedes the old
        memory) (...)."""
        h = features
        if self.config.gate_hidden > 0:
            h = torch.tanh(h @ self.gate_hidden_weight + self.gate_hidden_bias)
        return h @ self.gate_weight + self.gate_bias

    def gate_parameters(self) -> list[nn.Parameter]:
        """The write gate's parameters (`fit_gate` fits them apart from the read's)."""
        hidden = [self.gate_hidden_weight, self.gate_hidden_bias] if self.config.gate_hidden > 0 else []
        return [*hidden, self.gate_weight, self.gate_bias]

    def update_probability(self, features: torch.Tensor) -> torch.Tensor:
        """`gate_logit` as a probability (...)."""
        return torch.sigmoid(self.gate_logit(features))

    def plan_writes(self, writes: Sequence[PendingWrite], memory: SlotAccess) -> list[WriteDecision]:
        """Per observation, in order: skip it when its namespace already holds the same text; update the
        memory it supersedes when the gate says so (an earlier write of this batch counts too); else
        allocate a new slot."""
        c = self.config
        out: list[WriteDecision] = []
        names = [name_phrases(w.text) for w in writes]  # whom each write names, worked out once
        earlier = _BatchWrites(writes, names)
        stored, rows = self._nearest_stored(writes, names, memory)
        for i, w in enumerate(writes):
            decision = WriteDecision("new")
            if w.vector is not None:
                pairs = self._gate_pairs(w, names[i], stored[i], rows, earlier)
                dup = next(
                    (p for p in pairs if p[3] >= c.duplicate_cosine and _norm(p[1]) == _norm(w.text)), None
                )
                if dup is not None:
                    decision = WriteDecision("skip", *dup[0])
                elif pairs:
                    speaker = speaker_of(w.text, w.metadata)
                    best = pairs[0][3]
                    feats = np.stack(
                        [pair_features(w.text, speaker, t, spk, cos, best) for _, t, spk, cos in pairs]
                    )
                    with torch.no_grad():
                        p = self.update_probability(torch.from_numpy(feats))
                    top = int(p.argmax())
                    if float(p[top]) > c.update_threshold:
                        target = pairs[top][0]
                        old = earlier.key(target)
                        old = memory.vectors([target[0]])[0] if old is None else old
                        decision = WriteDecision("update", *target, vector=merge_keys(old, w.vector))
            out.append(decision)
            if decision.op == "new" and w.vector is not None:
                earlier.write((None, i), i, w.vector)
            elif decision.op == "update":
                earlier.write((decision.slot, decision.pending), i, decision.vector)
        return out

    def _nearest_stored(
        self, writes: Sequence[PendingWrite], names: Sequence[list[str]], memory: SlotAccess
    ) -> tuple[dict[int, tuple[list[tuple[int, float]], list[tuple[int, float]]]], dict[int, SlotRow]]:
        """Each write's G nearest stored memories and the G nearest of those naming someone it names,
        ([(slot, cosine)], [(slot, cosine)]) by batch position, and their rows: one index search per
        namespace for the whole batch, not one per write, and one key fetch for every named memory."""
        by_ns: dict[tuple[str, ...], list[int]] = {}
        for i, w in enumerate(writes):
            if w.vector is not None:
                by_ns.setdefault(w.namespace, []).append(i)
        closest: dict[int, list[tuple[int, float]]] = {}
        for ns, idx in by_ns.items():
            vectors = np.stack([writes[i].vector for i in idx])
            found = memory.search_many(vectors, self.config.gate_candidates, namespace=ns, filter=None)
            closest.update(zip(idx, found, strict=True))
        # For a name mentioned everywhere, only the latest-allocated few hundred memories naming it are
        # weighed, so a write's cost stays bounded; its older ones still count among the G closest.
        naming = {i: memory.naming(writes[i].text)[-_NAMING_CAP:] if names[i] else () for i in closest}
        wanted = sorted(
            {s for f in closest.values() for s, _ in f} | {int(s) for n in naming.values() for s in n}
        )
        rows = memory.rows(wanted)
        named_slots = sorted({int(s) for n in naming.values() for s in n})
        keys = dict(zip(named_slots, memory.vectors(named_slots), strict=True))
        stored = {}
        for i, found in closest.items():
            w = writes[i]
            mine = [s for s in map(int, naming[i]) if s in rows and rows[s].namespace == w.namespace]
            named = [(s, float(keys[s] @ w.vector)) for s in mine]
            stored[i] = (found, sorted(named, key=lambda p: -p[1])[: self.config.gate_candidates])
        return stored, rows

    def _gate_pairs(
        self,
        w: PendingWrite,
        names: list[str],
        found: tuple[list[tuple[int, float]], list[tuple[int, float]]],
        rows: dict[int, SlotRow],
        earlier: _BatchWrites,
    ) -> list[tuple[tuple[int | None, int | None], str, str, float]]:
        """The memories a write is weighed against, ((slot, pending), text, speaker, cosine), best first:
        the G closest stored memories and earlier writes of the batch, and the G closest of those naming
        someone the write names (`names`, its name phrases)."""
        k = self.config.gate_candidates
        closest, named = found
        gone = earlier.rewritten  # their stored key and text are out of date: the batch holds them now

        def pairs(stored: list[tuple[int, float]], batch: list) -> list:
            out = [
                ((s, None), rows[s].text, speaker_of(rows[s].text, rows[s].metadata), cos)
                for s, cos in stored
                if rows[s].namespace == w.namespace and s not in gone
            ]
            return sorted(out + batch, key=lambda p: -p[3])[:k]

        weighed = pairs(closest, earlier.nearest(w.vector, k))
        if names:
            weighed += pairs(named, earlier.naming(w.vector, names, k))
        unique = {p[0]: p for p in weighed}
        return sorted(unique.values(), key=lambda p: -p[3])

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
        config = json.loads(meta["config"])
        # Checkpoints from before link coherence were trained with every link counting fully.
        coherence = config.setdefault("link_coherence", None)
        config["link_coherence"] = None if coherence is None else tuple(coherence)
        # A checkpoint's gate weighs the features of its time; those added since (appended to
        # GATE_FEATURES) get weight 0, so it decides as trained. Before the hidden layer, the gate was
        # logistic: its input weights are `gate_weight`.
        name = "gate_hidden_weight" if config.setdefault("gate_hidden", 0) > 0 else "gate_weight"
        old = state.get(name)
        if old is not None and len(old) < len(GATE_FEATURES):
            pad = old.new_zeros((len(GATE_FEATURES) - len(old), *old.shape[1:]))
            state[name] = torch.cat([old, pad])
        if isinstance(config.get("neighbours"), bool):  # before neighbours counted: every candidate's
            every = max(config.get(k, getattr(MemoryControllerConfig, k)) for k in ("dense_k", "lexical_k"))
            config["neighbours"] = every if config["neighbours"] else 0
        model = cls(MemoryControllerConfig(**config))
        missing, unexpected = model.load_state_dict(state, strict=False)
        if unexpected or set(missing) - _ADDED_SINCE_FORMAT_1:
            raise InvalidInputError(
                f"{path} does not fit this version's controller (missing {sorted(missing)}, unexpected "
                f"{sorted(unexpected)}); retrain it with `agentmem train controller`"
            )
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


def _standardise(x: torch.Tensor, mask: torch.Tensor, floor: float = COSINE_SPREAD_FLOOR) -> torch.Tensor:
    """z-score x (..., C) over the masked candidates. Cosines of one query's candidates sit in a narrow,
    query-dependent band (0.2-0.4 for one, 0.5-0.7 for the next); standardised, one strength β fits
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


def _read_vector_np(scores: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """`read_vector` of softmax(scores (C,)) over keys (C, d): the unit DNC read vector (d,). The
    vector is normalised, so the softmax's denominator is left out."""
    vector = np.exp(scores - scores.max()) @ keys
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def _gather(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """values (B, C) at positions index (B, C); 0 where index is -1."""
    got = torch.gather(values, 1, index.clamp(min=0))
    return got * (index >= 0)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def merge_keys(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """The key of a memory updated by a superseding observation: the normalised sum of both keys. The
    text becomes the new statement, but the slot stays addressable by how the fact was first put
    ("X works at Acme" is how it is asked about; "X left Acme for Globex" is how it changed)."""
    key = np.asarray(old, dtype=np.float32) + np.asarray(new, dtype=np.float32)
    return key / max(float(np.linalg.norm(key)), 1e-12)


class _BatchWrites:
    """The memories this batch has written so far, as a later write of the batch would find them stored:
    each slot an earlier write allocates or updates, with its current key and text (the latest
    statement's), in one growing key matrix (one batch shares one namespace), so weighing a write
    against them is a single (m, d) product. A stored slot the batch updates moves here: the index
    search made before the batch saw its old key and text. Whether a history is written in one batch or
    one observation at a time, each write is weighed against the same memories."""

    Target = tuple[int | None, int | None]  # (stored slot, batch position of the write allocating it)

    def __init__(self, writes: Sequence[PendingWrite], names: Sequence[list[str]]) -> None:
        """names: each write's name phrases."""
        self.writes, self.names = writes, names
        dim = next((len(w.vector) for w in writes if w.vector is not None), 0)
        self.keys = np.zeros((len(writes), dim), dtype=np.float32)
        self.targets: list[_BatchWrites.Target] = []
        self.latest: list[int] = []  # per row: the batch position of the write whose text it holds
        self.row: dict[_BatchWrites.Target, int] = {}
        self.named: dict[str, set[int]] = {}  # name phrase -> rows whose text names it
        self.rewritten: set[int] = set()  # stored slots an earlier write of the batch updated

    def key(self, target: Target) -> np.ndarray | None:
        row = self.row.get(target)
        return None if row is None else self.keys[row]

    def write(self, target: Target, i: int, key: np.ndarray) -> None:
        """Write `i` allocated (target (None, i)) or updated `target`, which now holds `key` `(d,)`."""
        row = self.row.get(target)
        if row is None:
            row = self.row[target] = len(self.targets)
            self.targets.append(target)
            self.latest.append(i)
            if target[0] is not None:
                self.rewritten.add(target[0])
        else:
            for name in self.names[self.latest[row]]:
                self.named[name].discard(row)
            self.latest[row] = i
        self.keys[row] = key
        for name in self.names[i]:
            self.named.setdefault(name, set()).add(row)

    def pair(self, row: int, cosine: float) -> tuple[Target, str, str, float]:
        w = self.writes[self.latest[row]]
        return self.targets[row], w.text, speaker_of(w.text, w.metadata), cosine

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[Target, str, str, float]]:
        """Pairs of the k closest memories the batch wrote."""
        m = len(self.targets)
        if m == 0:
            return []
        cos = self.keys[:m] @ vector
        top = np.argpartition(-cos, k - 1)[:k] if m > k else np.arange(m)
        return [self.pair(int(t), float(cos[t])) for t in top]

    def naming(
        self, vector: np.ndarray, names: Sequence[str], k: int
    ) -> list[tuple[Target, str, str, float]]:
        """Pairs of the k closest memories the batch wrote that name one of `names`."""
        rows = np.array(sorted(set().union(*(self.named.get(n, set()) for n in names))), dtype=np.int64)
        if len(rows) == 0:
            return []
        cos = self.keys[rows] @ vector
        return [self.pair(int(rows[t]), float(cos[t])) for t in np.argsort(-cos)[:k]]
