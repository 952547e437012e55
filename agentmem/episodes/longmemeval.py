"""LongMemEval loader (LongMemEval_S, _M and _oracle files, original schema).

Each item carries its own haystack: `haystack_sessions` (lists of `{role, content, has_answer?}` turns),
`haystack_session_ids`, `haystack_dates`; the gold is `answer_session_ids` (session level) and the turns
marked `has_answer` (turn level). As in the official retrieval evaluation, abstention items (question ids
ending in `_abs`) are excluded: they have no evidence to find.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from agentmem.episodes.episode import Dataset, Episode, Item, Turn


@dataclass
class LongMemEvalConfig:
    """roles: which turns become memories (both sides of the chat by default, as an agent sees them)."""

    roles: tuple[str, ...] = ("user", "assistant")


def parse_date(text: str | None) -> datetime | None:
    """"2023/05/25 (Thu) 20:21" -> datetime; None when absent or unparseable."""
    if not text:
        return None
    try:
        return datetime.strptime(text.strip(), "%Y/%m/%d (%a) %H:%M")
    except ValueError:
        return None


def _episode(raw: dict, prefix: str, config: LongMemEvalConfig, ds: Dataset) -> Episode | None:
    qid = str(raw["question_id"])
    if qid.endswith("_abs"):
        ds.skipped["abstention"] += 1
        return None
    dates = raw.get("haystack_dates") or [None] * len(raw["haystack_sessions"])
    turns: list[Turn] = []
    evidence: list[str] = []
    evidence_sessions: list[str] = []
    for sid, when, session in zip(raw["haystack_session_ids"], dates, raw["haystack_sessions"], strict=True):
        for j, t in enumerate(session):
            if t.get("role") not in config.roles:
                continue
            turn = Turn(id=f"{sid}:{j}", session=str(sid), text=f"{t['role']}: {t.get('content') or ''}",
                        speaker=t.get("role"), time=parse_date(when))
            turns.append(turn)
            if t.get("has_answer"):
                evidence.append(turn.id)
                evidence_sessions.append(turn.session)
    if not evidence:
        ds.skipped["no_turn_evidence"] += 1
        return None
    present = {t.session for t in turns}
    sessions = [str(s) for s in raw.get("answer_session_ids", []) if str(s) in present]
    # Sessions that hold a has_answer turn are gold too, even when answer_session_ids forgets them.
    sessions += [s for s in dict.fromkeys(evidence_sessions) if s not in sessions]
    item = Item(id=prefix + qid, question=raw["question"], answer=str(raw.get("answer", "")),
                category=raw.get("question_type", "unknown"), evidence=tuple(evidence),
                sessions=tuple(sessions), time=parse_date(raw.get("question_date")))
    return Episode(id=prefix + qid, turns=turns, items=[item])


def load_longmemeval(path: str | Path, config: LongMemEvalConfig | None = None) -> Dataset:
    """Load one LongMemEval JSON file, or every `.json` in a directory (ids prefixed by file stem)."""
    config = config or LongMemEvalConfig()
    path = Path(path)
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files:
        raise FileNotFoundError(f"no LongMemEval .json file in {path}")
    ds = Dataset(name="longmemeval", episodes=[])
    for f in files:
        prefix = f"{f.stem}/" if path.is_dir() else ""
        for raw in json.loads(f.read_text()):
            if (ep := _episode(raw, prefix, config, ds)) is not None:
                ds.episodes.append(ep)
    return ds
