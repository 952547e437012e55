"""The chat heuristics, in one place: who said a memory, whom it names, and whether it says a fact changed.

Every rule that reads meaning off raw text lives here, so the lexical index, the candidate signals and
the write gate agree on it and a change to one rule touches one file:

- `speaker_name` / `speaker_of` / `speaker_word`: who said a memory, from its `speaker` metadata or
  a short "Name:" prefix of its text ("Mira: I moved to Lisbon").
- `name_phrases`: the people (and places) a text names by full name: each pair of capitalised words
  ("Ana Silva", "New York"), folded to one term.
- `content_words`: a text's distinct words without stop words.
- `says_changed`: whether a text says something changed ("moved", "now", "anymore", ...).
- `capitalised`: the capitalised words of a text (names, places), lower-cased.
- `fold` and `STOPWORDS`: the normalisation every rule above (and the BM25 index) shares.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

# Words too common to identify a memory: not indexed and dropped from queries (BM25 would weight them
# about 0 anyway, but every one would still be a pass over most of the postings).
STOPWORDS = frozenset(
    "a an and are as at be been but by can did do does for from had has have he her his how i if in into "  # noqa: SIM905
    "is it its me my of on or our she so that the their them then there they this to was we were what "
    "when where which who whom why will with would you your".split()
)
WORD = re.compile(r"\w+")
# Words that say a fact changed. Words that merely continue a story ("again", "new", "started") are
# left out: "Rex chewed my shoes again" does not replace "I adopted a puppy named Rex".
CHANGE_CUES = frozenset(
    (
        "now",
        "anymore",
        "longer",
        "moved",
        "moving",
        "left",
        "quit",
        "switched",
        "changed",
        "instead",
        "sold",
        "replaced",
        "transferred",
    )
)
_CAPITALISED = re.compile(r"\b[A-Z][\w'-]+")
# A "Name:" prefix is a speaker when its head is at most this long (and at most three words).
SPEAKER_PREFIX_CHARS = 40


def fold(text: str) -> str:
    """Lower-case and strip diacritics ("Malmö" matches "malmo"), as FTS5's unicode61 tokenizer does."""
    text = text.lower()
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def content_words(text: str) -> list[str]:
    """Distinct lower-cased word tokens of `text`, stop words dropped, in order (unstemmed)."""
    return list(dict.fromkeys(w for w in WORD.findall(text.lower()) if w not in STOPWORDS))


def name_phrases(text: str) -> list[str]:
    """The phrase terms of `text`: each pair of capitalised words separated only by spaces, folded
    ("Yusuf Fischer's car" -> ["yusuf fischer"]); a pair with a stop word ("Which City") is not a name."""
    out, prev, prev_end = [], "", -1
    for m in WORD.finditer(text):
        word = m.group()
        if not word[0].isupper():
            prev = ""
            continue
        if prev and text[prev_end : m.start()].isspace():
            a, b = fold(prev), fold(word)
            if a not in STOPWORDS and b not in STOPWORDS:
                out.append(f"{a} {b}")  # a space never occurs inside a word term: no collisions
        prev, prev_end = word, m.end()
    return out


def speaker_name(value: Any, text: str) -> str:
    """The speaker of a memory, lower-cased: its `speaker` metadata `value`, else a short "Name:" prefix
    of its text; "" when neither."""
    if value:
        return str(value).lower()
    head, sep, _ = text[: SPEAKER_PREFIX_CHARS + 1].partition(":")
    return head.lower() if sep and 0 < len(head.split()) <= 3 and len(head) <= SPEAKER_PREFIX_CHARS else ""


def speaker_of(text: str, metadata: Mapping[str, Any]) -> str:
    """`speaker_name` of a memory's text and metadata."""
    return speaker_name(metadata.get("speaker"), text)


def speaker_word(speaker: str) -> str:
    """The first word of a speaker's name ("" when none): what a question names a speaker by."""
    words = speaker.split()
    return words[0] if words else ""


def without_speaker(text: str, speaker: str) -> str:
    """The text without its "Speaker:" prefix, so a speaker's name is not counted as something it names."""
    head, sep, rest = text.partition(":")
    return rest if sep and head.lower() == speaker else text


def says_changed(text: str) -> bool:
    """Whether `text` says a fact changed (one of `CHANGE_CUES`)."""
    return bool(set(WORD.findall(text.lower())) & CHANGE_CUES)


def capitalised(text: str) -> set[str]:
    """The capitalised words of `text` (names, places), lower-cased; "I" is not one."""
    return {w.lower() for w in _CAPITALISED.findall(text)} - {"i"}
