"""Loaders on tiny fixtures in each format, including the known evidence faults."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from agentmem.episodes import BabiConfig, LocomoConfig, load_babi, load_locomo, load_longmemeval
from agentmem.errors import InvalidInputError


def test_locomo_turns_sessions_and_dates(locomo_file):
    ds = load_locomo(locomo_file)
    (ep,) = ds.episodes
    assert [t.id for t in ep.turns] == ["D1:1", "D1:2", "D1:3", "D2:1", "D2:2"]
    assert ep.turns[0].text == "Ann: I adopted a puppy named Rex."
    assert ep.turns[2].text == "Ann: My sister lives in Porto."  # captions only on request
    assert ep.turns[3].session == "session_2"
    assert ep.turns[0].time == datetime(2024, 3, 9, 15, 14)
    assert ds.repaired["date_without_session"] == 1


def test_locomo_broken_evidence_is_normalised_or_counted(locomo_file):
    ds = load_locomo(locomo_file)
    items = {i.question: i for i in ds.episodes[0].items}
    assert items["What instrument does Bo play?"].evidence == ("D1:2", "D2:1")
    assert items["What instrument does Bo play?"].sessions == ("session_1", "session_2")
    assert items["Where does Ann's sister live?"].evidence == ("D1:3",)
    assert items["When did Bo start the violin?"].evidence == ("D1:2",)
    assert items["What did Rex chew?"].evidence == ("D2:2",)  # D9:9 does not exist: dropped, counted
    assert items["What is the name of Ann's puppy?"].category == "single-hop"
    assert items["What instrument does Bo play?"].category == "multi-hop"
    assert ds.n_items == 5
    assert dict(ds.skipped) == {"unresolvable_evidence": 1, "no_evidence": 1, "category_adversarial": 1}
    assert ds.repaired["evidence_split"] == 1
    assert ds.repaired["evidence_reformatted"] == 2  # "D:1:3" and "D01:02"
    assert ds.repaired["evidence_partly_unresolvable"] == 1


def test_locomo_options(locomo_file):
    ds = load_locomo(locomo_file.parent, LocomoConfig(categories=(4, 5), captions=True))
    assert ds.episodes[0].turns[2].text == "Ann: My sister lives in Porto. [shares a photo of a bridge]"
    assert sorted(i.category for i in ds.episodes[0].items) == ["adversarial", "single-hop", "single-hop"]


def test_longmemeval_has_answer_sessions_and_abstention(longmemeval_file):
    ds = load_longmemeval(longmemeval_file)
    assert dict(ds.skipped) == {"abstention": 1}
    (ep,) = ds.episodes
    assert [t.id for t in ep.turns] == ["s_a:0", "s_a:1", "answer_1:0", "answer_1:1"]
    assert ep.turns[2].text.startswith("user: I finished the harbour 10K")
    assert ep.turns[2].time == datetime(2024, 2, 10, 11, 40)
    (item,) = ep.items
    assert item.evidence == ("answer_1:0",)
    assert item.sessions == ("answer_1",)
    assert item.category == "knowledge-update"
    assert item.time == datetime(2024, 3, 1, 8, 15)


def test_longmemeval_directory_and_roles(longmemeval_file):
    from agentmem.episodes import LongMemEvalConfig

    ds = load_longmemeval(longmemeval_file.parent, LongMemEvalConfig(roles=("user",)))
    assert [e.id for e in ds.episodes] == ["longmemeval_s/q1"]
    assert [t.speaker for t in ds.episodes[0].turns] == ["user", "user"]


def test_babi_stories_questions_mid_story(babi_dir):
    ds = load_babi(babi_dir)  # test split only
    assert [e.id for e in ds.episodes] == ["qa1_single-supporting-fact:1", "qa1_single-supporting-fact:2"]
    first = ds.episodes[0]
    assert [t.text for t in first.turns][:2] == ["Zara walked to the pantry.", "Omar ran to the cellar."]
    assert [(i.question, i.answer, i.evidence, i.at) for i in first.items] == [
        ("Where is Zara?", "pantry", ("1",), 2),
        ("Where is Lio?", "cellar", ("4",), 4),
    ]
    assert dict(ds.skipped) == {"unresolvable_evidence": 1}  # support id 99 names no line
    assert ds.episodes[1].items[0].at == 1
    assert load_babi(babi_dir, BabiConfig(split="train")).n_items == 2
    with pytest.raises(InvalidInputError, match="holds no test files of tasks 2"):
        load_babi(babi_dir, BabiConfig(tasks=(2,)))


@pytest.mark.parametrize(("text", "expected"), [
    ("1:56 pm on 8 May, 2023", datetime(2023, 5, 8, 13, 56)),
    ("12:00 am on 1 Jan, 2024", datetime(2024, 1, 1, 0, 0)),
    ("29.12.2023, 00:51:12", datetime(2023, 12, 29, 0, 51, 12)),  # dotted: day first
    ("05.04.2023 10:05", datetime(2023, 4, 5, 10, 5)),
    ("2023-12-29T00:51:12", datetime(2023, 12, 29, 0, 51, 12)),
    ("2023-12-29 00:51", datetime(2023, 12, 29, 0, 51)),
    ("2023-12-29", datetime(2023, 12, 29)),
    ("2023-12-29T02:51:12+02:00", datetime(2023, 12, 29, 0, 51, 12)),  # to naive UTC
    ("12/29/2023 10:05", datetime(2023, 12, 29, 10, 5)),
    ("05/04/2023", datetime(2023, 5, 4)),  # slashed: month first ...
    ("29/12/2023, 1:56 pm", datetime(2023, 12, 29, 13, 56)),  # ... day first when the month would be 29
    ("29 December 2023", datetime(2023, 12, 29)),
    ("December 29, 2023 10:05 am", datetime(2023, 12, 29, 10, 5)),
    ("Friday, 29th of Dec 2023 at 10:05", datetime(2023, 12, 29, 10, 5)),
    (1703811072, datetime(2023, 12, 29, 0, 51, 12)),  # Unix seconds
    ("31.02.2023", None),  # no such day
    ("13/13/2023", None),
    ("the day after the party", None),
    ("sometime in spring", None),
    ("", None),
    (None, None),
    (True, None),
])
def test_locomo_date_forms(text, expected):
    from agentmem.episodes.locomo import parse_date

    assert parse_date(text) == expected


def test_locomo_ranges_punctuation_and_turn_times_are_read_and_counted(tmp_path):
    """A chat in LoCoMo's layout from another exporter: other date forms, a time on some turns, evidence
    ranges and trailing punctuation. What does not parse is counted, never guessed."""
    turn = lambda dia, text, **extra: {"speaker": "Ann", "dia_id": dia, "text": text, **extra}  # noqa: E731
    sample = {
        "sample_id": "chat-1",
        "conversation": {
            "session_1_date_time": "29.12.2023, 00:51:12",
            "session_1": [
                turn("D1:1", "one"),
                turn("D1:2", "two", date_time="2023-12-29T01:10:00"),
                turn("D1:3", "three", timestamp="not a time"),  # unparseable: the session's date
                turn("D1:4", "four", time="10:05 am"),  # a time of day: on the session's date
            ],
            "session_2_date_time": "the week after",  # unparseable: its turns get no time
            "session_2": [turn("D2:1", "five"), turn("D2:2", "six"), turn("D2:3", "seven")],
        },
        "qa": [
            {"question": "q1", "answer": "a", "category": 1, "evidence": ["D1:1-D1:3"]},
            {"question": "q2", "answer": "a", "category": 1, "evidence": ["D2:1-3."]},
            {"question": "q3", "answer": "a", "category": 4, "evidence": ["D1:4.", "(D2:2)"]},
            {"question": "q4", "answer": "a", "category": 4, "evidence": ["D1:2 - D1:3; D1:3-D2:1"]},
            {"question": "q5", "answer": "a", "category": 4, "evidence": ["D1:3-D1:1"]},
        ],
    }
    path = tmp_path / "chat.json"
    path.write_text(json.dumps([sample]))
    ds = load_locomo(path)
    (ep,) = ds.episodes
    assert [t.time for t in ep.turns] == [
        datetime(2023, 12, 29, 0, 51, 12), datetime(2023, 12, 29, 1, 10), datetime(2023, 12, 29, 0, 51, 12),
        datetime(2023, 12, 29, 10, 5), None, None, None]
    assert [i.evidence for i in ep.items] == [
        ("D1:1", "D1:2", "D1:3"), ("D2:1", "D2:2", "D2:3"), ("D1:4", "D2:2"), ("D1:2", "D1:3")]
    assert ep.items[1].sessions == ("session_2",)
    # q4's second range crosses sessions and q5's runs backwards: which turns they mean is a guess.
    assert dict(ds.skipped) == {"unresolvable_evidence": 1}
    assert dict(ds.repaired) == {
        "date_without_session": 0, "date_unparsed": 1, "turn_date_unparsed": 1, "evidence_range": 3,
        "evidence_punctuation": 3, "evidence_split": 1, "evidence_partly_unresolvable": 1}
