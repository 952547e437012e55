"""What the public API hands back: a memory's record, one of its past versions, a recall hit."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

Namespace = tuple[str, ...]


def to_datetime(ts: float | None) -> datetime | None:
    """Unix seconds (how the store keeps time) -> aware UTC datetime."""
    return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc)


def _from_iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True)
class MemoryRecord:
    """One memory (a slot) as it is now.

    write_order: position in the global write order (also the slot's index key); never reused.
    prev_id / next_id: temporal links, the memories written just before / after in the same namespace.
    usage: DNC-style usage in [0, 1]: grows as reads weight the slot (u <- u + w - u*w).
    version: 1 for a new memory, +1 per update; `Memory.history` holds the older versions.
    indexed: False for memories stored with `index=False` (kept, listed, never recalled by content).
    """

    id: str
    namespace: Namespace
    text: str
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    event_time: datetime | None
    usage: float
    write_order: int
    prev_id: str | None
    next_id: str | None
    version: int
    expires_at: datetime | None = None
    indexed: bool = True
    last_read_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; datetimes as ISO 8601 strings. This is the CLI's stable `--json` shape."""
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            out[k] = v.isoformat() if isinstance(v, datetime) else list(v) if k == "namespace" else v
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MemoryRecord:
        """The inverse of `to_dict` (keys it does not know are ignored)."""
        times = ("created_at", "updated_at", "event_time", "expires_at", "last_read_at")
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        known.update({k: _from_iso(known[k]) for k in times if k in known})
        return cls(**{**known, "namespace": tuple(d["namespace"])})


@dataclass(frozen=True)
class MemoryVersion:
    """A past (or the current) version of a memory, as kept by `update`."""

    version: int
    text: str
    metadata: dict[str, Any]
    event_time: datetime | None
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "text": self.text,
            "metadata": self.metadata,
            "event_time": self.event_time.isoformat() if self.event_time else None,
            "updated_at": self.updated_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MemoryVersion:
        return cls(d["version"], d["text"], d["metadata"], _from_iso(d["event_time"]), _from_iso(d["updated_at"]))


@dataclass(frozen=True)
class RecallResult:
    """One recalled memory.

    score: the controller's ranking score (for the cosine controller, the cosine similarity).
    weight: the read weight, softmax of strength-sharpened scores over the candidates (sums to 1
        over the candidates the controller considered, so the top-k weights may sum to less).
    why: each addressing signal's contribution to `score`, e.g. {"content": 0.71}; the contributions
        sum to `score`.
    """

    record: MemoryRecord
    score: float
    weight: float
    why: dict[str, float] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def text(self) -> str:
        return self.record.text

    @property
    def namespace(self) -> Namespace:
        return self.record.namespace

    @property
    def metadata(self) -> dict[str, Any]:
        return self.record.metadata

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "weight": self.weight, "why": self.why, **self.record.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RecallResult:
        score = float("nan") if d["score"] is None else d["score"]
        return cls(MemoryRecord.from_dict(d), score, d["weight"] or 0.0, d["why"])


@dataclass
class Explanation:
    """Why one memory scores as it does for a query (`Memory.explain`).

    rank: its 1-based place among everything the controller would score for the query (None when the
        controller would not consider it, e.g. past the cosine baseline's search depth).
    result: score, read weight and each signal's contribution (`why`), as `recall` would report them.
    """

    rank: int | None
    result: RecallResult

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: a score or weight the controller did not compute is None, not NaN."""
        out = {"rank": self.rank, **self.result.to_dict()}
        for key in ("score", "weight"):
            if isinstance(out[key], float) and math.isnan(out[key]):
                out[key] = None
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Explanation:
        return cls(d["rank"], RecallResult.from_dict(d))
