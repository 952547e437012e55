"""Which message texts hold something worth remembering: the rules behind `SkipRules`.

A long-term memory should say something true about the user or the world. Three kinds of message
say nothing of the sort, however they are worded:

- *Filler* has no content word at all: every word is a function word (pronouns, auxiliaries,
  prepositions...) or one of a small set of acknowledgement and politeness words. "Thanks, I'll
  remember that." is filler; "Your flight to Lisbon is on May 3." is not ("flight", "Lisbon", "3"
  are content). A text with no word at all (an emoji) is filler too.
- A *question* asks and states nothing: at least one sentence is a question and every other sentence
  is filler. A sentence is a question when it ends with "?", or when it opens with an interrogative
  word in question word order, an auxiliary before any subject ("where do I live", "what's my dog's
  name"); "When I was ten I lived in Porto." opens with one too, but its subject comes first, so it
  is a statement.
- A *duplicate* has the same text as another once case and whitespace are normalized
  (`normalized`).

The rules err towards keeping: they read English words, so text in another language is never
filler and is a question only when it ends with a question mark; a sentence the rules cannot place
counts as a statement.
"""

from __future__ import annotations

import re


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that carry no fact on their own. Contractions are split at the apostrophe ("I'll" -> "i",
# "ll"; "don't" -> "don", "t"), so the fragments are listed too.
_FUNCTION_WORDS = _word_set(
    """
    a an the this that these those it its there here
    i me my mine myself you your yours yourself we us our ours they them their he him his she her
    am is are was were be been being do does did doing done have has had having
    will would shall should can could may might must
    to of for in on at by with from about into onto up out over as
    and or but so if then than because
    not no nor also too very just really all any some anything something everything nothing else
    more again now
    what which who whom whose where when why how
    s t d ll m re ve
    don doesn didn isn aren wasn weren haven hasn hadn won wouldn shouldn couldn ain
    """
)

# What acknowledging, thanking, greeting and promising to remember are made of.
_ACKNOWLEDGEMENT_WORDS = _word_set(
    """
    ok okay k alright right sure yes yeah yep yup no nope fine
    thanks thank thx ty u cheers please welcome sorry pleasure anytime
    got get noted note understood understand see
    remember remembered keep kept mind track save saved store stored record recorded memory
    make sure tell telling told share sharing shared letting info information
    great good perfect cool nice awesome wonderful excellent lovely fantastic brilliant amazing
    glad happy pleased
    absolutely certainly definitely course indeed totally exactly agreed
    problem worries thing
    sounds makes sense
    let know help need want
    hi hello hey bye goodbye day
    oh ah well wow hmm um uh
    go ahead
    """
)

_EMPTY_WORDS = _FUNCTION_WORDS | _ACKNOWLEDGEMENT_WORDS

_INTERROGATIVES = _word_set("what which who whom whose where when why how")
_AUXILIARIES = _word_set(
    """
    am is are was were do does did have has had will would shall should can could may might must
    don doesn didn isn aren wasn weren haven hasn hadn won wouldn shouldn couldn
    """
)
# A contraction fragment right after the interrogative is its verb: "what's", "where're", "who'll".
_CLITIC_AUXILIARIES = _word_set("s re ll d ve")
_SUBJECTS = _word_set(
    "i you we they he she it my your our their his her its the a an this that these those there"
)
# How far past the interrogative its verb or subject may come: "how many kids do I have",
# "what kind of music do I like".
_WORD_ORDER_WINDOW = 4

_WORDS = re.compile(r"[^\W_]+")
# Sentences end at . ! ? followed by a space, at CJK full stops (no space follows them) or at a newline.
_SENTENCE_BREAKS = re.compile(r"(?<=[.!?…])\s+|(?<=[。！？])|\n+")
_CLOSERS = " \t\"'”’)]}*_~"


def words(text: str) -> list[str]:
    """The text's words, case-folded, contractions split at the apostrophe."""
    return _WORDS.findall(text.casefold())


def is_filler(text: str) -> bool:
    """No content word: only function, acknowledgement and politeness words (or none at all)."""
    return all(word in _EMPTY_WORDS for word in words(text))


def is_question(text: str) -> bool:
    """At least one sentence asks, and no sentence states anything."""
    asks = False
    for sentence in _SENTENCE_BREAKS.split(text.strip()):
        if _asks(sentence):
            asks = True
        elif not is_filler(sentence):
            return False
    return asks


def normalized(text: str) -> str:
    """The text as duplicates compare: case-folded, whitespace collapsed."""
    return " ".join(text.casefold().split())


def _asks(sentence: str) -> bool:
    ending = sentence.rstrip(_CLOSERS).rstrip(".!…")
    if ending.endswith(("?", "？")):
        return True
    found = words(sentence)
    if not found or found[0] not in _INTERROGATIVES:
        return False
    # Question word order puts the auxiliary before the subject; a statement that opens with an
    # interrogative ("when I was ten, ...") has its subject first.
    for position, word in enumerate(found[1 : _WORD_ORDER_WINDOW + 1], start=1):
        if word in _AUXILIARIES or (position == 1 and word in _CLITIC_AUXILIARIES):
            return True
        if word in _SUBJECTS:
            return False
    return False
