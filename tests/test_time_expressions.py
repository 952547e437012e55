"""Time expressions in queries and memories: each form resolves to the interval it names, relative ones
only with a time to resolve against, and text without one gives None."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentmem.time_expressions import _scan, window


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=timezone.utc).timestamp()


NOW = ts(2024, 3, 20, 15, 30)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("What happened on 14 March 2024?", ts(2024, 3, 14), ts(2024, 3, 15)),
        ("what did she do on March 14th, 2024", ts(2024, 3, 14), ts(2024, 3, 15)),
        ("plans for 14.03.2024", ts(2024, 3, 14), ts(2024, 3, 15)),
        ("on 2024-03-14 at noon", ts(2024, 3, 14), ts(2024, 3, 15)),
        ("on 3/14/2024", ts(2024, 3, 14), ts(2024, 3, 15)),
        ("on 14/3/2024", ts(2024, 3, 14), ts(2024, 3, 15)),
        ("in May 2023", ts(2023, 5, 1), ts(2023, 6, 1)),
        ("in December, 2023", ts(2023, 12, 1), ts(2024, 1, 1)),
        ("during 2022", ts(2022, 1, 1), ts(2023, 1, 1)),
        ("what did I eat yesterday", ts(2024, 3, 19), ts(2024, 3, 20)),
        ("last weekend", ts(2024, 3, 16), ts(2024, 3, 18)),
        ("last week", ts(2024, 3, 11), ts(2024, 3, 18)),
        ("last month", ts(2024, 2, 1), ts(2024, 3, 1)),
        ("last Tuesday", ts(2024, 3, 19), ts(2024, 3, 20)),
        ("last Wednesday", ts(2024, 3, 13), ts(2024, 3, 14)),
        ("two weeks ago", ts(2024, 3, 3), ts(2024, 3, 10)),
        ("3 days ago", ts(2024, 3, 16), ts(2024, 3, 19)),
        ("on March 14", ts(2024, 3, 14), ts(2024, 3, 15)),
        ("on March 30", ts(2023, 3, 30), ts(2023, 3, 31)),  # not yet this year: last year's
        ("in April", ts(2023, 4, 1), ts(2023, 5, 1)),
    ],
)
def test_each_form_names_its_interval(text: str, start: float, end: float) -> None:
    assert window(text, NOW) == (start, end)


def test_relative_expressions_need_a_time_and_absolute_ones_do_not() -> None:
    assert window("last week", None) is None
    assert window("on March 14", None) is None
    assert window("in May 2023", None) == (ts(2023, 5, 1), ts(2023, 6, 1))


@pytest.mark.parametrize("text", ["What is Mira's job?", "at 10:30 she left", "room 2024", "", "31.02.2024"])
def test_text_without_a_valid_date_gives_none(text: str) -> None:
    assert window(text, NOW) is None


@given(st.text(max_size=80), st.floats() | st.sampled_from([253402300799.0, -62135596800.0]))
def test_never_raises_and_intervals_are_ordered(text: str, now: float) -> None:
    got = window(text, now)
    assert got is None or got[0] < got[1]


# Words and characters the patterns turn on, with case variants that only Unicode case folding equates
# (the Kelvin sign, the long s, dotted capital I), so the cheap cue check is tested where it is hardest.
_PIECES = st.sampled_from(
    ["last", "LAST", "this", "on", "In", "İn", "week", "weekend", "night", "morning", "yesterday", "yeſterday",
     "today", "tonight", "ago", "two", "days", "may", "May", "june", "monday", "Tuesday", "wee\u212a",
     "3", "14", "2024", "03", "/", ".", "-", ",", " ", "  ", "\n", "of", "st", "th", "?", "the", "day", "before",
     "x", "é", "٣", "during", "since", "Mar", "sept", "1st", "10k"]
)  # fmt: skip


@given(st.lists(_PIECES | st.text(max_size=3), max_size=14).map("".join), st.floats(min_value=0, max_value=4e9))
def test_the_cue_check_never_changes_the_answer(text: str, now: float) -> None:
    assert window(text, now) == _scan(text, now)


def test_memories_name_times_too() -> None:
    said = ts(2024, 3, 20, 9)
    assert window("Booked EI 2902 to Auckland on 9 January 2024.", said) == (ts(2024, 1, 9), ts(2024, 1, 10))
    assert window("I went to the support group yesterday", said) == (ts(2024, 3, 19), ts(2024, 3, 20))
    assert window("Sounds lovely, enjoy it!", said) is None
