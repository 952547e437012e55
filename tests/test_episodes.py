"""Loaders on tiny fixtures in each format, including the known evidence faults."""

from __future__ import annotations

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
