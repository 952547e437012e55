"""The rules behind SkipRules on hand-checked texts, and properties that hold for any text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_agentmem.content import is_filler, is_question, normalized

FILLER = [
    "Thanks, I'll remember that.",
    "Sure!",
    "Got it.",
    "Noted.",
    "Okay, thanks!",
    "Sure! I'll keep that in mind.",
    "You're welcome, happy to help!",
    "Let me know if you need anything else.",
    "👍",
]
CONTENT = [
    "Your flight to Lisbon is on May 3.",
    "Got it, I'll remember that you're allergic to peanuts.",
    "Nice to meet you, Ada!",
    "I have two kids.",
    "Blue, you said.",
    "Obrigado!",  # not English: kept, never filler
]
QUESTIONS = [
    "Where do I live?",
    "What's my dog's name?",
    "What should a dessert recipe for me leave out?",
    "where do i live",  # no question mark, but question word order
    "How many kids do I have",
    "What kind of music do I like",
    "Thanks! Is there anything else I can help you with?",
    "Hmm, which city was it again?",
    "¿Dónde vivo?",
]
STATEMENTS = [
    "My dog is called Biscuit.",
    "When I was ten I lived in Porto.",  # opens with "when", but its subject comes first
    "I moved to Porto. Where is a good dentist?",  # a fact, then a question: the fact is worth keeping
    "Who lives in Lisbon",  # no "?" and no auxiliary before a subject: kept, as the rules err
    "我住在里斯本。你呢？",  # a statement, then a question
]


@pytest.mark.parametrize("text", FILLER)
def test_filler(text):
    assert is_filler(text)


@pytest.mark.parametrize("text", CONTENT + QUESTIONS[:6] + STATEMENTS)
def test_not_filler(text):
    assert not is_filler(text)


@pytest.mark.parametrize("text", QUESTIONS)
def test_questions(text):
    assert is_question(text)


@pytest.mark.parametrize("text", STATEMENTS + CONTENT + FILLER)
def test_not_questions(text):
    assert not is_question(text)


def test_normalized_ignores_case_and_spacing():
    assert normalized("  I live\tin\n LISBON. ") == normalized("i live in lisbon.") == "i live in lisbon."
    assert normalized("I live in Lisbon") != normalized("I live in Lisbon.")


@given(st.text(), st.integers(0, 10**6))
def test_a_number_is_content(text, number):
    assert not is_filler(f"{text} {number}")


@given(st.text())
def test_a_statement_after_anything_makes_it_no_question(text):
    assert not is_question(f"{text}\nMy dog is called Biscuit.")


@given(st.text())
def test_filler_around_a_text_does_not_change_whether_it_asks(text):
    assert is_question(f"Thanks! {text}\nOkay.") == is_question(text)


@given(st.text())
def test_normalized_is_stable(text):
    assert normalized(normalized(text)) == normalized(text) == normalized(f" {text}\n\t")
