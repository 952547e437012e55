"""LongMemEval loader (LongMemEval_S, _M and _oracle files, original schema).

Each item carries its own haystack: `haystack_sessions` (lists of `{role, content, has_answer?}` turns),
`haystack_session_ids`, `haystack_dates`; the gold is `answer_session_ids` (session level) and the turns
marked `has_answer` (turn level). As in the official retrieval evaluation, abstention items (question ids
ending in `_abs`) are excluded: they have no evidence to find.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from agentmem.episodes.episode import Dataset, Episode, Item, Turn
from agentmem.episodes.files import Source, json_type, quoted


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


FIX = ('give a LongMemEval JSON file (a list of items with "question_id", "question", "haystack_sessions" '
       'and "haystack_session_ids"), or a directory of them')


def _episode(
    raw: Any, n: int, src: Source, prefix: str, config: LongMemEvalConfig, ds: Dataset
) -> Episode | None:
    src.record(raw, f"item {n}")
    qid = str(src.field(raw, "question_id", "a string or a number", f"item {n}"))
    if qid.endswith("_abs"):
        ds.skipped["abstention"] += 1
        return None
    where = f"item {n} ({quoted(qid)})"
    sessions = src.field(raw, "haystack_sessions", "a list", where)
    session_ids = src.field(raw, "haystack_session_ids", "a list", where)
    dates = src.field(raw, "haystack_dates", "a list", where, optional=True) or [None] * len(sessions)
    for key, values in (("haystack_session_ids", session_ids), ("haystack_dates", dates)):
        if len(values) != len(sessions):
            entries = f"{len(values)} {'entry' if len(values) == 1 else 'entries'}"
            raise src.error(f'field "{key}" has {entries} but "haystack_sessions" has {len(sessions)}', where)
    turns: list[Turn] = []
    evidence: list[str] = []
    evidence_sessions: list[str] = []
    for k, (sid, when, session) in enumerate(zip(session_ids, dates, sessions, strict=True), 1):
        at = f"{where}, haystack session {k}"
        if not isinstance(session, list):
            raise src.error(f"is {json_type(session)}, expected a list of turns", at)
        if when is not None and not isinstance(when, str):
            raise src.error(f'its "haystack_dates" entry is {json_type(when)}, expected a string', at)
        for j, t in enumerate(session):
            turn_at = f"{at} turn {j + 1}"
            src.record(t, turn_at)
            role = src.field(t, "role", "a string", turn_at)
            if role not in config.roles:
                continue
            content = src.field(t, "content", "a string", turn_at, optional=True) or ""
            turn = Turn(id=f"{sid}:{j}", session=str(sid), text=f"{role}: {content}", speaker=role,
                        time=parse_date(when))
            turns.append(turn)
            if t.get("has_answer"):
                evidence.append(turn.id)
                evidence_sessions.append(turn.session)
    if not evidence:
        ds.skipped["no_turn_evidence"] += 1
        return None
    present = {t.session for t in turns}
    answer_sessions = src.field(raw, "answer_session_ids", "a list", where, optional=True) or []
    gold = [str(s) for s in answer_sessions if str(s) in present]
    # Sessions that hold a has_answer turn are gold too, even when answer_session_ids forgets them.
    gold += [s for s in dict.fromkeys(evidence_sessions) if s not in gold]
    question = src.field(raw, "question", "a string", where)
    category = src.field(raw, "question_type", "a string", where, optional=True) or "unknown"
    asked = src.field(raw, "question_date", "a string", where, optional=True)
    item = Item(id=prefix + qid, question=question, answer=str(raw.get("answer", "")), category=category,
                evidence=tuple(evidence), sessions=tuple(gold), time=parse_date(asked))
    return Episode(id=prefix + qid, turns=turns, items=[item])


def load_longmemeval(path: str | Path, config: LongMemEvalConfig | None = None) -> Dataset:
    """Load one LongMemEval JSON file, or every `.json` in a directory (ids prefixed by file stem).

    Raises `InvalidInputError` naming the file, the item and the field when the input is not LongMemEval.
    """
    config = config or LongMemEvalConfig()
    src = Source("LongMemEval", Path(path), FIX)
    src.check_exists()
    is_dir = src.path.is_dir()
    files = sorted(src.path.glob("*.json")) if is_dir else [src.path]
    if not files:
        raise src.error("holds no .json files")
    ds = Dataset(name="longmemeval", episodes=[])
    for f in files:
        file_src = src.within(f)
        prefix = f"{f.stem}/" if is_dir else ""
        for n, raw in enumerate(file_src.records(file_src.json(), "item"), 1):
            if (ep := _episode(raw, n, file_src, prefix, config, ds)) is not None:
                ds.episodes.append(ep)
    return ds
