"""LearnedController: the trainable read and write policy over sparse slots.

It composes three parts, each in its own module:
- read: `candidates.gather` (sparse candidates from the backend: dense top-K, lexical top-K, temporal
  neighbours) then `scoring.Scorer` (content addressing with strength β, the signals, the links), read
  weights w = softmax(s) over the candidates, and the hits by `scoring.select` (the top k, each less
  its redundancy with the hits above);
- write: `write_gate.WriteGate` (skip a duplicate, update the memory an observation supersedes, or
  allocate a new slot);
- training (train.py) fits the gate, then the scorer through the same `gather` reads use.

A checkpoint is one safetensors file, the config in its metadata; the packaged one
(`agentmem/checkpoints/controller.safetensors`) is what `agentmem train controller` writes with its
defaults, and `LearnedConfig()` is its config.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from agentmem.controller.base import PendingWrite, ReadHit, ReadQuery, WriteDecision
from agentmem.controller.candidates import SIGNALS, CandidateConfig, Candidates, gather
from agentmem.controller.scoring import READ_PARTS, Scorer, ScoringConfig, select
from agentmem.controller.write_gate import WriteGate, WriteGateConfig
from agentmem.errors import InvalidInputError
from agentmem.storage.base import SlotReader

FORMAT = "agentmem-controller/9"
# Older formats knew less: formats up to 8 returned the top k by score (their configs do not say
# `redundancy`; they load with 0), formats 5 to 7 always told a machine's reply to a person from other replies
# (their configs do not say `link_machines`), formats up to 6 always told apart whether a link's
# earlier memory asks (their configs do not say `link_asks`), formats up to 5 had no `length` signal,
# format 4's links not whether a reply is a machine's to a person, format 3's not whether the earlier
# memory asks either. Their checkpoints load with the splits, weight 0 for the new signal and one link
# weight for the values they did not tell apart (`_upgrade`), so they read exactly as they did.
_OLDER = {f"agentmem-controller/{v}": v for v in (3, 4, 5, 6, 7, 8)}
_OLD_SIGNALS = SIGNALS.index("length")  # the signals before `length`, the ones older formats had


@dataclass
class LearnedConfig:
    """The learned controller: how a read gathers candidates, how it scores them, how writes are gated.
    The defaults are the packaged checkpoint's."""

    candidates: CandidateConfig = field(default_factory=CandidateConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    gate: WriteGateConfig = field(default_factory=WriteGateConfig)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LearnedConfig:
        scoring = dict(d.get("scoring", {}))
        if scoring.get("link_coherence") is not None:
            scoring["link_coherence"] = tuple(scoring["link_coherence"])
        return cls(
            CandidateConfig(**d.get("candidates", {})),
            ScoringConfig(**scoring),
            WriteGateConfig(**d.get("gate", {})),
        )


class LearnedController(nn.Module):
    """Reads by gathering and scoring candidates, writes through the write gate (module docstring)."""

    name = "learned"

    def __init__(self, config: LearnedConfig | None = None) -> None:
        super().__init__()
        self.config = config or LearnedConfig()
        self.scorer = Scorer(self.config.scoring)
        self.gate = WriteGate(self.config.gate)

    # -- the controller interface --------------------------------------------------------------

    def gather(self, query: ReadQuery, memory: SlotReader, *, extra: Sequence[int] = ()) -> Candidates:
        """The candidate set of one read (`extra` slots are added: training adds the gold ones)."""
        return gather(query, memory, self.config.candidates, extra=extra)

    def read(self, queries: Sequence[ReadQuery], memory: SlotReader) -> list[list[ReadHit]]:
        return [self._read_one(q, memory, k=q.k) for q in queries]

    def explain(
        self, query: ReadQuery, slots: Sequence[int], memory: SlotReader
    ) -> dict[int, tuple[int, ReadHit]]:
        """(rank among the candidates, hit) of each of `slots`, scored as if a read had gathered them."""
        hits = self._read_one(query, memory, extra=slots, k=None)
        wanted = set(slots)
        return {h.slot: (rank, h) for rank, h in enumerate(hits, 1) if h.slot in wanted}

    def _read_one(
        self, q: ReadQuery, memory: SlotReader, *, k: int | None, extra: Sequence[int] = ()
    ) -> list[ReadHit]:
        """The top `k` hits (every candidate when None)."""
        cand = self.gather(q, memory, extra=extra)
        if len(cand) == 0:
            return []
        scores, parts = self.scorer.score(cand, q.vector)
        weights = np.exp(scores - scores.max())
        weights /= weights.sum()
        top, penalty = select(scores, cand.keys, k, self.config.scoring.redundancy)
        parts = np.column_stack([parts[top], -penalty])
        columns = (cand.slots[top], scores[top] - penalty, weights[top], parts)
        return [
            ReadHit(slot=slot, score=score, weight=weight, why=dict(zip(READ_PARTS, why, strict=True)))
            for slot, score, weight, why in zip(*(c.tolist() for c in columns), strict=True)
        ]

    def plan_writes(self, writes: Sequence[PendingWrite], memory: SlotReader) -> list[WriteDecision]:
        return self.gate.plan(writes, memory)

    # -- checkpoints ---------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """safetensors weights with the config in the file's metadata."""
        from safetensors.torch import save_file

        state = {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        save_file(state, str(path), metadata={"config": json.dumps(asdict(self.config)), "format": FORMAT})

    @classmethod
    def load(cls, path: str | Path) -> LearnedController:
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
                state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open is not a dict
        except Exception as e:  # noqa: BLE001 - any unreadable file gets the same one-line answer
            raise InvalidInputError(
                f"cannot read controller checkpoint {path} ({e}); pass a file written by `agentmem train controller`"
            ) from e
        older = _OLDER.get(meta.get("format", ""))
        if older is not None:
            state = _upgrade(state, older)
        elif meta.get("format") != FORMAT:
            raise InvalidInputError(
                f"{path} is not an agentmem controller checkpoint of this version ({meta.get('format')!r}, "
                f"expected {FORMAT!r}); retrain it with `agentmem train controller`"
            )
        try:
            config_dict = json.loads(meta["config"])
            if older is not None:  # what these formats always did (_OLDER)
                scoring = config_dict.setdefault("scoring", {})
                scoring.setdefault("redundancy", 0.0)
                if older < 8:
                    scoring.setdefault("link_asks", True)
                    scoring["link_machines"] = True
            config = LearnedConfig.from_dict(config_dict)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise InvalidInputError(
                f"{path} holds a controller config this version cannot read ({e}); retrain it with "
                "`agentmem train controller`"
            ) from e
        model = cls(config)
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise InvalidInputError(
                f"{path} does not fit this version's controller (missing {sorted(missing)}, unexpected "
                f"{sorted(unexpected)}); retrain it with `agentmem train controller`"
            )
        model.eval()
        return model


def _upgrade(state: dict[str, torch.Tensor], version: int) -> dict[str, torch.Tensor]:
    """An older format's state (format `version`, 3 to 8) with this format's parameters: format 6 to 8
    states are this format's (format 6 and 7 with the machine split, format 6 with the asks split); before them,
    the `length` signal weighs 0 in the signal weights, the read modes and the context layer's inputs;
    format 3 and 4 links get their axes (`_upgrade_links`)."""
    state = dict(state)
    if version >= 6:
        return state
    if version < 5:
        state = _upgrade_links(state, version)
    at = _OLD_SIGNALS

    def insert(w: torch.Tensor, index: int, dim: int) -> torch.Tensor:  # a zero slice at `index` of `dim`
        shape = list(w.shape)
        shape[dim] = 1
        return torch.cat([w.narrow(dim, 0, index), w.new_zeros(shape), w.narrow(dim, index, w.shape[dim] - index)], dim)

    state["scorer.signal_weight"] = insert(state["scorer.signal_weight"], at, 0)
    if "scorer.read_modes" in state:  # (Q, MODES): strength, then the signal weights
        state["scorer.read_modes"] = insert(state["scorer.read_modes"], 1 + at, 1)
    if "scorer.w_in" in state:  # (INPUTS, H): z(cos), then the signals
        state["scorer.w_in"] = insert(state["scorer.w_in"], 1 + at, 0)
    return state


def _upgrade_links(state: dict[str, torch.Tensor], version: int) -> dict[str, torch.Tensor]:
    """A format-3 or format-4 state with format 5's link axes (direction, who spoke, the earlier memory
    asks), and read-mode columns to match: format 3's (direction, same or other speaker) weights serve
    both values of the asks axis, and a machine's reply to a person takes the weight of any other
    speaker's reply."""

    old = (2, 2) if version == 3 else (2, 2, 2)

    def links(w: torch.Tensor) -> torch.Tensor:  # (..., *old) -> (..., 2, 3, 2)
        if version == 3:
            w = w.unsqueeze(-1).expand(*w.shape, 2)
        return torch.cat([w, w[..., 1:2, :]], -2).contiguous()

    state["scorer.link_weight"] = links(state["scorer.link_weight"])
    if "scorer.read_modes" in state:
        modes, at, n = state["scorer.read_modes"], 1 + _OLD_SIGNALS, math.prod(old)
        weights = links(modes[:, at : at + n].reshape(len(modes), *old)).flatten(1)
        state["scorer.read_modes"] = torch.cat([modes[:, :at], weights, modes[:, at + n :]], 1)
    return state
