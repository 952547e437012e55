"""What people say between the facts of a chat: substantive statements about other things.

In real chats most turns are not evidence for any later question, and they are not "haha yes" either:
they are statements about the rest of a life (a habit, an opinion, a plan, something in the
neighbourhood, a mood, a childhood memory), each said once, several content words long. LoCoMo's
non-evidence turns have a median of 7 content words, 7% have two or fewer, none repeats word for word
in its conversation (`benchmarks/turn_statistics.py`). A read trained on templated two-word small talk
learns that a distractor is short and repeated, which is false of real chats; this module writes the
other kind.

Everything here is composed from parts, thousands of combinations, so the chat generator
(`shapes._Chat.fresh`) can say nothing twice in an episode of a few hundred turns. Nothing it says is
a fact a generated question asks about: no statement names a time a question could ask about (no
date, weekday, month, "yesterday", "last week"; habits, opinions and plans, not things done on a day),
none names a value of a fact, a name or a change word ("moved", "anymore": the write gate's cues).
`tests/test_chatter.py` checks all three over many draws.
"""

from __future__ import annotations

import random

# (habit, when): what someone does by habit, in the present; "I {habit} {when}".
HABITS = (
    "water the plants on the balcony", "listen to podcasts about old shipwrecks", "bake bread from scratch",
    "walk along the canal", "do the crossword in the newspaper", "cook a huge pot of soup",
    "tidy the whole flat top to bottom", "call my grandparents for a chat", "read the news over coffee",
    "sketch people on the bus", "stretch on the living room floor", "write three things I'm grateful for",
    "try to fix whatever is broken in the house", "watch nature documentaries", "feed the ducks at the pond",
    "rearrange the bookshelf by colour", "make a ridiculous breakfast", "put on old records and dance around",
    "go through my inbox and delete everything", "wander around the flea market", "do jigsaw puzzles",
    "play board games with the neighbours", "write letters to an old pen pal", "take photos of doors and windows",
    "make a smoothie with whatever fruit is in the bowl", "sit on the steps and people-watch", "practise my handwriting",
    "meal prep for the whole week ahead", "look up random facts about octopuses", "iron shirts while watching quiz shows",
    "knit scarves nobody asked for", "scroll through recipes I will never cook", "take the long way home through the woods",
    "clean the windows", "lie in the hammock with a podcast", "fold paper cranes", "talk to my tomato plants",
)
HABIT_WHEN = (
    "most evenings", "before work", "whenever I get the chance", "on lazy mornings", "when the weather is nice",
    "after dinner", "first thing after waking up", "on the way home", "when I can't sleep", "every so often",
    "when I need to clear my head", "on rainy afternoons", "while the kettle boils",
)
TAILS = (
    "it keeps me sane", "and it honestly helps me switch off", "because it clears my head",
    "which my neighbours find hilarious", "even though I'm terrible at it", "and I kind of love it",
    "it's become a little ritual", "no idea how it started", "it's cheaper than therapy",
    "my family thinks it's a phase", "and it's weirdly satisfying", "the calm is addictive",
    "my flatmate has started joining in", "it makes the evenings go faster",
)
# (thing, judgement): "{thing} {judgement}".
THINGS = (
    "bakeries that open at dawn", "the buses around here", "grocery delivery apps", "self-checkout machines",
    "coffee stands at stations", "kitchen-table offices", "group chats with twenty people",
    "the shows everyone keeps talking about", "the bike lanes downtown", "early morning meetings",
    "paper notebooks", "reality cooking competitions", "scented candles", "adventure playgrounds",
    "weekend markets", "audiobooks", "video calls", "fancy coffee prices", "smart speakers",
    "umbrellas that fold up tiny", "second-hand furniture shops", "local radio stations",
    "motivational posters", "birthday parties for adults", "cold showers", "houseplants",
)
JUDGEMENTS = (
    "are seriously underrated", "are getting out of hand", "are worth every penny", "are more fun than they should be",
    "have gotten so much better", "drive me up the wall", "are weirdly comforting", "are completely overhyped",
    "are a mystery to me", "deserve more credit", "are the highlight of my mornings", "make no sense to me",
)
OPINION = (
    "I think {t} {j}.", "Honestly, {t} {j}.", "Not gonna lie, {t} {j}.", "Unpopular opinion: {t} {j}.",
    "Am I the only one who thinks {t} {j}?", "{T} {j}, if you ask me.",
)
# Plans that are not done yet: "I'm hoping to {plan} {someday}".
PLANS = (
    "repaint the hallway a brighter shade", "clear out the storage cupboard", "learn how to make fresh pasta",
    "fix the wobbly kitchen table", "plant herbs on the windowsill", "sort through the old photo boxes",
    "get better at chess", "set up a proper reading corner", "build a bookshelf from scratch",
    "organise a games evening for the neighbours", "frame some of my grandad's drawings", "learn to juggle",
    "start journaling properly", "teach myself to sew buttons back on", "find a decent barber",
    "declutter the wardrobe", "memorise a few poems", "make my own hot sauce", "learn the names of the local birds",
    "put shelves up in the spare room", "visit the aquarium across town", "try a silent retreat",
)
SOMEDAY = (
    "at some point", "once things calm down", "when I have a free afternoon", "if I ever find the energy",
    "before it gets cold", "sooner or later", "when my motivation comes back",
)
PLAN = ("I'm hoping to {p} {s}.", "I keep meaning to {p} {s}.", "I really want to {p} {s}.",
        "My goal is to {p} {s}.", "Someone convinced me to {p} {s}.")
# (place, happening): something in the neighbourhood.
SPOTS = (
    "The café down the street", "The park near my place", "The corner shop", "Our building", "The library downtown",
    "The gym near the office", "The bakery by the station", "The little cinema in town", "The community garden",
    "The laundrette around the corner", "The bookshop on the high street", "The pub at the end of our road",
)
HAPPENINGS = (
    "has a different owner and the whole menu is different", "is closed for renovations again",
    "put up fairy lights everywhere", "does live music nights on the weekends",
    "has a goldfish tank in the window", "is packed every single evening", "finally fixed its broken door",
    "put new benches outside", "has started a swap shelf for old books", "smells amazing from the pavement",
    "has the grumpiest staff in the city", "painted everything bright yellow", "is running a charity raffle",
)
SPOT_TAILS = ("", " No idea why.", " Everyone is talking about it.", " I'm not sure how I feel about it.",
              " Very on brand.", " It cracks me up.")
# (mood, reason): "I've been feeling {mood} lately, {reason}".
MOODS = (
    "a bit restless", "really motivated", "strangely nostalgic", "pretty worn out", "more relaxed than usual",
    "kind of scattered", "oddly calm", "a little homesick", "full of energy", "quite reflective",
)
REASONS = (
    "probably because the evenings are getting darker", "maybe it's all the rain", "I think I need more sleep",
    "too much screen time probably", "which is nice for a change", "no idea why to be honest",
    "I blame the strong coffee", "maybe it's the full moon", "the flat has been so quiet",
    "everyone at home seems stressed", "I've been reading too many self-help books",
)
MOOD = ("I've been feeling {m} lately, {r}.", "Lately I've felt {m}, {r}.", "I'm feeling {m} these days, {r}.")
# Childhood: "When I was a kid I used to {memory}".
MEMORIES = (
    "build forts out of sofa cushions", "collect shiny stones from the river", "stay up late telling ghost stories",
    "pick blackberries along the railway", "race paper boats in the gutter", "make terrible home videos",
    "ride bikes until the streetlights came on", "play cards with the grandparents", "hide in the airing cupboard",
    "sell lemonade to the neighbours", "dig for dinosaur bones in the sandpit", "read comics under the covers",
    "climb the big oak behind the school", "invent secret codes with the kids next door",
)
MEMORY = ("When I was a kid I used to {m}. {x}", "I just remembered how I used to {m} as a kid. {x}",
          "Growing up, I would {m} for hours. {x}")
MEMORY_TAILS = ("Simpler days.", "Good times.", "I miss that feeling.", "Kids have the best ideas.",
                "My parents were very patient.", "Still makes me smile.")
ASK = ("Do you ever {h}, {o}?", "What do you think about {t}?", "Have you ever wanted to {p}?",
       "Be honest, {o}: do {t} annoy you?", "Did you use to {m} too?")


def statement(rng: random.Random, other: str) -> str:
    """One substantive message by someone talking to `other` (a name they call them): a habit, an
    opinion, a plan, the neighbourhood, a mood, a childhood memory, or a question of that kind; a third
    of messages say two of these, as people write several sentences at a time."""
    text = _sentence(rng, other)
    if rng.random() < 1 / 3:
        text = f"{text} {_sentence(rng, other)}"
    return text


def _sentence(rng: random.Random, other: str) -> str:
    kind = rng.random()
    if kind < 0.22:
        text = f"I {rng.choice(HABITS)} {rng.choice(HABIT_WHEN)}"
        text += f", {rng.choice(TAILS)}." if rng.random() < 0.7 else "."
        return rng.choice(("", "These days ", "Lately ", "Funny thing, ")) + text
    if kind < 0.40:
        thing = rng.choice(THINGS)
        return rng.choice(OPINION).format(t=thing, T=thing[0].upper() + thing[1:], j=rng.choice(JUDGEMENTS))
    if kind < 0.55:
        return rng.choice(PLAN).format(p=rng.choice(PLANS), s=rng.choice(SOMEDAY))
    if kind < 0.68:
        return f"{rng.choice(SPOTS)} {rng.choice(HAPPENINGS)}.{rng.choice(SPOT_TAILS)}"
    if kind < 0.80:
        return rng.choice(MOOD).format(m=rng.choice(MOODS), r=rng.choice(REASONS))
    if kind < 0.90:
        return rng.choice(MEMORY).format(m=rng.choice(MEMORIES), x=rng.choice(MEMORY_TAILS)).strip()
    # Every part is drawn whichever template is chosen, so one seed's draws do not depend on the template.
    return rng.choice(ASK).format(h=rng.choice(HABITS), o=other, t=rng.choice(THINGS), p=rng.choice(PLANS),
                                  m=rng.choice(MEMORIES))


# Asked after someone states a fact, and the answers that keep talking about it without restating it:
# the evidence is discussed over several turns, as in real chats.
FOLLOW_UPS = (
    "How did that come about, {o}?", "What made you decide on that?", "How are you finding it so far?",
    "Wait, tell me more! How did it all happen?", "Was it a hard decision?", "How does everyone around you feel about it?",
    "That's a big deal, {o}. Are you happy with how it turned out?", "What was the best part?",
    "Did you see that coming?", "How long had you been thinking about it?",
)
# An elaboration is an opening and a closing: a hundred ways to talk on, none repeated in an episode.
OPENINGS = (
    "Honestly it took me ages to make up my mind,", "It just sort of happened,", "It's been a lot to take in,",
    "A friend talked me into it,", "I was nervous about it for weeks,", "It wasn't planned at all,",
    "My family was surprised at first,", "I'd been thinking about it for a long while,",
    "Every part of it is new to me,", "It's early days,", "I keep pinching myself,",
)
CLOSINGS = (
    "but I'm really glad I went for it.", "and it feels right so far.", "so we'll see how it goes.",
    "and everyone has been super supportive.", "but something finally clicked.", "which somehow made it better.",
    "so I'm trying to slow down and enjoy it.", "and I owe a few people a big thank you.",
    "but it turned out fine in the end.", "and I'll tell you more once the dust settles.",
)


def follow_up(rng: random.Random, other: str) -> str:
    """Someone asking the owner of a fact just stated to say more about it."""
    return rng.choice(FOLLOW_UPS).format(o=other)


def elaboration(rng: random.Random) -> str:
    """The owner of a fact talking on about it without restating it."""
    return f"{rng.choice(OPENINGS)} {rng.choice(CLOSINGS)}"
