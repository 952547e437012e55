"""The many-shapes generator: determinism, well-formed episodes, exact gold, and each shape's trait."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentmem.episodes import HELD_OUT, SHAPES, TRAINING_SHAPES, Episode, ShapesConfig, generate_shapes
from agentmem.episodes.shapes import ALIASES, CATEGORIES, COLLECTIONS, ECHOES, TALK_REPLIES, TOPICS
from agentmem.errors import InvalidInputError
from agentmem.text import content_words, substance

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
# One pattern per way of writing a date in a turn.
DATE_FORMATS = {
    "slash": r"\bon \d{1,2}/\d{1,2}\b",
    "dotted": r"\b\d{2}\.\d{2}\.\d{4}\b",
    "iso": r"\b\d{4}-\d{2}-\d{2}\b",
    "month ordinal": rf"\b({MONTHS}) \d{{1,2}}(st|nd|rd|th)\b",
    "day month": rf"\b\d{{1,2}} ({MONTHS})\b",
    "the nth": r"\bon the \d{1,2}(st|nd|rd|th)\b",
    "month year": rf"\bin ({MONTHS}) \d{{4}}\b|\bback in ({MONTHS})\b",
    "relative day": rf"\b(today|yesterday|this morning|last ({WEEKDAYS}))\b",
    "ago": r"\b(days|weeks?) ago\b",
}


def echo_pattern(frame: str, question: str) -> str:
    """A regex matching `frame` around `question`, its echoed word captured."""
    return re.escape(frame).replace(re.escape("{q}"), re.escape(question)).replace(re.escape("{w}"), r"(\w+)")


@pytest.fixture(scope="module")
def data():
    return generate_shapes(ShapesConfig(episodes=3, seed=11))


def by_shape(data, shape: str) -> list[Episode]:
    return [e for e in data.episodes if e.id.startswith(f"{shape}-")]


def check_episode(ep: Episode) -> None:
    """What every episode of every shape guarantees."""
    ids = [t.id for t in ep.turns]
    assert len(set(ids)) == len(ids)
    order = {t.id: i for i, t in enumerate(ep.turns)}
    for t in ep.turns:
        assert t.speaker and t.text.startswith(f"{t.speaker}: ")
        assert t.session and t.time is not None
    # Sessions are strictly later than the one before; inside a session, time does not go back.
    for a, b in zip(ep.turns, ep.turns[1:], strict=False):
        assert a.time <= b.time
        if a.session != b.session:
            assert a.time < b.time
    sessions = list(dict.fromkeys(t.session for t in ep.turns))
    assert len(sessions) == len({t.session for t in ep.turns}), "a session's turns are contiguous"
    for t in ep.turns:
        if t.supersedes is not None:
            old = ep.turns[order[t.supersedes]]
            assert order[old.id] < order[t.id] and old.speaker == t.speaker
    session_of = {t.id: t.session for t in ep.turns}
    for item in ep.items:
        assert item.category in CATEGORIES
        assert item.evidence and all(e in order for e in item.evidence)
        assert item.sessions == tuple(dict.fromkeys(session_of[e] for e in item.evidence))
        seen = len(ep.turns) if item.at is None else item.at
        assert all(order[e] < seen for e in item.evidence)
        assert item.time is not None
        assert all(ep.turns[order[e]].time <= item.time for e in item.evidence)
        if item.category == "multi-hop":
            assert 2 <= len(item.evidence) <= 4
    assert len({i.question for i in ep.items}) == len(ep.items)


def test_every_shape_makes_well_formed_episodes(data):
    assert data.name == "shapes"
    assert [e.id for e in data.episodes] == [f"{s}-11-{i}" for s in SHAPES for i in range(3)]
    for ep in data.episodes:
        check_episode(ep)
        assert 100 <= len(ep.turns) <= 450, ep.id
        assert 12 <= len(ep.items) <= 30, ep.id


def test_defaults_give_the_documented_sizes(data):
    turns = [len(e.turns) for e in data.episodes]
    items = [len(e.items) for e in data.episodes]
    assert 150 <= sum(turns) / len(turns) <= 400
    assert 15 <= sum(items) / len(items) <= 30
    assert {i.category for e in data.episodes for i in e.items} == set(CATEGORIES)


def test_deterministic_by_seed(data):
    again = generate_shapes(ShapesConfig(shapes=("bursts", "toollog", "assistant"), episodes=3, seed=11))
    for ep in again.episodes:
        (same,) = [e for e in data.episodes if e.id == ep.id]
        assert ep.turns == same.turns and ep.items == same.items
    other = generate_shapes(ShapesConfig(shapes=("bursts",), episodes=1, seed=12)).episodes[0]
    assert [t.text for t in other.turns] != [t.text for t in by_shape(data, "bursts")[0].turns]


def test_an_episode_does_not_depend_on_the_other_shapes():
    alone = generate_shapes(ShapesConfig(shapes=("dates",), episodes=2, seed=5)).episodes
    mixed = generate_shapes(ShapesConfig(shapes=("unnamed", "dates"), episodes=2, seed=5)).episodes[2:]
    assert [(e.turns, e.items) for e in alone] == [(e.turns, e.items) for e in mixed]


def test_updates_supersede_and_ask_only_the_latest_statement(data):
    for ep in by_shape(data, "updates"):
        replaced = {t.supersedes for t in ep.turns if t.supersedes}
        assert len(replaced) >= 3
        updates = [i for i in ep.items if i.category == "knowledge-update"]
        assert len(updates) >= 4
        for item in updates:
            assert not replaced & set(item.evidence), "a knowledge-update's gold is never a replaced turn"


def test_bursts_send_runs_of_three_or_more(data):
    for ep in by_shape(data, "bursts"):
        runs, run = [], 1
        for a, b in zip(ep.turns, ep.turns[1:], strict=False):
            run = run + 1 if a.speaker == b.speaker and a.session == b.session else 1
            runs.append(run)
        assert max(runs) >= 3
        assert sum(r == 3 for r in runs) >= 5
        order = {t.id: i for i, t in enumerate(ep.turns)}
        split = [i for i in ep.items if i.category == "single-hop" and len(i.evidence) == 2
                 and order[i.evidence[1]] == order[i.evidence[0]] + 1]
        assert split, "some facts are split over two messages, both gold"


def test_multiparty_has_three_or_more_speakers(data):
    for ep in by_shape(data, "multiparty"):
        speakers = {t.speaker for t in ep.turns}
        assert len(speakers) >= 3
        asked_about = {s for i in ep.items for s in speakers if s in i.question}
        assert len(asked_about) >= 3


def test_aliases_name_people_otherwise_than_their_labels(data):
    nicknames = {n for _, ns in ALIASES for n in ns}
    for ep in by_shape(data, "aliases"):
        labels = {t.speaker for t in ep.turns}
        variant = [i for i in ep.items if any(re.search(rf"\b{n}\b", i.question) for n in nicknames)
                   and not any(label in i.question for label in labels)]
        assert len(variant) >= 3


def test_unnamed_questions_name_nobody(data):
    for ep in by_shape(data, "unnamed"):
        names = {t.speaker for t in ep.turns}
        for item in ep.items:
            assert not any(re.search(rf"\b{re.escape(n)}\b", item.question) for n in names), item.question
        assert any(" we " in f" {i.question} " for i in ep.items) or any("I " in i.question for i in ep.items)


def test_smalltalk_has_change_words_that_are_not_updates(data):
    for ep in by_shape(data, "smalltalk"):
        changes = [t for t in ep.turns if re.search(r"\b(now|anymore)\b", t.text) and t.supersedes is None]
        assert len(changes) >= 10


def test_dates_use_many_formats_and_date_questions(data):
    for ep in by_shape(data, "dates"):
        text = " ".join(t.text for t in ep.turns)
        formats = [name for name, pattern in DATE_FORMATS.items() if re.search(pattern, text)]
        assert len(formats) >= 3, formats
        temporal = [i for i in ep.items if i.category == "temporal"]
        assert len(temporal) >= len(ep.items) / 2
        assert any(re.search(rf"\b({MONTHS}) \d{{4}}\b|\b\d{{1,2}} ({MONTHS})\b", i.answer) for i in temporal)


def test_last_weekend_is_asked_in_the_week_after():
    eps = generate_shapes(ShapesConfig(shapes=("dates",), episodes=6, seed=2)).episodes
    asked = [(ep, i) for ep in eps for i in ep.items if "last weekend" in i.question]
    assert asked
    for ep, item in asked:
        gold = next(t for t in ep.turns if t.id == item.evidence[0])
        assert item.at is None or item.at < len(ep.turns)  # None: asked after the final session
        assert isinstance(item.time, datetime) and item.time.weekday() <= 3
        assert 0 < (item.time - gold.time).total_seconds() <= 10 * 86400


def test_sessions_apart_span_months_and_call_back(data):
    for ep in by_shape(data, "sessions_apart"):
        starts = [t.time for k, t in enumerate(ep.turns) if k == 0 or ep.turns[k - 1].session != t.session]
        gaps = [(b - a).days for a, b in zip(starts, starts[1:], strict=False)]
        assert max(gaps) >= 30
        cross = [i for i in ep.items if i.category == "multi-hop" and len(i.sessions) >= 2]
        assert len(cross) >= 2


def test_toollog_and_assistant_speakers(data):
    for ep in by_shape(data, "toollog"):
        assert {t.speaker for t in ep.turns} == {"user", "assistant", "tool"}
        assert any(re.fullmatch(r"[A-Z]{2} \d+", i.answer) for i in ep.items), "a question about a booked flight"
    for ep in by_shape(data, "assistant"):
        assert {t.speaker for t in ep.turns} == {"user", "assistant"}
        assert all(t.id.startswith(f"{t.session}:") and t.session.startswith("sess_") for t in ep.turns)
        long = [t for t in ep.turns if t.speaker == "assistant" and len(t.text) > 300]
        assert len(long) >= 10
        assert any(i.category == "knowledge-update" for i in ep.items)


def test_assistant_talk_sessions_reply_on_topic_without_the_value(data):
    """Talk sessions: short replies to the user's own news; a reply on a topic's words follows a fact
    and a line that states nothing alike, and never holds a value or extra of its topic."""
    for topic in TOPICS + COLLECTIONS:
        for line in TALK_REPLIES[topic.key]:
            words = set(content_words(line))
            for value in filter(None, topic.values + topic.extras):
                assert not set(content_words(value)) <= words, (topic.key, value, line)
    on_topic = set().union(*TALK_REPLIES.values())
    after_gold = after_other = 0
    for ep in by_shape(data, "assistant"):
        gold = {e for i in ep.items for e in i.evidence}
        sessions: dict[str, list] = {}
        for t in ep.turns:
            sessions.setdefault(t.session, []).append(t)
        talks = [s for s in sessions.values() if all(len(t.text) < 300 for t in s if t.speaker == "assistant")]
        assert 0.15 * len(sessions) <= len(talks) <= 0.7 * len(sessions)
        for turns in talks:
            for before, t in zip(turns, turns[1:], strict=False):
                if t.speaker == "assistant" and t.text.split(": ", 1)[1] in on_topic:
                    after_gold += before.id in gold
                    after_other += before.id not in gold
    assert after_gold >= 3 and after_other >= after_gold


def shares_a_word(ep: Episode) -> float:
    """The share of ep's questions holding a content word (`text.substance`) of their evidence turns."""
    text = {t.id: t.text.split(": ", 1)[1] for t in ep.turns}
    return sum(
        bool(set(substance(i.question)) & {w for e in i.evidence for w in substance(text[e])}) for i in ep.items
    ) / len(ep.items)


def test_echo_repeats_a_word_of_the_evidence_never_the_answer():
    plain = generate_shapes(ShapesConfig(episodes=2, seed=5, echo=0.0))
    echoed = generate_shapes(ShapesConfig(episodes=2, seed=5, echo=1.0))
    changed = 0
    for a, b in zip(plain.episodes, echoed.episodes, strict=True):
        check_episode(b)
        text = {t.id: t.text for t in b.turns}
        for p, q in zip(a.items, b.items, strict=True):
            assert (p.answer, p.evidence) == (q.answer, q.evidence)
            if p.question == q.question:
                continue
            changed += 1
            # the template's question in one of the frames, around one word
            (word,) = {m.group(1) for frame in ECHOES if (m := re.fullmatch(echo_pattern(frame, p.question), q.question))}
            assert any(word in substance(text[e]) for e in q.evidence)
            assert word not in substance(q.answer)
    assert changed >= 0.8 * sum(len(e.items) for e in echoed.episodes)
    share = sum(map(shares_a_word, echoed.episodes)) / len(echoed.episodes)
    assert share > sum(map(shares_a_word, plain.episodes)) / len(plain.episodes) + 0.2


def test_held_out_partition():
    assert len(HELD_OUT) == 3 and set(HELD_OUT) <= set(SHAPES)
    assert set(TRAINING_SHAPES) | set(HELD_OUT) == set(SHAPES)
    assert not set(TRAINING_SHAPES) & set(HELD_OUT)
    assert tuple(s for s in SHAPES if s not in HELD_OUT) == TRAINING_SHAPES


@pytest.mark.parametrize(
    ("config", "words"),
    [
        (ShapesConfig(shapes=("bursts", "gossip")), ("'gossip'", "bursts, multiparty")),
        (ShapesConfig(shapes=()), ("no shapes", "unnamed")),
        (ShapesConfig(episodes=0), ("episodes", "1 or more")),
        (ShapesConfig(sessions=0), ("sessions", "1 or more")),
        (ShapesConfig(echo=1.5), ("echo", "between 0 and 1")),
        (ShapesConfig(talk=-0.1), ("talk", "between 0 and 1")),
    ],
)
def test_bad_config_says_what_and_how(config, words):
    with pytest.raises(InvalidInputError) as err:
        generate_shapes(config)
    message = str(err.value)
    assert "\n" not in message
    assert all(w in message for w in words), message


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), shape=st.sampled_from(SHAPES))
def test_any_seed_gives_well_formed_episodes(seed, shape):
    (ep,) = generate_shapes(ShapesConfig(shapes=(shape,), episodes=1, seed=seed, sessions=5, session_turns=16)).episodes
    check_episode(ep)
    assert ep.items
