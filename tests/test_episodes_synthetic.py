"""The synthetic generator: exact sizes, determinism, and gold evidence that really holds the answer."""

from __future__ import annotations

import pytest

from agentmem.episodes.synthetic import CATEGORIES, SyntheticConfig, generate


@pytest.fixture(scope="module")
def small():
    return generate(SyntheticConfig(observations=2000, questions=40, seed=3))


def test_sizes_and_categories(small):
    (ep,) = small.episodes
    assert len(ep.turns) == 2000
    assert len({t.id for t in ep.turns}) == 2000
    assert {i.category for i in ep.items} == set(CATEGORIES)
    assert len(ep.items) <= 40
    split = generate(SyntheticConfig(observations=1001, episodes=2, questions=8))
    assert [len(e.turns) for e in split.episodes] == [501, 500]
    assert generate(SyntheticConfig(observations=100, questions=8)).n_turns == 100


def test_deterministic_by_seed(small):
    again = generate(SyntheticConfig(observations=2000, questions=40, seed=3))
    assert [t.text for t in again.episodes[0].turns] == [t.text for t in small.episodes[0].turns]
    assert again.episodes[0].items == small.episodes[0].items
    other = generate(SyntheticConfig(observations=2000, questions=40, seed=4))
    assert [t.text for t in other.episodes[0].turns] != [t.text for t in small.episodes[0].turns]


def test_sessions_are_dated_in_order(small):
    turns = small.episodes[0].turns
    assert all(a.time <= b.time for a, b in zip(turns, turns[1:], strict=False))
    assert len({t.session for t in turns}) > 10


# The words that mark a statement of each attribute (first statement, update), by question prefix.
MARKERS = {"Which city": (" lives in ", " has moved from "), "Which company": (" works at ", " left "),
           "What car": (" drives a ", " sold the "), "Which project": (" is on the ", " was moved from the ")}


def test_gold_evidence_holds_the_answer(small):
    ep = small.episodes[0]
    text = {t.id: t.text for t in ep.turns}
    order = {t.id: i for i, t in enumerate(ep.turns)}
    for item in ep.items:
        if item.category in ("single-hop", "knowledge-update"):
            (gold,) = item.evidence
            assert item.answer in text[gold]
            markers = next(m for prefix, m in MARKERS.items() if item.question.startswith(prefix))
            person = text[gold].removeprefix("user: ").split(markers[0])[0].split(markers[1])[0]
            assert person in item.question
            # The gold is the latest statement: no later turn states this attribute of this person.
            later = [t for t in ep.turns[order[gold] + 1 :] if t.text.startswith(f"user: {person}{markers[1]}")]
            assert later == []
            assert (markers[1] in text[gold]) == (item.category == "knowledge-update")
        elif item.category == "multi-hop":
            pet, city = item.evidence
            name = item.question.split("owner of ")[1].split(" the ")[0]
            assert name in text[pet]
            assert text[city].rstrip(".").endswith(item.answer)
        else:
            first, second = item.evidence
            assert order[first] < order[second]
            assert item.answer in item.question


def test_generation_streams_with_bounded_state():
    from agentmem.episodes.synthetic import stream

    world, turns = stream(SyntheticConfig(observations=200_000, questions=20), 0)
    assert sum(1 for _ in turns) == 200_000
    assert len(world.events) <= 4 * 20 + 8  # a reservoir, not every event
