"""The chat generator's non-evidence turns: substantive, said once, and never evidence for a question."""

from __future__ import annotations

import random
import re
import statistics
from collections import Counter
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentmem.episodes import ShapesConfig, chatter, generate_shapes, shapes
from agentmem.text import CHANGE_CUES, substance
from agentmem.time_expressions import window

NOW = datetime(2024, 3, 14, 12).timestamp()
CHAT_SHAPES = tuple(s for s in shapes.SHAPES if s not in ("toollog", "assistant"))


def fact_words() -> set[str]:
    """Every value, value extra, event and name a generated question can ask about, lower-cased."""
    out: set[str] = set()
    for topic in shapes.TOPICS + shapes.COLLECTIONS:
        out |= {v.lower() for v in topic.values} | {x.lower() for x in topic.extras if x}
    for event in shapes.EVENTS:
        out |= {x.lower() for x in event}
    for pool in (shapes.RESTAURANTS, shapes.FILMS, shapes.COLOURS, shapes.TRAILS, shapes.GIFTS,
                 shapes.NEIGHBOURHOODS, shapes.RACES, shapes.PET_NAMES, shapes.PARTNERS, shapes.KIN_POOL,
                 shapes.PEOPLE):
        out |= {v.lower() for v in pool}
    return out


FACTS = fact_words()


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_a_statement_names_no_time_no_fact_and_no_change(seed):
    rng = random.Random(seed)
    for text in (chatter.statement(rng, "you"), chatter.elaboration(rng), chatter.follow_up(rng, "you")):
        # A time would make it an answer to "What did Mira do last weekend?"
        assert window(text, NOW) is None, text
        # A change word would make it look like an update to the write gate.
        assert not set(re.findall(r"[a-z]+", text.lower())) & CHANGE_CUES, text
        low = text.lower()
        assert not [v for v in FACTS if re.search(rf"\b{re.escape(v)}\b", low)], text


def test_statements_are_substantive_and_varied():
    rng = random.Random(0)
    lines = [chatter.statement(rng, "you") for _ in range(2000)]
    words = [len(substance(t)) for t in lines]
    assert statistics.median(words) >= 6
    assert sum(w <= 2 for w in words) / len(words) < 0.03
    # Thousands of combinations: an episode's few hundred draws rarely meet the same one twice.
    assert len(set(lines)) > 1500


@pytest.fixture(scope="module")
def chats():
    return generate_shapes(ShapesConfig(shapes=CHAT_SHAPES, episodes=2, seed=3))


def test_chat_turns_around_the_evidence_are_statements_said_once(chats):
    """Measured as `benchmarks/turn_statistics.py` measures LoCoMo (median 7 content words, 7% with at
    most two, none repeated): templated two-word small talk would teach the read that a distractor is
    short and repeated, which real chats do not bear out."""
    for shape in CHAT_SHAPES:
        counts, repeated, total = [], 0, 0
        for ep in (e for e in chats.episodes if e.id.startswith(f"{shape}-")):
            gold = {e for item in ep.items for e in item.evidence}
            bodies = Counter(t.text.split(": ", 1)[1] for t in ep.turns)
            for t in ep.turns:
                assert "{" not in t.text, t.text  # every template filled
                if t.id not in gold:
                    counts.append(len(substance(t.text)))
                    repeated += bodies[t.text.split(": ", 1)[1]] > 1
                    total += 1
        assert statistics.median(counts) >= 4, shape  # bursts text in fragments; the other shapes reach 5-6
        assert sum(c <= 2 for c in counts) / total < 0.35, shape
        assert repeated / total < 0.15, shape


def test_a_fact_is_talked_over(chats):
    """After a fact, someone else often asks about it and its owner goes on without restating it."""
    talked = 0
    for ep in chats.episodes:
        gold = {e for item in ep.items for e in item.evidence}
        for fact, ask, more in zip(ep.turns, ep.turns[1:], ep.turns[2:], strict=False):
            body = more.text.split(": ", 1)[1]
            if fact.id in gold and body.startswith(chatter.OPENINGS):
                assert ask.speaker != fact.speaker and more.speaker == fact.speaker
                assert more.id not in gold
                talked += 1
    assert talked >= 5 * len(chats.episodes)
