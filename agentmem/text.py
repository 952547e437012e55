"""The chat heuristics, in one place: who said a memory, whom it names, and whether it says a fact changed.

Every rule that reads meaning off raw text lives here, so the lexical index, the candidate signals and
the write gate agree on it and a change to one rule touches one file:

- `speaker_name` / `speaker_of`: who said a memory, from its `speaker` metadata or
  a short "Name:" prefix of its text ("Mira: I moved to Lisbon").
- `refers_to`: whether a query names a speaker (any part of the name, or a short form), roles aside.
- `name_phrases`: the people (and places) a text names by full name: each pair of capitalised words
  ("Ana Silva", "New York"), folded to one term.
- `content_words`: a text's distinct words without stop words.
- `says_changed`: whether a text says something changed ("moved", "now", "anymore", ...).
- `substance`: the words that say what a text is about: its content words without change words and
  the glue of conversation (`SMALL_TALK`: greetings, thanks, reactions, fillers). "Good morning!",
  "ok moving on" and "haha same" have none.
- `capitalised`: the capitalised words of a text (names, places), lower-cased; `entities`: those that
  are not glue (a sentence's "Actually", "Good", "I'm").
- `asks`: whether a text only asks (every sentence a question), so states no fact; `has_question`:
  whether it asks anything at all (a question mark), so the memory after it may be the answer.
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
# Words that say a fact changed, or that a state ended ("broke up", "split up", "stopped"). Words that
# merely continue a story ("again", "new", "started", "joined") are left out: "Rex chewed my shoes
# again" does not replace "I adopted a puppy named Rex".
CHANGE_CUES = frozenset(
    "now anymore longer moved moving left leaving quit quitting switched switching changed instead sold "  # noqa: SIM905
    "replaced transferred relocated relocating traded broke split divorced stopped".split()
)
# The glue of conversation: words that carry no topic of their own. Greetings and partings, thanks,
# reactions and interjections, agreement, intensifiers and fillers, words of time and place deixis,
# verbs of saying, feeling and wanting, and the pieces of contractions ("don't" -> "don", "t").
SMALL_TALK = frozenset(
    "hi hello hey hiya yo morning evening afternoon night goodnight bye goodbye later ttyl brb cya "  # noqa: SIM905
    "thanks thank thx ty please pls sorry welcome cheers congrats congratulations "
    "yes yeah yep yup yea ya no nope nah ok okay kk sure alright fine cool nice great awesome amazing done "
    "lovely wonderful wow aww awww omg lol lmao rofl haha hahaha hehe ugh hmm hm oh ooh ah ahh wait "
    "true agreed agree same exactly totally definitely absolutely indeed right "
    "just really so very too also still again finally anyway anyways well actually honestly literally "
    "maybe probably already even ever much more most quite pretty kinda sorta lot lots bit little "
    "good bad happy glad fun funny sad crazy wild weird best worst better "
    "today tonight tomorrow yesterday rn day days week weeks time times moment soon last next first ago since "
    "here everything something anything nothing everyone someone thing things stuff back out off heading "
    "go going gone went come coming came get got getting make made take took know knew think thought "
    "feel felt see saw look looks looking say said says tell told talk talking want wanted need needed "
    "love loved like liked hope hoped wish miss let lets gonna wanna gotta "
    "not never don didn doesn isn wasn aren weren won wouldn couldn shouldn haven hasn hadn ain "
    "im ive ill id youre thats whats its".split()
)
_CAPITALISED = re.compile(r"\b[A-Z][\w'-]+")
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")  # a sentence and the marks that end it
# A name said to someone: after a comma, a sentence's start or a greeting, before a punctuation mark.
_VOCATIVE = re.compile(
    r"(?:^|[,.!?;:]\s*|\b(?i:hi|hey|hello|hiya|yo|dear|thanks|thank you|thx|bye|night|morning|congrats|"
    r"cheers|sorry|wow|aww+|omg|oh|yay|yeah|yes)\s+)"
    r"([A-Z][\w-]*)(?=\s*(?:[,.!?;]|$))"
)
# Negations that undo a change word right after them ("won't quit": "won", "t", "quit"), and the change
# words they do not undo, which say a state ended whatever comes before them ("not ... anymore").
_NEGATIONS = frozenset("not never t no".split())  # noqa: SIM905
_STATE_CUES = frozenset(("anymore", "longer", "now", "instead"))
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


# The roles of machines: an assistant, its tools, the system. What a machine writes answers what a
# person said or asked, from general knowledge or a tool: its reply to a user's question repeats the
# question's words without holding the user's facts (the controller's links tell it apart).
MACHINES = frozenset(("assistant", "system", "tool", "agent", "ai", "bot", "function"))
# Speakers that are roles, not people: in an agent's log most memories have one of them, so a question
# naming "the user" says nothing about which memory holds the answer.
ROLES = MACHINES | {"user", "human"}


# What a question asks about a reply it was given: "you" (the one the asker talks to, a machine when
# the asker is its user) with a verb of saying or giving ("what did you suggest", "the hotel you
# recommended", "you mentioned a list"), "your" before what a reply holds ("your advice"), or advice
# by the name of what one is given ("the tips for", "recommendations on", "any suggestions"), whoever
# is asked: in a log where a machine answers a person, advice is what the machine wrote. Words that
# name a person's own things as well ("plan", "list", "answer") count only after "your".
_SAID = (
    "said|suggested|recommended|told|mentioned|gave|listed|wrote|advised|proposed|explained|shared|"
    "provided|named|described|offered|sent|given|written|shown|showed|came up with|put together"
)
_SAY = (
    "say|suggest|recommend|tell|mention|give|list|write|advise|propose|explain|share|provide|name|"
    "describe|offer|send|show|come up with|put together"
)
_ADVICE = "advice|tips|suggestions?|recommendations?|instructions"  # wherever they stand
_YOUR = "tip|answer|reply|list|explanation|plan"  # only after "your"
_ASKS_REPLY = re.compile(
    rf"\byou(?:['’]ve| have| had)? (?:\w+ )?(?:{_SAID})\b|\bdid you (?:\w+ )?(?:{_SAY})\b|\byour (?:{_YOUR})\b"
    rf"|\b(?:{_ADVICE})\b",
    re.IGNORECASE,
)


def asks_for_reply(query: str) -> bool:
    """Whether `query` asks what the one it is put to said ("What did you suggest for dinner?", "the
    hotel you recommended", "your advice on saving") or for advice ("What were the tips for crispy
    potatoes?"), rather than what the asker or someone else did or said ("What is my 5K best?", "Where
    does Mira live?"): in an assistant's memory, the answer is then the assistant's own reply, whatever
    the user's turn before it says."""
    return _ASKS_REPLY.search(query) is not None


def refers_to(words: set[str], names: set[str], speaker: str) -> bool:
    """Whether a query with lower-cased `words` and capitalised `names` (lower-cased) refers to
    `speaker` (lower-cased, a person, not one of `ROLES`): it holds a word of the speaker's name ("Wu"
    for "katherine wu"), or a name sharing the first three letters of one: nicknames and short forms
    keep the head of the name ("Kate", "Katie", "Kat" for Katherine; "Mel" for Melanie)."""
    if speaker in ROLES:
        return False
    parts = [w for w in WORD.findall(speaker) if len(w) > 1]
    if any(w in words for w in parts):
        return True
    heads = {w[:3] for w in parts if len(w) >= 3}
    return any(n[:3] in heads for n in names if len(n) >= 3)


def without_speaker(text: str, speaker: str) -> str:
    """The text without its "Speaker:" prefix, so a speaker's name is not counted as something it names."""
    head, sep, rest = text.partition(":")
    return rest if sep and head.lower() == speaker else text


def says_changed(text: str) -> bool:
    """Whether `text` says a fact changed: one of `CHANGE_CUES`, not negated ("I won't quit", "we never
    moved" say nothing changed; "not ... anymore" and "no longer" do)."""
    words = WORD.findall(text.lower())
    return any(
        w in CHANGE_CUES and (w in _STATE_CUES or i == 0 or words[i - 1] not in _NEGATIONS)
        for i, w in enumerate(words)
    )


def substance(text: str) -> list[str]:
    """The words that say what `text` is about, in order: its content words (`content_words`) without
    change words (`CHANGE_CUES`), conversation glue (`SMALL_TALK`), one- or two-letter pieces ("m" of
    "I'm") and the names it addresses someone by (`addressed`). Empty for small talk ("Good morning!",
    "ok moving on", "haha same", "Thanks, Gina!")."""
    glue = CHANGE_CUES | SMALL_TALK | addressed(text)
    return [w for w in content_words(text) if len(w) > 2 and w not in glue]


def addressed(text: str) -> set[str]:
    """The names `text` addresses someone by, lower-cased: a capitalised word after a greeting or a
    comma and before a punctuation mark ("Thanks, Gina!", "Hey Jon,", "Go for it, Mel."). Whom a
    message is said to is not what it is about."""
    return {m.group(1).lower() for m in _VOCATIVE.finditer(text)}


def capitalised(text: str) -> set[str]:
    """The capitalised words of `text` (names, places), lower-cased; "I" is not one."""
    return {w.lower() for w in _CAPITALISED.findall(text)} - {"i"}


def entities(text: str) -> set[str]:
    """The names, places and brands of `text`: its capitalised words, lower-cased and without a
    possessive ("Omar's" -> "omar"), that are not glue: stop words, change words and `SMALL_TALK`, as
    a sentence's first word often is ("Actually", "Good", "We", "I'm"), or a name it addresses."""
    heads = {w.lower().partition("'")[0] for w in _CAPITALISED.findall(text)}
    glue = STOPWORDS | SMALL_TALK | CHANGE_CUES | addressed(text)
    return {w for w in heads if w and w != "i" and w not in glue}


# The question marks of the scripts a chat is likely written in: Latin (Spanish opens with ¿ and closes
# with ?), full-width CJK, Arabic.
QUESTION_MARKS = ("?", "？", "؟")


def has_question(text: str) -> bool:
    """Whether `text` asks anything ("We moved! Have you been to Denver?" does): the memory written next
    may answer it, where a reply to a statement ("Noted.", "Ha, nice") rarely holds an answer."""
    return any(m in text for m in QUESTION_MARKS)


def asks(text: str) -> bool:
    """Whether `text` only asks: each of its sentences is a question ("How's work these days?"), so it
    states no fact. "We moved! Have you been to Denver?" also states one."""
    sentences = [x.strip() for x in _SENTENCE.findall(text)]
    sentences = [x for x in sentences if WORD.search(x)]
    return bool(sentences) and all(x.endswith("?") for x in sentences)
