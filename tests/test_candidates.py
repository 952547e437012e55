"""Candidate gathering's signals: what each candidate of a read is described by."""

from __future__ import annotations

import numpy as np

from agentmem.controller.candidates import SIGNALS, CandidateBuilder
from agentmem.storage.local.columns import batch_from_rows


def test_candidate_signals_by_hand():
    """The per-candidate signals, whichever order the rows arrive in."""
    day = 86_400.0
    # (slot, prev, next, event time, usage, namespace key, speaker, asks, the time the text names, the
    # text's length), as the store reads them; the speakers are those text.speaker_of gives "Mel: I went
    # hiking.", {"speaker": "Caroline Smith"}, and "a very long first clause that is no name: x"
    rows = [
        (7, 3, 9, 10 * day, 0.5, "u\x1fm", "mel", 0, None, None, 19),
        (3, None, 7, None, 0.0, "u\x1fm\x1fdeep", "caroline smith", 1, None, None, 0),
        (9, 7, None, 0.0, 1.0, "u\x1fm", "", 0, None, None, 2000),
    ]

    def keys(slots):  # a key that names its slot, to check that keys stay with their rows
        return np.array([[s, 0.0, 0.0] for s in slots], dtype=np.float32).reshape(-1, 3)

    build = CandidateBuilder(
        query="What is Caroline asking Mel now?", namespace=("u", "m"), query_time=10 * day, keys=keys
    )
    build.add(batch_from_rows(rows[2:]))
    build.describe()  # a first batch described early, as a read does while its index scan runs
    build.add(batch_from_rows(rows[:2] + rows[2:]))  # a row seen twice counts once
    cand = build.build({7: 4.0, 9: 1.0})
    assert cand.keys[:, 0].tolist() == [3.0, 7.0, 9.0]
    assert cand.slots.tolist() == [3, 7, 9]
    raw = np.array([0.0, 4.0, 1.0])
    feats = dict(zip(SIGNALS, cand.features.T, strict=True))
    np.testing.assert_allclose(feats["lexical"], (raw - raw.mean()) / raw.std(), rtol=1e-6)
    assert feats["speaker"].tolist() == [1.0, 1.0, 0.0]  # a speaker named by first word, or none
    assert feats["recency"].tolist() == [0.0, 0.5, 1.0]
    np.testing.assert_allclose(feats["time"], [0.0, 0.0, -np.log1p(10.0) / np.log(366.0)], rtol=1e-6)
    assert feats["usage"].tolist() == [0.0, 0.5, 1.0]
    assert feats["namespace"].tolist() == [0.0, 1.0, 1.0]  # exactly the queried namespace, not deeper
    # log(1 + characters) / log(201): 0 for an empty text, 1 from 200 characters on
    np.testing.assert_allclose(feats["length"], [0.0, np.log(20.0) / np.log(201.0), 1.0], rtol=1e-6)
    assert cand.prev.tolist() == [-1, 0, 1] and cand.next.tolist() == [1, 2, -1]
    assert cand.asks.tolist() == [True, False, False]
    # A question about the past gets no recency or time: newer says nothing about which memory answers it.
    past = CandidateBuilder(query="What did Caroline ask Mel?", namespace=("u", "m"), query_time=10 * day, keys=keys)
    past.add(batch_from_rows(rows))
    feats = dict(zip(SIGNALS, past.build({}).features.T, strict=True))
    assert not feats["recency"].any() and not feats["time"].any()


def test_a_query_naming_someone_cuts_the_links_and_matches_the_memories_naming_them():
    """A chain 1-2-3-4-5 where 3 and 4 name the asked-about person: they match the query's speaker,
    and no link carries anything, not even the one between them."""
    rows = [
        (s, s - 1 if s > 1 else None, s + 1 if s < 5 else None, None, 0.0, "u", "", 0, None, None, 1)
        for s in range(1, 6)
    ]

    def build(naming):
        b = CandidateBuilder(query="q", namespace=None, query_time=None, keys=lambda s: np.zeros((len(s), 3)))
        b.add(batch_from_rows(rows))
        return b.build({}, naming)

    cand = build(np.array([3, 4, 8]))
    assert cand.prev.tolist() == [-1] * 5 and cand.next.tolist() == [-1] * 5
    # the memories naming the asked-about person count as the query's speaker
    assert cand.features[:, SIGNALS.index("speaker")].tolist() == [0.0, 0.0, 1.0, 1.0, 0.0]
    for nobody in (np.array([9]), np.zeros(0, np.int64), None):  # no candidate named: every link stays
        cand = build(nobody)
        assert cand.prev.tolist() == [-1, 0, 1, 2, 3] and cand.next.tolist() == [1, 2, 3, 4, -1]
        assert not cand.features[:, SIGNALS.index("speaker")].any()


def test_a_query_refers_to_a_speaker_by_any_part_or_short_form_of_the_name_but_not_to_a_role():
    from agentmem.text import refers_to

    assert refers_to({"what", "did", "wu", "buy"}, {"wu"}, "katherine wu")
    assert refers_to({"what", "did", "kate", "buy"}, {"kate"}, "katherine wu")  # a short form
    assert not refers_to({"what", "did", "kate", "buy"}, set(), "katherine wu")  # "kate" not capitalised
    assert not refers_to({"what", "did", "omar", "buy"}, {"omar"}, "katherine wu")
    assert not refers_to({"which", "flight", "did", "the", "user", "book"}, set(), "user")  # a role


def test_a_question_for_what_was_replied_is_told_from_one_about_the_asker_or_someone_else():
    from agentmem.text import asks_for_reply

    for q in (
        "What did you suggest when I asked how to get potatoes crispy?",
        "Can you remind me of the hotel you recommended?",
        "You mentioned a list of books; what was the third?",
        "What was your advice on budgets?",
        "Did you tell me which plants survive low light?",
        "What were the tips for getting potatoes crispy?",  # advice, whoever gave it
        "Any recommendations on budgeting apps from last time?",
    ):
        assert asks_for_reply(q), q
    for q in (
        "Can you tell me what my 5K best is?",  # "you" asked to do something, about the asker's fact
        "Where are you living these days?",
        "What souvenir did Maya buy in Kyoto?",
        "Which flight did the user book?",
        "Could you make that vegetarian?",
        "What was on my reading list?",  # a list, a plan, an answer: also a person's own
        "What tip did the waiter get?",  # one tip: money as often as advice
    ):
        assert not asks_for_reply(q), q


def test_a_machines_replies_read_as_any_reply_when_the_query_asks_what_it_replied():
    """`Candidates.machine` flags what a machine wrote, so that the links weigh its reply to a person apart;
    a query asking for the reply flags nothing, unless `CandidateConfig.replies` is off."""
    rows = [
        (1, None, 2, None, 0.0, "u", "user", 1, None, None, 40),
        (2, 1, 3, None, 0.0, "u", "assistant", 0, None, None, 90),
        (3, 2, None, None, 0.0, "u", "tool", 0, None, None, 30),
    ]

    def machine(query, replies=True):
        b = CandidateBuilder(
            query=query, namespace=None, query_time=None, keys=lambda s: np.zeros((len(s), 3)), replies=replies
        )
        b.add(batch_from_rows(rows))
        return b.build({}).machine.tolist()

    assert machine("How do I get potatoes crispy?") == [False, True, True]
    assert machine("What did you suggest for crispy potatoes?") == [False, False, False]
    assert machine("What did you suggest for crispy potatoes?", replies=False) == [False, True, True]


def test_sessions_split_event_times_at_gaps_over_three_hours_and_unknown_times_stand_alone():
    from agentmem.controller.candidates import SESSION_GAP, sessions

    h = 3600.0
    times = np.array([0.0, 10 * h, 60.0, np.nan, 10 * h + SESSION_GAP, 10 * h + 2 * SESSION_GAP + 1, np.nan])
    codes = sessions(times)
    assert codes[0] == codes[2] and codes[1] == codes[4]  # within the gap, by time not by position
    assert len({codes[0], codes[1], codes[5], codes[3], codes[6]}) == 5


def test_when_matches_event_times_to_the_time_the_query_names_and_speakers_get_one_code_each():
    """Query "what happened last week", asked on Wednesday 20 March 2024: last week is 11-18 March. A
    memory's times are its event time and the stretch its text names; the nearer counts, and stretches
    sharing no day are a day apart at least."""
    from datetime import datetime, timezone

    def at(*ymd: int) -> float:
        return datetime(*ymd, tzinfo=timezone.utc).timestamp()

    rows = [
        (1, None, 2, at(2024, 3, 12), 0.0, "u", "mel", 0, None, None, 9),  # inside
        (2, 1, 3, at(2024, 3, 25), 0.0, "u", "caroline", 0, None, None, 9),  # 7 days after its end
        (3, 2, 4, None, 0.0, "u", "mel", 0, None, None, 9),  # unknown time
        (4, 3, 5, at(2024, 1, 2), 0.0, "u", "mel", 0, at(2024, 3, 17), at(2024, 3, 18), 9),  # names its last day
        (5, 4, 6, at(2024, 1, 2), 0.0, "u", "mel", 0, at(2024, 3, 19), at(2024, 3, 20), 9),  # names the 19th: 2 days
        (6, 5, None, None, 0.0, "u", "mel", 0, at(2024, 2, 1), at(2024, 3, 1), 9),  # names February: 11 days
    ]
    b = CandidateBuilder(
        query="What happened last week?", namespace=None, query_time=at(2024, 3, 20, 12),
        keys=lambda s: np.zeros((len(s), 3)),
    )
    b.add(batch_from_rows(rows))
    cand = b.build({})
    np.testing.assert_allclose(
        cand.features[:, SIGNALS.index("when")],
        [1.0, np.exp(-1.0), 0.0, 1.0, np.exp(-2 / 7), np.exp(-11 / 7)],
        rtol=1e-6,
    )
    assert cand.speakers[0] == cand.speakers[2] != cand.speakers[1]
    assert len(set(cand.sessions[:3].tolist())) == 3
