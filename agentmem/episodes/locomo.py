"""LoCoMo loader (the `locomo10.json` layout of snap-research/LoCoMo).

A sample holds `conversation` (`speaker_a`, `speaker_b`, `session_N_date_time`, `session_N` = turns with
`dia_id`) and `qa` (question, answer, evidence dia_ids, category). Categories follow the official
evaluation code: 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop, 5 adversarial.

The released file has evidence faults this loader repairs or counts: strings holding several ids
("D8:6; D9:17"), malformed ids ("D:11:26", "D30:05"), bare "D", ids of turns that do not exist, empty
evidence, and `session_N_date_time` keys without a session. Chats exported in the same layout by other
tools add ranges ("D3:4-D3:7", "D3:4-7": every turn in between), ids with trailing punctuation ("D3:4."),
session dates in other forms ("29.12.2023, 00:51:12", ISO 8601, "12/29/2023", "December 29, 2023"), and
a time on each turn ("date_time", "timestamp", "time" or "date"; the session's date when absent).

Every fix, and every date that does not parse, is counted in `Dataset.repaired` so the harness can show
it: `date_unparsed` (session dates; their turns get no time), `turn_date_unparsed` (turn times; the
session's date is used instead), `evidence_range`, `evidence_punctuation`, and the evidence counts above.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agentmem.episodes.episode import Dataset, Episode, Item, Turn
from agentmem.episodes.files import Source, json_type, quoted

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
_SESSION = re.compile(r"session_(\d+)")
# Tolerates a missing or doubled colon and leading zeros: "D:11:26" -> D11:26, "D30:05" -> D30:5.
_DIA_ID = re.compile(r"D:?(\d+):(\d+)")
_SPLIT = re.compile(r"[;,\s]+")
# A range's dash, spaces around it allowed ("D3:4 - D3:7"), so splitting at spaces keeps it whole.
_DASH = re.compile(r"\s*[-\u2013\u2014]\s*")
_PUNCTUATION = ".,;:!?()[]{}'\"`"
# The fields a turn may give its own time in, first found first used.
TURN_TIME_FIELDS = ("date_time", "timestamp", "time", "date")


@dataclass
class LocomoConfig:
    """categories: LoCoMo category numbers to score (5, adversarial, has no evidence to recall).
    captions: append the BLIP caption of shared images to the turn text (the reference figures do not).
    """

    categories: tuple[int, ...] = (1, 2, 3, 4)
    captions: bool = False


_MONTHS = {m: i for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"), 1)}
_MONTH = r"(?P<month>[a-z]{3,9})\.?"
_DAY_N = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
# Date forms, each matched at the start of the text (the rest is the time): dotted is day first,
# slashed month first unless the first number cannot be a month, ISO year first, and the month names.
_DATES = (
    ("dotted", re.compile(r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})")),
    ("slashed", re.compile(r"(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})")),
    ("iso", re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})")),
    ("named", re.compile(rf"{_DAY_N}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}")),
    ("named", re.compile(rf"{_MONTH}\s+{_DAY_N},?\s+{_YEAR}")),
)
_TIME = re.compile(r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?\s*(?P<half>[ap]\.?m\.?)?")
_WEEKDAY = re.compile(r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+")
_JOINER = re.compile(r"^(?:(?:,|at|on)\s*)*|\s*,?$")


def _time_of_day(text: str) -> tuple[int, int, int] | None:
    """(hour, minute, second) of "00:51:12", "10:05 am", "1 pm"; (0, 0, 0) for ""; None when not a time."""
    text = _JOINER.sub("", text.strip())
    if not text:
        return 0, 0, 0
    m = _TIME.fullmatch(text)
    if m is None or (m["minute"] is None and m["half"] is None):
        return None  # a bare number is not a time
    hour, minute, second = int(m["hour"]), int(m["minute"] or 0), int(m["second"] or 0)
    if m["half"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m["half"].startswith("p") else 0)
    return (hour, minute, second) if hour < 24 and minute < 60 and second < 60 else None


def _calendar(kind: str, m: re.Match[str]) -> list[tuple[int, int, int]]:
    """The (year, month, day) readings of a date match, the likelier first."""
    year, day = int(m["year"]), int(m["day"])
    if kind == "named":
        month = next((n for name, n in _MONTHS.items() if name.startswith(m["month"])), None)
        return [] if month is None or len(m["month"]) < 3 else [(year, month, day)]
    month = int(m["month"])
    readings = [(year, month, day)]
    if kind == "slashed":
        readings.append((year, day, month))  # 29/12/2023: the first number cannot be a month
    return readings


def _explicit(text: str) -> datetime | None:
    """The forms this module names, read exactly; None for any other text."""
    # LoCoMo's own "1:56 pm on 8 May, 2023": the time first.
    first, on, rest = text.partition(" on ")
    if on and _time_of_day(first) is not None:
        text = f"{rest} {first}"
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(text.upper() if "t" in text[:11] else text)
    text = _WEEKDAY.sub("", text, count=1) if _WEEKDAY.match(text) else text
    for kind, pattern in _DATES:
        m = pattern.match(text)
        if m is None or (clock := _time_of_day(text[m.end():])) is None:
            continue
        for year, month, day in _calendar(kind, m):
            with contextlib.suppress(ValueError):
                return datetime(year, month, day, *clock)
        return None
    return None


def parse_date(text: Any) -> datetime | None:
    """A session or turn date as a naive UTC datetime; None when absent or unparseable.

    Reads LoCoMo's "1:56 pm on 8 May, 2023", "29.12.2023, 00:51:12" (day first), ISO 8601 ("2023-12-29",
    "2023-12-29 00:51", "2023-12-29T00:51:12Z"), "12/29/2023 10:05" (month first, day first when the
    first number exceeds 12), "29 December 2023", "December 29, 2023 10:05 am", and a number of Unix
    seconds. Other text goes to dateutil when it is installed, and only when it names a four-digit
    year: dateutil fills the parts a text leaves out from a default date, and a made-up year would
    put the turn in the wrong place on every time signal.
    """
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, int | float):
        if not math.isfinite(text):
            return None
        try:
            return datetime.fromtimestamp(text, timezone.utc).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(text, str):
        return None
    clean = " ".join(text.split()).lower()
    if not clean:
        return None
    when = _explicit(clean)
    if when is None and re.search(r"(?<!\d)\d{4}(?!\d)", clean):
        when = _dateutil(clean)
    if when is not None and when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)  # agentmem reads naive times as UTC
    return when


def _dateutil(text: str) -> datetime | None:
    """dateutil's reading of `text`, when dateutil is installed (matplotlib and pandas bring it)."""
    try:
        from dateutil import parser
    except ImportError:
        return None
    try:
        return parser.parse(text, dayfirst="." in text, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError):
        return None


def normalise_evidence(raw: list[str], known: set[str], repaired: Counter[str]) -> tuple[list[str], int]:
    """Split, expand and repair evidence strings; returns (resolved ids in order, number unresolvable).

    A range ("D3:4-D3:7", "D3:4-7") stands for every turn of that session in between, ends included; a
    range across sessions or running backwards is unresolvable (which turns it means is a guess).
    """
    out: list[str] = []
    bad = 0
    for entry in raw:
        pieces = [p for p in _SPLIT.split(_DASH.sub("-", str(entry))) if p]
        if len(pieces) > 1:
            repaired["evidence_split"] += 1
        for piece in pieces:
            ids = _expand(piece, repaired)
            if ids is None:
                bad += 1
                continue
            for dia in ids:
                if dia not in known:
                    bad += 1
                elif dia not in out:
                    out.append(dia)
    return out, bad


def _expand(piece: str, repaired: Counter[str]) -> list[str] | None:
    """The ids one evidence piece names (one id, or every id of a range); None when it names none."""
    bare = piece.strip(_PUNCTUATION)
    if not bare:
        return None
    if bare != piece:
        repaired["evidence_punctuation"] += 1
    first, dash, last = bare.partition("-")
    start = _DIA_ID.fullmatch(first)
    if start is None:
        return None
    session, turn = int(start[1]), int(start[2])
    if not dash:
        dia = f"D{session}:{turn}"
        if dia != bare:
            repaired["evidence_reformatted"] += 1
        return [dia]
    end = _DIA_ID.fullmatch(last)
    if end is not None:
        end_session, end_turn = int(end[1]), int(end[2])
    elif last.isdigit():
        end_session, end_turn = session, int(last)
    else:
        return None
    if end_session != session or end_turn < turn:
        return None
    repaired["evidence_range"] += 1
    return [f"D{session}:{t}" for t in range(turn, end_turn + 1)]


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
        if date is not None and when is None:
            repaired["date_unparsed"] += 1
        for j, t in enumerate(src.field(conv, key, "a list", f"{where}, conversation"), 1):
            at = f"{where}, {key} turn {j}"
            src.record(t, at)
            dia_id = src.field(t, "dia_id", "a string", at)
            speaker = src.field(t, "speaker", "a string", at)
            text = src.field(t, "text", "a string", at, optional=True) or ""
            caption = src.field(t, "blip_caption", "a string", at, optional=True) if config.captions else None
            if caption:
                text = f"{text} [shares {caption}]".strip()
            turns.append(Turn(id=dia_id, session=key, text=f"{speaker}: {text}", speaker=speaker,
                              time=_turn_time(t, when, repaired)))
    return turns


def _turn_time(turn: dict[str, Any], session: datetime | None, repaired: Counter[str]) -> datetime | None:
    """The turn's own time (the first of `TURN_TIME_FIELDS` it holds) when it parses, else the session's:
    a chat exported with a time per message keeps the order within a session that a session date loses."""
    raw = next((turn[f] for f in TURN_TIME_FIELDS if turn.get(f) not in (None, "")), None)
    if raw is None:
        return session
    own = parse_date(raw)
    if own is None and session is not None and isinstance(raw, str):
        # A time of day alone ("10:05 am") is on the session's date.
        clock = _time_of_day(" ".join(raw.split()).lower())
        if clock is not None and raw.strip():
            own = session.replace(hour=clock[0], minute=clock[1], second=clock[2])
    if own is None:
        repaired["turn_date_unparsed"] += 1
        return session
    return own


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
