"""A synthetic two-person chat benchmark the project owns: training data for the learned controller.

The agent-history generator (`synthetic.py`) states facts in one plain sentence each. Real
conversations do not: a fact is usually the *answer* to the other person's question ("Do you have
pets?" / "Yes, a beagle called Toast!"), the words of a later question sit in the asking turn rather
than the answer, facts come back across sessions, and most turns are chit-chat that reuses the same
topic words. An episode here is a long chat between two people in dated sessions, with questions
asked after it:

- single-hop: one fact, asked with varied wording ("What does Mira do for work?" / "What is Mira's job?")
- temporal: when something happened (the evidence turn's session date holds the answer)
- multi-hop: a fact spread over several turns in different sessions ("What sports has Mira tried?");
  every one of them is gold
- knowledge-update: a fact that changed (a move, a new job); the gold is only the latest statement

The speaker's name starts each stored turn ("Mira: ..."), as the LoCoMo loader stores them. Everything
is drawn from one `random.Random(f"{seed}:{episode}")`: same seed, same data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agentmem.episodes.episode import Dataset, Episode, Item, Turn
from agentmem.episodes.synthetic import _words
from agentmem.errors import InvalidInputError

NAMES = _words(
    "Mira Jonah Tessa Idris Noor Callum Ines Rafe Leona Tobias Priya Anders Selin Marco Yuki Dara Femi "
    "Hana Oskar Lucia Ravi Elif Bram Kenji Amara Nico Sanna Theo Zara Milo Ayla Emre Freya Joaquin Lior"
)
SIBLINGS = ("sister", "brother", "cousin", "best friend", "neighbour", "aunt")
KIN_NAMES = _words("Ruth Abel Cora Dev Etta Gus Ivy Jude Kai Lena Moss Nell Orla Pim Rhea Sol Tove Umi Vito Wren")
FILLER = (
    "That's amazing, {o}! I'm really happy for you.",
    "Wow, that sounds like so much fun.",
    "Haha, I totally get that. Life has been busy here too.",
    "Thanks for asking! Things have been pretty good overall.",
    "I know what you mean, some weeks just fly by.",
    "That's so thoughtful of you. How did it make you feel?",
    "I'm glad you shared that with me, {o}.",
    "Same here, I've been trying to take it one day at a time.",
    "Oh nice, you'll have to tell me more about it next time!",
    "Good luck with everything this week, {o}.",
    "It's been a while since we caught up properly.",
    "I hope you get some rest this weekend.",
    "That reminds me, I should really call my family more often.",
    "Totally, taking care of yourself is so important.",
    "I love hearing about your life, {o}.",
    "Anyway, how have you been since we last talked?",
)


@dataclass(frozen=True)
class Topic:
    """One kind of fact. `prompts`: the other person's asking turn (may be empty: stated unprompted);
    `statements`: the owner's turn, with {v}; `chatter`: turns that use the topic's words without the
    fact (hard distractors, said by either person); `questions`: wordings of the later question;
    `values`: what {v} can be; `temporal`: when-questions make sense; `update`: a later change
    ({old} -> {v}) is possible and `update_statements` say it."""

    name: str
    prompts: tuple[str, ...]
    statements: tuple[str, ...]
    chatter: tuple[str, ...]
    questions: tuple[str, ...]
    values: tuple[str, ...]
    temporal: tuple[str, ...] = ()
    update_statements: tuple[str, ...] = ()


def _t(*xs: str) -> tuple[str, ...]:
    return xs


TOPICS = (
    Topic(
        "job",
        _t("How's work going these days?", "What are you doing for work now, {p}?", "Any news on the job front?"),
        _t("I started a new job as a {v} last month and I'm loving it.", "Work is good! Being a {v} keeps me busy.",
           "I finally got hired as a {v}, after months of applying."),
        _t("Work has been so hectic lately.", "My boss asked everyone to stay late again.",
           "I've been thinking about changing careers someday."),
        _t("What is {p}'s job?", "What does {p} do for a living?", "What profession did {p} take up?"),
        _t("nurse", "high school teacher", "graphic designer", "software engineer", "pastry chef", "accountant",
           "wedding photographer", "electrician", "librarian", "pharmacist", "park ranger", "translator"),
        update_statements=_t("Big news: I quit being a {old} and now I work as a {v}.",
                             "I left my {old} job, I'm a {v} now!"),
    ),
    Topic(
        "pet",
        _t("Do you have any pets, {p}?", "How is your little furry friend doing?"),
        _t("Yes! I have a {v} named {k}, they're the sweetest.", "We adopted a {v} called {k} from the shelter."),
        _t("I've always wanted a pet but my landlord says no.", "Animals make everything better, honestly.",
           "My neighbour's dog barked all night again."),
        _t("What pet does {p} have?", "What is the name of {p}'s pet?", "What kind of animal did {p} adopt?"),
        _t("beagle", "tabby cat", "parrot", "rabbit", "golden retriever", "tortoise", "hamster", "border collie"),
    ),
    Topic(
        "instrument",
        _t("Are you still making music?", "Have you picked up any new hobbies, {p}?"),
        _t("I've been learning to play the {v}, practising every evening.", "I joined a band, I play the {v} now!"),
        _t("Music really helps me unwind after a long day.", "I went to a concert downtown, the band was great."),
        _t("What instrument does {p} play?", "What instrument is {p} learning?", "What does {p} play in the band?"),
        _t("violin", "cello", "drums", "bass guitar", "piano", "saxophone", "ukulele", "flute"),
    ),
    Topic(
        "trip",
        _t("Did you do anything fun recently?", "How was your weekend, {p}?", "Been anywhere nice lately?"),
        _t("I just got back from {v}, the views were incredible.", "We spent a few days in {v}, it was so relaxing.",
           "Last weekend I finally visited {v} with my family."),
        _t("I really need a vacation soon.", "Travelling always recharges me.", "The airport was such a mess."),
        _t("Where did {p} travel recently?", "Which place did {p} visit?", "Where did {p} go on holiday?"),
        _t("Lisbon", "the Rocky Mountains", "Kyoto", "the Amalfi coast", "Iceland", "a lake cabin in Maine",
           "Marrakesh", "the Scottish Highlands", "Vancouver Island", "a beach in Crete"),
        temporal=_t("When did {p} visit {v}?", "When did {p} go to {v}?"),
    ),
    Topic(
        "event",
        _t("What have you been up to, {p}?", "Anything exciting happen this week?"),
        _t("I {v} yesterday, I'm still buzzing about it.", "Guess what, I {v} on Saturday!",
           "So I {v} last week, it was a big step for me."),
        _t("I've been meaning to try something new.", "This week felt like a turning point somehow.",
           "I signed up for so many things, I need a break."),
        _t("What did {p} do recently?", "What milestone did {p} share?"),
        _t("ran my first half marathon", "gave a talk at a community meetup", "volunteered at the food bank",
           "passed my driving test", "went to a pottery workshop", "joined a support group",
           "painted a mural at the school", "went camping with the kids", "hosted a charity bake sale",
           "started a mentoring programme", "took a salsa class", "adopted a vegetarian diet"),
        temporal=_t("When did {p} {w}?", "When was it that {p} {w}?"),
    ),
    Topic(
        "book",
        _t("Read anything good lately?", "Any book recommendations, {p}?"),
        _t("I'm halfway through '{v}' and I can't put it down.", "You have to read '{v}', it changed how I think."),
        _t("I haven't had time to read in ages.", "My book club meets on Thursdays."),
        _t("What book did {p} recommend?", "What is {p} reading?", "Which book does {p} love?"),
        _t("The Quiet Orchard", "Salt and Stone", "A Map of Small Hours", "The Glass Lighthouse", "North of Maybe",
           "Letters to the River", "The Weaver's Daughter", "Paper Comets"),
    ),
    Topic(
        "family",
        _t("How's your family doing?", "How are things at home, {p}?"),
        _t("My {v} {k} just moved in with us for a while.", "My {v} {k} had a baby last week, I'm an auntie again!",
           "I spent the day helping my {v} {k} paint their flat."),
        _t("Family can be a lot sometimes, but I love them.", "We had a big family dinner on Sunday."),
        _t("Who is {k}?", "What is the name of {p}'s {v}?", "Which relative did {p} mention?"),
        SIBLINGS,
    ),
    Topic(
        "home",
        _t("Are you still living in the same place?", "How's the new neighbourhood?"),
        _t("We finally moved to {v}, the apartment is tiny but cosy.", "I live in {v} now, close to my work."),
        _t("Moving is exhausting, I hate packing.", "Rent keeps going up everywhere."),
        _t("Where does {p} live?", "Which city does {p} live in now?", "Where did {p} move to?"),
        _t("Denver", "Portland", "Austin", "Chicago", "Boston", "Seattle", "Toronto", "Atlanta", "Phoenix", "Dublin"),
        update_statements=_t("We moved again! We left {old} and now live in {v}.",
                             "Update: I'm not in {old} anymore, we moved to {v}."),
    ),
)
REACTIONS = {  # the other person's reply to a fact, {v} the value, {o} the fact's owner
    "job": ("Congrats, {o}! How are you finding the new work?", "A {v}? That suits you so well!",
            "Your job sounds demanding but rewarding."),
    "pet": ("Aww, I love that! Send me pictures of your pet.", "A {v}! They must keep you busy.",
            "Pets really are the best company."),
    "instrument": ("That's awesome, music is such a good outlet!", "The {v}? I'd love to hear you play sometime."),
    "trip": ("That sounds like a dream trip, {o}!", "I've always wanted to go to {v}!", "Travel is so good for the soul."),
    "event": ("That's a big deal, {o}, I'm proud of you!", "Wow, how did it go?", "What made you decide to do that?"),
    "book": ("Ooh, I'll add it to my reading list.", "I love a good book recommendation!"),
    "family": ("Family is everything. Say hi from me!", "That's lovely news about your {v}."),
    "home": ("How do you like living in {v}?", "A new place is such a fresh start!", "Moving is a lot, well done."),
}
SPORTS = ("rock climbing", "kayaking", "yoga", "tennis", "swimming", "archery", "cycling", "surfing", "boxing")
MULTI = (
    ("I tried {v} for the first time today, my arms are sore!", "What sports has {p} tried?"),
    ("The kids and I went {v} together this morning.", "What activities has {p} done with the kids?"),
)
CATEGORIES = ("single-hop", "temporal", "multi-hop", "knowledge-update")


@dataclass
class DialogueConfig:
    """episodes: chats; sessions: per chat; session_turns: mean turns per session (facts, each an
    exchange of question, answer and reaction, are spread over the sessions; the rest is small talk)."""

    episodes: int = 20
    sessions: int = 12
    session_turns: int = 24
    seed: int = 0
    start: datetime = field(default_factory=lambda: datetime(2023, 3, 6, 18, 0))


def _episode(config: DialogueConfig, e: int) -> Episode:
    rng = random.Random(f"{config.seed}:{e}")
    a, b = rng.sample(NAMES, 2)
    turns: list[Turn] = []
    items: list[Item] = []
    facts: dict[tuple[str, str], tuple[str, str]] = {}  # (person, topic) -> (value, turn id) of the latest
    multi: dict[tuple[str, int], list[tuple[str, str]]] = {}  # (person, which) -> [(value, turn id)]
    when = config.start
    eid = f"d{config.seed}-{e}"

    def say(who: str, text: str, session: int, at: datetime, supersedes: str | None = None) -> str:
        tid = f"{eid}:D{session}:{len(turns) + 1}"
        turns.append(Turn(id=tid, session=f"S{session}", text=f"{who}: {text}", speaker=who, time=at,
                          supersedes=supersedes))
        return tid

    def ask(category: str, question: str, answer: str, evidence: list[str], session_of: dict[str, str]) -> None:
        items.append(Item(id=f"{eid}:q{len(items)}", question=question, answer=answer, category=category,
                          evidence=tuple(evidence), sessions=tuple(dict.fromkeys(session_of[x] for x in evidence))))

    # The chat's facts, spread evenly over its sessions (a generator that states facts until it runs
    # out front-loads them, and then "older" means "more likely asked about"): every topic once per
    # person, a changeable one changed up to twice later, and a few activities in a series.
    plan: list[list[tuple[str, Topic | int]]] = [[] for _ in range(config.sessions)]
    for person in (a, b):
        for topic in TOPICS:
            first = rng.randrange(config.sessions)
            plan[first].append((person, topic))
            for _ in range(rng.randrange(3) if topic.update_statements else 0):
                plan[rng.randrange(first, config.sessions)].append((person, topic))
        for which in range(len(MULTI)):
            for _ in range(rng.randrange(4)):
                plan[rng.randrange(config.sessions)].append((person, which))

    for s in range(1, config.sessions + 1):
        when += timedelta(days=rng.randrange(3, 20), hours=rng.randrange(-3, 4))
        todo = plan[s - 1]
        n = max(len(todo) + 2, int(rng.gauss(config.session_turns, config.session_turns / 4)))
        at = set(rng.sample(range(n), len(todo)))
        speaker = rng.choice((a, b))
        for i in range(n):
            if i not in at:  # small talk, half of it in some topic's words
                other = b if speaker == a else a
                text = rng.choice(rng.choice(TOPICS).chatter) if rng.random() < 0.5 else rng.choice(FILLER)
                say(speaker, text.format(o=other), s, when)
                speaker = other
                continue
            owner, what = todo.pop(0)
            other = b if owner == a else a
            if isinstance(what, int):  # an activity in a series
                value = rng.choice(SPORTS)
                multi.setdefault((owner, what), []).append((value, say(owner, MULTI[what][0].format(v=value), s, when)))
                speaker = other
                continue
            topic = what
            old = facts.get((owner, topic.name))
            value = rng.choice([v for v in topic.values if not old or v != old[0]])
            kin = rng.choice(KIN_NAMES)
            if rng.random() < 0.7 and topic.prompts:  # asked by the other person, answered next
                say(other, rng.choice(topic.prompts).format(p=owner), s, when)
            if old:
                text = rng.choice(topic.update_statements).format(v=value, old=old[0])
            else:
                text = rng.choice(topic.statements).format(v=value, k=kin)
            tid = say(owner, text, s, when, supersedes=old[1] if old else None)
            speaker = other
            if rng.random() < 0.6:  # the other person reacts, often in the topic's words
                say(other, rng.choice(REACTIONS[topic.name]).format(v=value, o=owner), s, when)
                speaker = owner
            facts[(owner, topic.name)] = (value, tid)
            facts[(owner, topic.name + ":kin")] = (kin, tid)
            if old:
                facts[(owner, topic.name + ":updated")] = (value, tid)

    session_of = {t.id: t.session for t in turns}
    date_of = {t.id: t.time for t in turns}
    by_name = {t.name: t for t in TOPICS}
    for (person, key), (value, tid) in facts.items():
        name, _, tag = key.partition(":")
        topic = by_name[name]
        if tag == "kin" or (tag == "" and (person, name + ":updated") in facts):
            continue
        q = rng.choice(topic.questions)
        if tag == "updated":
            ask("knowledge-update", q.format(p=person, v=value, k=facts[(person, name + ":kin")][0]), value,
                [tid], session_of)
            continue
        kin = facts[(person, name + ":kin")][0]
        ask("single-hop", q.format(p=person, v=value, k=kin), value, [tid], session_of)
        if topic.temporal:
            w = value.replace("my ", "their ")
            ask("temporal", rng.choice(topic.temporal).format(p=person, v=value, w=w),
                date_of[tid].strftime("%d %B %Y"), [tid], session_of)
    for (person, which), done in multi.items():
        if len(done) >= 2:
            ask("multi-hop", MULTI[which][1].format(p=person), ", ".join(v for v, _ in done), [t for _, t in done],
                session_of)
    return Episode(id=eid, turns=turns, items=items)


def generate_dialogue(config: DialogueConfig | None = None) -> Dataset:
    """Materialise every chat (turns and questions) of the dialogue benchmark."""
    config = config or DialogueConfig()
    if config.episodes < 1 or config.sessions < 1:
        raise InvalidInputError(f"dialogue needs at least one episode and one session, got {config.episodes} "
                                f"episodes of {config.sessions} sessions; give counts of 1 or more")
    return Dataset(name="dialogue", episodes=[_episode(config, e) for e in range(config.episodes)])
