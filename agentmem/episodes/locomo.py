"""LoCoMo loader (the `locomo10.json` layout of snap-research/LoCoMo).

A sample holds `conversation` (`speaker_a`, `speaker_b`, `session_N_date_time`, `session_N` = turns with
`dia_id`) and `qa` (question, answer, evidence dia_ids, category). Categories follow the official
evaluation code: 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop, 5 adversarial.

The released file has evidence faults this loader repairs or counts: strings holding several ids
("D8:6; D9:17"), malformed ids ("D:11:26", "D30:05"), bare "D", ids of turns that do not exist, empty
evidence, and `session_N_date_time` keys without a session.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from agentmem.episodes.episode import Dataset, Episode, Item, Turn

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


def _turns(sample: dict, config: LocomoConfig, repaired: Counter[str]) -> list[Turn]:
    conv = sample["conversation"]
    numbers = sorted(int(m[1]) for k in conv if (m := _SESSION.fullmatch(k)))
    dated = {int(m[1]) for k in conv if (m := re.fullmatch(r"session_(\d+)_date_time", k))}
    repaired["date_without_session"] += len(dated - set(numbers))
    turns: list[Turn] = []
    for n in numbers:
        when = parse_date(conv.get(f"session_{n}_date_time"))
        for t in conv[f"session_{n}"]:
            text = t.get("text") or ""
            if config.captions and t.get("blip_caption"):
                text = f"{text} [shares {t['blip_caption']}]".strip()
            turns.append(Turn(id=t["dia_id"], session=f"session_{n}", text=f"{t['speaker']}: {text}",
                              speaker=t["speaker"], time=when))
    return turns


def load_locomo(path: str | Path, config: LocomoConfig | None = None) -> Dataset:
    """Load a LoCoMo file (or a directory holding one `.json`) into episodes, one per conversation."""
    config = config or LocomoConfig()
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if len(files) != 1:
            raise FileNotFoundError(f"expected one LoCoMo .json file in {path}, found {len(files)}")
        path = files[0]
    samples = json.loads(path.read_text())
    ds = Dataset(name="locomo", episodes=[])
    for sample in samples:
        turns = _turns(sample, config, ds.repaired)
        session_of = {t.id: t.session for t in turns}
        items: list[Item] = []
        for i, qa in enumerate(sample.get("qa", [])):
            cat = int(qa.get("category", 0))
            if cat not in config.categories:
                ds.skipped[f"category_{CATEGORIES.get(cat, cat)}"] += 1
                continue
            if not qa.get("evidence"):
                ds.skipped["no_evidence"] += 1
                continue
            evidence, bad = normalise_evidence(qa["evidence"], set(session_of), ds.repaired)
            if not evidence:
                ds.skipped["unresolvable_evidence"] += 1
                continue
            if bad:
                # Scored against the ids that do resolve; counted so the fix is visible.
                ds.repaired["evidence_partly_unresolvable"] += 1
            answer = qa.get("answer", qa.get("adversarial_answer", ""))
            items.append(Item(
                id=f"{sample['sample_id']}:{i}", question=qa["question"], answer=str(answer),
                category=CATEGORIES.get(cat, str(cat)), evidence=tuple(evidence),
                sessions=tuple(dict.fromkeys(session_of[e] for e in evidence)),
            ))
        ds.episodes.append(Episode(id=sample["sample_id"], turns=turns, items=items))
    return ds
