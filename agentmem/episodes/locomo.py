"""LoCoMo loader (the `locomo10.json` layout of snap-research/LoCoMo).

A sample holds `conversation` (`speaker_a`, `speaker_b`, `session_N_date_time`, `session_N` = turns with
`dia_id`) and `qa` (question, answer, evidence dia_ids, category). Categories follow the official
evaluation code: 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop, 5 adversarial.

The released file has evidence faults this loader repairs or counts: strings holding several ids
("D8:6; D9:17"), malformed ids ("D:11:26", "D30:05"), bare "D", ids of turns that do not exist, empty
evidence, and `session_N_date_time` keys without a session.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from agentmem.episodes.episode import Dataset, Episode, Item, Turn
from agentmem.episodes.files import Source, json_type, quoted

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
_SESSION = re.compile(r"session_(\d+)")
# Tolerates a missing or doubled colon and leading zeros: "D:11:26" -> D11:26, "D30:05" -> D30:5.
_DIA_ID = re.compile(r"D:?(\d+):(\d+)")
_SPLIT = re.compile(r"[;,\s]+")


@dataclass
class LocomoConfig:
    """categories: LoCoMo category numbers to score (5, adversarial, has no evidence to recall).
    captions: append the BLIP caption of shared images to the turn text (the reference figures do not).
    """

    categories: tuple[int, ...] = (1, 2, 3, 4)
    captions: bool = False


def parse_date(text: str | None) -> datetime | None:
    """"1:56 pm on 8 May, 2023" -> datetime; None when absent or unparseable."""
    if not text:
        return None
    try:
        return datetime.strptime(" ".join(text.split()).upper(), "%I:%M %p ON %d %B, %Y")
    except ValueError:
        return None


def normalise_evidence(raw: list[str], known: set[str], repaired: Counter[str]) -> tuple[list[str], int]:
    """Split and repair evidence strings; returns (resolved ids in order, number unresolvable)."""
    out: list[str] = []
    bad = 0
    for entry in raw:
        pieces = [p for p in _SPLIT.split(str(entry)) if p]
        if len(pieces) > 1:
            repaired["evidence_split"] += 1
        for piece in pieces:
            m = _DIA_ID.fullmatch(piece)
            if m is None:
                bad += 1
                continue
            dia = f"D{int(m[1])}:{int(m[2])}"
            if dia != piece:
                repaired["evidence_reformatted"] += 1
            if dia not in known:
                bad += 1
            elif dia not in out:
                out.append(dia)
    return out, bad


FIX = 'give the LoCoMo JSON (a list of samples with "sample_id", "conversation" and "qa")'


def _turns(sample: dict, where: str, src: Source, config: LocomoConfig, repaired: Counter[str]) -> list[Turn]:
    conv = src.field(sample, "conversation", "an object", where)
    numbers = sorted(int(m[1]) for k in conv if (m := _SESSION.fullmatch(k)))
    dated = {int(m[1]) for k in conv if (m := re.fullmatch(r"session_(\d+)_date_time", k))}
    repaired["date_without_session"] += len(dated - set(numbers))
    turns: list[Turn] = []
    for n in numbers:
        key = f"session_{n}"
        date = src.field(conv, f"{key}_date_time", "a string", f"{where}, conversation", optional=True)
        when = parse_date(date)
        for j, t in enumerate(src.field(conv, key, "a list", f"{where}, conversation"), 1):
            at = f"{where}, {key} turn {j}"
            src.record(t, at)
            dia_id = src.field(t, "dia_id", "a string", at)
            speaker = src.field(t, "speaker", "a string", at)
            text = src.field(t, "text", "a string", at, optional=True) or ""
            caption = src.field(t, "blip_caption", "a string", at, optional=True) if config.captions else None
            if caption:
                text = f"{text} [shares {caption}]".strip()
            turns.append(Turn(id=dia_id, session=key, text=f"{speaker}: {text}", speaker=speaker, time=when))
    return turns


def _category(qa: dict, where: str, src: Source) -> int:
    raw = qa.get("category", 0)
    if isinstance(raw, int | float | str) and not isinstance(raw, bool):
        try:
            return int(raw)
        except (ValueError, OverflowError):
            pass
    shown = quoted(raw) if isinstance(raw, str) else json_type(raw)
    raise src.error(f'field "category" is {shown}, expected a category number (1 to 5)', where)


def load_locomo(path: str | Path, config: LocomoConfig | None = None) -> Dataset:
    """Load a LoCoMo file (or a directory holding one `.json`) into episodes, one per conversation.

    Raises `InvalidInputError` naming the file, the sample and the field when the input is not LoCoMo.
    """
    config = config or LocomoConfig()
    src = Source("LoCoMo", Path(path), FIX)
    src.check_exists()
    if src.path.is_dir():
        files = sorted(src.path.glob("*.json"))
        if len(files) != 1:
            raise src.error(f"holds {len(files)} .json files, expected one",
                            fix="give the LoCoMo .json file itself, or a directory holding only it")
        src = src.within(files[0])
    ds = Dataset(name="locomo", episodes=[])
    for s, sample in enumerate(src.records(src.json(), "sample"), 1):
        where = f"sample {s}"
        src.record(sample, where)
        sample_id = str(src.field(sample, "sample_id", "a string or a number", where))
        where = f"sample {s} ({quoted(sample_id)})"
        turns = _turns(sample, where, src, config, ds.repaired)
        session_of = {t.id: t.session for t in turns}
        items: list[Item] = []
        for i, qa in enumerate(src.field(sample, "qa", "a list", where, optional=True) or []):
            at = f"{where}, qa item {i + 1}"
            src.record(qa, at)
            cat = _category(qa, at, src)
            if cat not in config.categories:
                ds.skipped[f"category_{CATEGORIES.get(cat, cat)}"] += 1
                continue
            raw_evidence = qa.get("evidence")
            if not raw_evidence:
                ds.skipped["no_evidence"] += 1
                continue
            if not isinstance(raw_evidence, list):
                raise src.error(f'field "evidence" is {json_type(raw_evidence)}, expected a list of dia_ids '
                                '(["D1:3", ...])', at)
            evidence, bad = normalise_evidence(raw_evidence, set(session_of), ds.repaired)
            if not evidence:
                ds.skipped["unresolvable_evidence"] += 1
                continue
            if bad:
                # Scored against the ids that do resolve; counted so the fix is visible.
                ds.repaired["evidence_partly_unresolvable"] += 1
            question = src.field(qa, "question", "a string", at)
            answer = qa.get("answer", qa.get("adversarial_answer", ""))
            items.append(Item(
                id=f"{sample_id}:{i}", question=question, answer=str(answer),
                category=CATEGORIES.get(cat, str(cat)), evidence=tuple(evidence),
                sessions=tuple(dict.fromkeys(session_of[e] for e in evidence)),
            ))
        ds.episodes.append(Episode(id=sample_id, turns=turns, items=items))
    return ds
