"""Conversations of many shapes, with known gold evidence: training and validation data for the controller.

The two older generators write one shape each (`dialogue`: a strictly alternating two-person chat whose
questions always name the speaker; `synthetic`: one-sentence agent notes), and a controller trained on
one shape learns that shape's habits instead of how memory works. Real chats differ along many axes at
once, so each shape here imitates one of them (an episode mixes in others at low rates):

- `bursts`: texting rhythm. One person sends 2-5 messages in a row and the fact is split over the burst
  ("omg guess what" / "I got the job!!" / "gonna be a nurse"); gold is every part that carries meaning.
- `multiparty`: a group chat of 3-5 people; everyone states facts of the same kinds, so the same fact
  template about another person is the hardest distractor.
- `aliases`: people go by nicknames and name variants (Katherine Wu / Kate / Katie / K); speaker labels
  differ from how questions name them, relatives turn into "my sis", and a question about the sister
  needs the turn that names her too.
- `smalltalk`: greetings, "haha yes", emojis, with facts buried in between; many small-talk turns carry
  change words ("I'm at work now lol") that are not updates.
- `dates`: events told with relative and absolute dates in many formats ("last Tuesday", "two weeks
  ago", "on 3/14", "14.03.2024", "March 14th", "in May 2023"); questions ask what happened on a date,
  what someone did last weekend (asked mid-episode, `Item.at`), or when something happened.
- `sessions_apart`: sessions days to months apart; later sessions call back to earlier ones
  ("remember the trip I told you about?"), so one answer needs turns from two sessions.
- `toollog`: an agent's tool log (search results, bookings, confirmations) with facts about the user
  scattered among tool outputs that list near-miss alternatives.
- `assistant`: LongMemEval's shape: a user asks an assistant for help, mentions personal facts in
  passing, gets long answers; questions in the first person, knowledge updates and date arithmetic.
  Some sessions are talk instead (`ShapesConfig.talk`): the user tells the assistant about their life
  and gets short replies, which often name what was talked about.
- `updates`: facts that change (moves, jobs, partners, a pet that died); `Turn.supersedes` names the turn
  of the old fact and the knowledge-update question's gold is only the latest statement.
- `multihop`: questions that need 2-4 turns (all gold): lists spread over sessions, the owner of a pet,
  trips after a job change, news about a relative named elsewhere.
- `unnamed`: questions that name nobody ("What instrument am I learning?", "Where did we decide to go
  for our anniversary?", "What's the name of the dog?").

Between the facts, a chat talks about other things as real chats do (`chatter`): habits, opinions,
plans, the neighbourhood, moods, childhood memories, each said once in an episode and several content
words long, with the shape's own share of greetings, bare reactions and change-word small talk; a
fact is often asked about and talked over by its owner without restating it, and its statement often
goes on in the same turn. Templated two-word small talk would teach the read that a distractor is
short and repeated; real chats do not bear that out (`benchmarks/turn_statistics.py`).

In every shape, a share of the questions (`ShapesConfig.echo`) repeats a distinctive word of its
evidence ("Re pottery: What did Mira take up?"): whoever asks about a conversation remembers it in its
own words. Without it a question shares a content word with its evidence about half the time, against
about four times in five in LoCoMo, and a read trained on such questions learns to trust word matches
less than real questions deserve.

`HELD_OUT` names the three shapes training never sees. They are the ones whose trait no other shape
teaches: `multiparty` (more than two speakers), `aliases` (names in questions that are not the speaker
labels) and `toollog` (structured tool output rather than conversation). A controller that scores well
on them after training on the rest has learnt retrieval, not the training shapes' surface.

Gold is exact: a question's evidence is the turns that state its answer, and no other turn states it
(facts about other people use other values or other subjects; reactions never repeat a value). Turn
texts start with the speaker ("Mira: ...", "user: ...") as the LoCoMo and LongMemEval loaders store
them. Everything in an episode is drawn from `random.Random(f"{seed}:{shape}:{episode}")`: same seed,
same data, whatever else is generated.
"""

from __future__ import annotations

import json
import random
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from agentmem.episodes import chatter
from agentmem.episodes.dialogue import KIN_NAMES, NAMES
from agentmem.episodes.episode import Dataset, Episode, Item, Turn
from agentmem.episodes.synthetic import ATTRIBUTES, FIRST, LAST
from agentmem.errors import InvalidInputError
from agentmem.text import content_words, substance

SHAPES = (
    "bursts", "multiparty", "aliases", "smalltalk", "dates", "sessions_apart", "toollog", "assistant",
    "updates", "multihop", "unnamed",
)
HELD_OUT = ("multiparty", "aliases", "toollog")
TRAINING_SHAPES = tuple(s for s in SHAPES if s not in HELD_OUT)
CATEGORIES = ("single-hop", "multi-hop", "temporal", "open-domain", "knowledge-update")


def _t(*xs: str) -> tuple[str, ...]:
    return xs


# ---------------------------------------------------------------------------------------------------
# Vocabulary. Question templates use {p} (the person as subject: a name, "I", "my friend", "the user"),
# {ps} (possessive), and {does}/{is}/{has} conjugated for {p}, so one template serves named and unnamed
# questions. {v} is a fact's value, {x} the value's extra (a job's field, a city's country).
# ---------------------------------------------------------------------------------------------------

PET_NAMES = _t("Toast", "Biscuit", "Mochi", "Pepper", "Olive", "Noodle", "Ziggy", "Maple", "Pickles", "Luna",
               "Bean", "Waffles", "Clementine", "Juniper", "Pixel", "Nacho", "Sprout", "Tofu", "Marble", "Cosmo",
               "Pretzel", "Dumpling", "Figaro", "Tinsel")
PARTNERS = _t("Marcus", "Elena", "Jordan", "Priyanka", "Tomasz", "Aisha", "Diego", "Fiona", "Kwame", "Leila",
              "Rowan", "Yusra", "Mateus", "Ingrid", "Caleb", "Noemi", "Hamish", "Solveig")
MORE_KIN = _t("Beatrix", "Cyrus", "Dolores", "Ezra", "Flora", "Gideon", "Hattie", "Ignatius", "Juno", "Linus",
              "Marigold", "Otis", "Perpetua", "Quentin", "Rosalind", "Silas")
_RESERVED = set(PET_NAMES) | set(PARTNERS) | set(KIN_NAMES) | set(MORE_KIN)
PEOPLE = tuple(dict.fromkeys(n for n in NAMES + FIRST if n not in _RESERVED))
KIN_POOL = tuple(dict.fromkeys(n for n in KIN_NAMES + MORE_KIN if n not in PEOPLE))
# A first name and the variants friends use; no variant is another entry's name or variant.
ALIASES = (
    ("Katherine", _t("Kate", "Katie", "Kat")), ("Alexander", _t("Alex", "Xander")),
    ("Elizabeth", _t("Liz", "Lizzie", "Beth")), ("Jonathan", _t("Jon", "Jonny")),
    ("Margaret", _t("Maggie", "Meg", "Peggy")), ("William", _t("Will", "Billy", "Liam")),
    ("Rebecca", _t("Becca", "Becky", "Bex")), ("Nicholas", _t("Nick", "Nicky")),
    ("Victoria", _t("Vicky", "Tori")), ("Christopher", _t("Chris", "Topher", "Kit")),
    ("Samantha", _t("Sam", "Sammy")), ("Benjamin", _t("Ben", "Benji")), ("Josephine", _t("Jo", "Josie")),
    ("Theodore", _t("Teddy", "Ted")), ("Isabella", _t("Bella", "Izzy")), ("Gabriel", _t("Gabe", "Gabby")),
    ("Oluwaseun", _t("Seun", "Shay")), ("Anastasia", _t("Stasia", "Nastya")), ("Eleanor", _t("Ellie", "Nora")),
    ("Matthew", _t("Matt", "Matty")), ("Penelope", _t("Penny", "Pen")), ("Robert", _t("Rob", "Bobby", "Bert")),
    ("Dorothy", _t("Dot", "Dottie")), ("Francesca", _t("Fran", "Frankie", "Cesca")),
    ("Guillermo", _t("Memo", "Guille")), ("Xiaoling", _t("Ling", "Lingling")), ("Siobhan", _t("Shiv", "Vonnie")),
    ("Abdullah", _t("Abdi", "Dullah")), ("Montserrat", _t("Montse", "Montsi")), ("Frederick", _t("Fred", "Freddie")),
)

JOBS = (("nurse", "healthcare"), ("pastry chef", "hospitality"), ("software engineer", "tech"),
        ("high school teacher", "education"), ("accountant", "finance"), ("electrician", "construction"),
        ("pharmacist", "healthcare"), ("park ranger", "conservation"), ("translator", "languages"),
        ("graphic designer", "design"), ("wedding photographer", "photography"), ("paramedic", "healthcare"),
        ("data analyst", "tech"), ("carpenter", "construction"), ("barista", "hospitality"),
        ("journalist", "media"), ("social worker", "social care"), ("veterinary nurse", "animal care"),
        ("civil engineer", "engineering"), ("dental hygienist", "healthcare"), ("tour guide", "tourism"),
        ("bank teller", "finance"), ("museum curator", "the arts"), ("air traffic controller", "aviation"))
CITIES = (("Denver", "the US", "DEN"), ("Austin", "the US", "AUS"), ("Portland", "the US", "PDX"),
          ("Toronto", "Canada", "YYZ"), ("Dublin", "Ireland", "DUB"), ("Lisbon", "Portugal", "LIS"),
          ("Porto", "Portugal", "OPO"), ("Melbourne", "Australia", "MEL"), ("Leeds", "the UK", "LBA"),
          ("Glasgow", "the UK", "GLA"), ("Lyon", "France", "LYS"), ("Munich", "Germany", "MUC"),
          ("Rotterdam", "the Netherlands", "RTM"), ("Valencia", "Spain", "VLC"), ("Osaka", "Japan", "KIX"),
          ("Auckland", "New Zealand", "AKL"), ("Cape Town", "South Africa", "CPT"), ("Montreal", "Canada", "YUL"),
          ("Chicago", "the US", "ORD"), ("Seattle", "the US", "SEA"), ("Boston", "the US", "BOS"),
          ("Krakow", "Poland", "KRK"), ("Gothenburg", "Sweden", "GOT"), ("Bologna", "Italy", "BLQ"))
PLACES = (("Kyoto", "Japan"), ("the Amalfi coast", "Italy"), ("Reykjavik", "Iceland"), ("Marrakesh", "Morocco"),
          ("the Scottish Highlands", "Scotland"), ("Vancouver Island", "Canada"), ("Crete", "Greece"),
          ("Banff", "Canada"), ("Cusco", "Peru"), ("Hanoi", "Vietnam"), ("Tasmania", "Australia"),
          ("the Dolomites", "Italy"), ("Seville", "Spain"), ("Bali", "Indonesia"), ("Prague", "Czechia"),
          ("Yellowstone", "the US"), ("Istanbul", "Turkey"), ("the Lofoten islands", "Norway"),
          ("Cape Cod", "the US"), ("Oaxaca", "Mexico"), ("Zanzibar", "Tanzania"), ("Tbilisi", "Georgia"))
SPECIES = (("beagle", "dog"), ("tabby cat", "cat"), ("parrot", "bird"), ("rabbit", "rabbit"),
           ("golden retriever", "dog"), ("tortoise", "tortoise"), ("hamster", "hamster"), ("border collie", "dog"),
           ("corgi", "dog"), ("gecko", "lizard"), ("guinea pig", "guinea pig"), ("ferret", "ferret"),
           ("cockatiel", "bird"), ("Siamese cat", "cat"), ("axolotl", "axolotl"))
INSTRUMENTS = _t("violin", "cello", "drums", "bass guitar", "piano", "saxophone", "ukulele", "flute", "banjo",
                 "trumpet", "harp", "accordion", "mandolin", "clarinet")
FOODS = _t("ramen", "tacos al pastor", "injera with lentil stew", "dim sum", "paella", "pho", "khachapuri",
           "Sichuan hotpot", "shakshuka", "biryani", "pierogi", "ceviche", "jollof rice", "bibimbap")
ALLERGENS = (("peanuts", "food"), ("shellfish", "food"), ("penicillin", ""), ("pollen", ""), ("latex", ""),
             ("sesame", "food"), ("bee stings", ""), ("dairy", "food"), ("kiwi fruit", "food"), ("dust mites", ""))
VEHICLES = _t("used Subaru Outback", "red Vespa", "cargo bike", "Mazda hatchback", "electric scooter",
              "vintage VW Beetle", "Honda Civic", "Kia EV6", "touring motorbike", "Volvo estate",
              "Toyota camper van", "folding bike")
COURSES = _t("Spanish", "ceramics", "web design", "photography", "first aid", "bookkeeping", "sign language",
             "Italian cooking", "creative writing", "woodworking", "Mandarin", "life drawing")
SHOWS = _t("Salt and Stone", "The Glass Lighthouse", "North of Maybe", "Paper Comets", "Harbour Lights",
           "Midnight Ledger", "Copper Hollow", "The Last Ferry", "Static Bloom", "Orchard Street")
BOOKS = _t("A Map of Small Hours", "Letters to the River", "The Weaver's Daughter", "Ink and Ember",
           "Seven Quiet Winters", "Tidewater", "The Lantern Year", "Borrowed Light", "Field Notes on Leaving",
           "The Cartographer's Cat")
SPORTS = _t("rock climbing", "kayaking", "yoga", "tennis", "open-water swimming", "archery", "road cycling",
            "surfing", "boxing", "bouldering", "pickleball", "fencing", "rowing", "trail running")
RESTAURANTS = _t("Osteria Lumi", "The Copper Pot", "Saffron House", "Nori Bar", "Casa Verde", "Little Lisbon",
                 "The Fig Tree", "Bao Brothers", "Maison Clair", "Ember & Oak")
FILMS = _t("The Long Weekend", "Paper Moon Rising", "Glasshouse", "A Quiet Heist", "Starling", "Northbound",
           "The Velvet Hour")
COLOURS = _t("sage green", "navy blue", "terracotta", "warm white", "mustard yellow", "dusty pink", "charcoal")
TRAILS = _t("the Eagle Ridge loop", "the Cedar Falls trail", "the Lakeshore path", "Foxglove Hill",
            "the Old Quarry walk", "the Heron Creek trail")
GIFTS = _t("a lemon tree", "a cheese board", "a record player", "an olive oil set", "a hammock", "a fondue set")
COMPANIES = ATTRIBUTES["employer"][0]
NEIGHBOURHOODS = _t("Riverside", "Old Town", "the Harbour district", "Hillcrest", "Northgate", "Millbrook",
                    "the Arts Quarter", "Elm Park")
RACES = _t("Riverside 10K", "city half marathon", "Harbour Bridge run", "Midsummer 5K", "Hilltop trail race")


@dataclass(frozen=True)
class Topic:
    """One kind of fact about a person.

    say: the owner's statement ({v}, {k} a name); ask: questions about it; ask_now: questions about its
    latest value (knowledge updates); prompt: someone asking the owner ({o} how they call the owner);
    chatter: turns in the topic's words that state nothing (hard distractors); burst: (part without
    the value, part with it): a leading "~" marks a part that carries no meaning and is not gold;
    update: the owner's change statement ({old} -> {v}); infer: (question, answer, needed extra):
    open-domain questions answered with world knowledge; third: the same words about someone else.
    """

    key: str
    values: tuple[str, ...]
    extras: tuple[str, ...]
    say: tuple[str, ...]
    ask: tuple[str, ...]
    prompt: tuple[str, ...]
    chatter: tuple[str, ...]
    burst: tuple[tuple[str, str], ...]
    update: tuple[str, ...] = ()
    ask_now: tuple[str, ...] = ()
    infer: tuple[tuple[str, str, str], ...] = ()
    third: tuple[str, ...] = ()


TOPICS = (
    Topic(
        "job", tuple(j for j, _ in JOBS), tuple(f for _, f in JOBS),
        _t("I started a new job as a {v} last month and honestly I love it.", "Work's good! Being a {v} keeps me on my toes.",
           "I finally got hired as a {v} after months of applying.", "I've been working as a {v} for a while, it pays the bills.",
           "Did I tell you I'm a {v}? Long shifts but worth it."),
        _t("What does {p} do for a living?", "What is {ps} profession?", "What line of work {is} {p} in?",
           "How {does} {p} earn a living?", "What's {ps} occupation?", "What kind of work {does} {p} do?"),
        _t("How's work going, {o}?", "What are you doing for work these days?", "Any news on the job front, {o}?"),
        _t("Work has been so hectic lately.", "My boss asked everyone to stay late again.",
           "Thinking about a career change someday tbh.", "Mondays at work are the worst.",
           "Our team lunch was actually fun today.", "Meetings all day, my brain is fried."),
        (("I got the job!!!", "gonna be a {v} 😭"), ("~they called me back", "I'm officially a {v}!!"),
         ("signed the contract today", "as a {v}, can you believe it")),
        update=_t("Big news: I quit being a {old}, I'm a {v} now!", "I left the {old} job. Starting as a {v} next week.",
                  "Career change! No more {old} life, I'm working as a {v}.",
                  "So I'm not a {old} anymore, I switched to being a {v}."),
        ask_now=_t("What {does} {p} do for work these days?", "What is {ps} current job?", "What job {does} {p} have now?"),
        infer=(("What field {does} {p} work in?", "{x}", ""), ("Which industry {is} {p} employed in?", "{x}", "")),
        third=_t("My roommate just got hired as a {v}.", "My cousin is a {v}, she says it's exhausting.",
                 "I met a {v} at the party, super interesting job."),
    ),
    Topic(
        "home", tuple(c for c, _, _ in CITIES), tuple(k for _, k, _ in CITIES),
        _t("We moved to {v} in the spring, the apartment is tiny but cosy.", "I live in {v} these days, close to work.",
           "Life in {v} is treating me well.", "I'm renting a little flat in {v}."),
        _t("Where {does} {p} live?", "Which city {is} {p} based in?", "What city {does} {p} call home?"),
        _t("Are you still in the same place, {o}?", "How's the neighbourhood?", "Where are you living these days?"),
        _t("Moving is exhausting, I hate packing.", "Rent keeps going up everywhere.",
           "Our landlord finally fixed the heating.", "The city is so loud at night."),
        (("we signed the lease!!", "{v} here we come"), ("~ok it's official", "we're moving to {v}"),
         ("~got the keys today", "new flat in {v} 🏠")),
        update=_t("We moved again! Left {old}, now living in {v}.", "Update: I'm not in {old} anymore, we relocated to {v}.",
                  "Said goodbye to {old} last week, {v} is home now."),
        ask_now=_t("Where {does} {p} live now?", "Which city {is} {p} living in at the moment?", "What's {ps} current city?"),
        infer=(("Which country {does} {p} live in?", "{x}", ""),),
        third=_t("My parents live in {v}, I visit them every summer.", "My old roommate just moved to {v}."),
    ),
    Topic(
        "partner", PARTNERS, (),
        _t("I've been seeing someone, {v}, we met at a friend's barbecue.", "{v} and I have been together a few months.",
           "My partner {v} is taking me out for dinner tonight.", "I'm dating this lovely person called {v}."),
        _t("Who {is} {p} dating?", "What is the name of {ps} partner?", "Who is {ps} significant other?",
           "Who {is} {p} in a relationship with?"),
        _t("How's your love life, {o}? 👀", "Seeing anyone?", "How are things on the dating front?"),
        _t("Dating apps are exhausting honestly.", "Date nights are so hard to schedule.",
           "My friends keep trying to set me up lol.", "Valentine's day is so overrated."),
        (("so I met someone", "{v} 🥰"), ("ok I'm officially taken", "{v} asked me out properly")),
        update=_t("{old} and I broke up 💔 but I've started seeing {v}.", "Things ended with {old}. I'm with {v} now and it's good.",
                  "Not with {old} anymore... {v} and I got together last month."),
        ask_now=_t("Who {is} {p} with now?", "Who is {ps} current partner?", "Who {is} {p} seeing these days?"),
    ),
    Topic(
        "instrument", INSTRUMENTS, (),
        _t("I've been learning to play the {v}, practising every evening.", "I joined a community band, I play the {v}!",
           "Picked up the {v} again after years, my fingers hurt lol.", "Took my first {v} lesson this week."),
        _t("What instrument {is} {p} learning to play?", "What musical instrument {has} {p} taken up?",
           "Which instrument {does} {p} play?"),
        _t("Are you still making music, {o}?", "Picked up any new hobbies?", "What do you do to unwind these days?"),
        _t("Music really helps me unwind after a long day.", "I went to a concert downtown, the band was great.",
           "My neighbour practises scales at 7am, send help.", "I wish I'd kept up music lessons as a kid."),
        (("started lessons!!", "{v} 🎶"), ("~my hands hurt so much", "learning the {v} is no joke")),
        update=_t("Gave up on the {old}, I'm learning the {v} now.", "Switched from the {old} to the {v}, way more fun."),
        ask_now=_t("What instrument {is} {p} learning now?", "Which instrument {does} {p} play these days?"),
        infer=(("{Does} {p} have a musical hobby?", "yes, the {v}", ""),),
        third=_t("My brother plays the {v} in a jazz trio.",),
    ),
    Topic(
        "food", FOODS, (),
        _t("I'm obsessed with {v} lately, I could eat it every day.", "My ultimate comfort food is {v}, no contest.",
           "Found a place that does amazing {v}, I go every week."),
        _t("What is {ps} favourite food?", "What dish {does} {p} crave the most?", "Which food {is} {p} obsessed with?"),
        _t("What have you been eating lately, {o}?", "Any food recommendations?"),
        _t("I need to cook more instead of ordering in.", "Grocery prices are wild right now.",
           "I tried meal prepping, it lasted two days lol.", "Brunch this weekend?"),
        (("found the best spot", "their {v} is unreal"), ("I'm addicted", "{v} every day this week 😅")),
        update=_t("Not into {old} anymore, it's all about {v} now.", "I'm so over {old}, now it's all {v} for me."),
        ask_now=_t("What food {is} {p} into these days?", "What is {ps} favourite food now?"),
        third=_t("My flatmate makes great {v}, I keep stealing some.",),
    ),
    Topic(
        "allergy", tuple(a for a, _ in ALLERGENS), tuple(k for _, k in ALLERGENS),
        _t("Turns out I'm allergic to {v}, the doctor confirmed it.", "I have to be careful, I'm allergic to {v}.",
           "Got my test results: {v}. Allergic. Great."),
        _t("What {is} {p} allergic to?", "What allergy {does} {p} have?", "Which allergen {does} {p} need to avoid?"),
        _t("How did the doctor's visit go, {o}?", "Are you feeling better?"),
        _t("Allergy season is brutal this year.", "I sneezed through the whole meeting.",
           "The pharmacy queue was ridiculous today."),
        (("got my allergy results", "{v} 🙃"), ("~so that rash thing", "I'm allergic to {v} apparently")),
        infer=(("What food should {p} stay away from?", "{v}", "food"),),
        third=_t("My colleague is allergic to {v}, lunch orders are a nightmare.",),
    ),
    Topic(
        "vehicle", VEHICLES, (),
        _t("I finally bought a {v}, it's perfect for weekend trips.", "Just picked up my {v} from the dealer!",
           "Getting around on my {v} is the best."),
        _t("What {does} {p} drive?", "What vehicle {does} {p} own?", "What did {p} buy to get around?"),
        _t("How's the commute, {o}?", "Still taking the bus everywhere?"),
        _t("Traffic this morning was unbearable.", "Petrol prices are ridiculous.", "My bike tyre went flat again.",
           "Parking downtown is impossible."),
        (("~I did it", "bought a {v} 🚗"), ("look at my new baby", "a {v}!!")),
        update=_t("Sold the {old}, I've got a {v} now.", "Traded in my {old} for a {v}.", "Goodbye {old}, hello {v}!"),
        ask_now=_t("What {does} {p} get around in these days?", "What vehicle {does} {p} have now?"),
        third=_t("My dad bought a {v}, he won't stop talking about it.",),
    ),
    Topic(
        "course", COURSES, (),
        _t("I signed up for a {v} course at the community college.", "My {v} class on Thursdays is the highlight of my week.",
           "Started an evening course in {v}, homework again lol."),
        _t("What class {is} {p} taking?", "What {is} {p} studying in the evenings?", "Which course did {p} enrol in?"),
        _t("How are you filling your evenings, {o}?", "Learning anything new?"),
        _t("I should really learn something new this year.", "Night classes are so tiring after work.",
           "My notebook is full of doodles from class lol."),
        (("enrolled!!", "{v} course starts next week"), ("back to school lol", "{v} on Thursdays")),
        update=_t("Dropped the {old} course, I'm doing {v} instead.", "Switched classes: no more {old}, it's {v} now."),
        ask_now=_t("What class {is} {p} taking now?", "Which course {is} {p} enrolled in at the moment?"),
    ),
    Topic(
        "show", SHOWS, (),
        _t("I'm binge-watching '{v}', it's so good.", "Have you seen '{v}'? I'm hooked.",
           "Stayed up till 2am watching '{v}' again."),
        _t("What show {is} {p} hooked on?", "Which series {has} {p} been binge-watching?", "What TV series {does} {p} love?"),
        _t("Watching anything good, {o}?", "Any show recommendations?"),
        _t("There's nothing good on TV anymore.", "I fell asleep ten minutes into the movie lol.",
           "Streaming subscriptions add up so fast."),
        (("ok I need to talk about this show", "'{v}'. just watch it."), ("~2am and still awake", "'{v}' is ruining my sleep")),
        update=_t("Done with '{old}', now I'm hooked on '{v}'.", "Gave up on '{old}', '{v}' is way better."),
        ask_now=_t("What show {is} {p} into now?", "Which series {is} {p} watching these days?"),
    ),
)
ATTRS = {t.key: t for t in TOPICS}

# Collections: a person can state several values, each in its own turn; list questions need all of them.
COLLECTIONS = (
    Topic(
        "pets", tuple(s for s, _ in SPECIES), tuple(k for _, k in SPECIES),
        _t("We adopted a {v} named {k} from the shelter!", "Meet {k}, my new {v}, a total troublemaker.",
           "I got a {v}! I'm calling it {k}.", "{k} the {v} joined the family this week."),
        _t("What pets {does} {p} have?", "Which animals {does} {p} keep as pets?", "What animals {has} {p} adopted?"),
        _t("Do you have any pets, {o}?", "How's the furry household?"),
        _t("Animals make everything better honestly.", "My neighbour's dog barked all night again.",
           "I've always wanted a pet but my landlord says no.", "Pet food is so expensive now."),
        (("we adopted a {v}!!", "{k} is the name 🐾"), ("~went to the shelter just to look lol", "came home with a {v}. {k}!!")),
        third=_t("My neighbour just got a {v}.", "My coworker's {v} has its own Instagram lol."),
    ),
    Topic(
        "trips", tuple(p for p, _ in PLACES), tuple(k for _, k in PLACES),
        _t("I just got back from {v}, the views were incredible.", "We spent a few days in {v}, so relaxing.",
           "Finally made it to {v}! Totally worth the flight."),
        _t("Which places {has} {p} travelled to?", "Where {has} {p} been on trips?", "What destinations {has} {p} visited?"),
        _t("Been anywhere nice lately, {o}?", "How was your time off?"),
        _t("I really need a vacation soon.", "Travelling always recharges me.", "The airport was such a mess.",
           "Jet lag is destroying me."),
        (("back home!!", "{v} was unreal"), ("~just landed", "home from {v} 🥲")),
        third=_t("My parents went to {v} last year and loved it.", "My boss keeps posting photos from {v}."),
    ),
    Topic(
        "sports", SPORTS, (),
        _t("I tried {v} for the first time today, my arms are sore!", "Gave {v} a go this weekend, loved it.",
           "Signed up for a {v} taster session, so fun."),
        _t("What sports {has} {p} tried?", "Which physical activities {has} {p} given a go?",
           "What kinds of exercise {has} {p} tried out?"),
        _t("Keeping active, {o}?", "Doing any sport these days?"),
        _t("I really should exercise more.", "My gym membership is basically a donation at this point.",
           "Stretching is so underrated."),
        (("my whole body hurts", "{v} is no joke"), ("tried something new", "{v}!! so fun")),
        third=_t("My brother is really into {v}.",),
    ),
    Topic(
        "books", BOOKS, (),
        _t("I'm halfway through '{v}' and can't put it down.", "Just finished '{v}', what an ending.",
           "You have to read '{v}', trust me."),
        _t("What books {has} {p} read lately?", "Which novels {has} {p} mentioned reading?"),
        _t("Read anything good, {o}?", "Any book recommendations?"),
        _t("I haven't had time to read in ages.", "My book club meets on Thursdays.", "My to-read pile is out of control."),
        (("just finished a book", "'{v}' omg"), ("~reading update", "just read '{v}', so good")),
    ),
)
COLLS = {t.key: t for t in COLLECTIONS}
PET_ITEM = _t("What is the name of {ps} {v}?", "What name did {p} give to the {v}?", "What's {ps} {v} called?")
PET_KIND = _t("What kind of animal is {k}?", "What sort of pet is {k}?")
PET_UNNAMED = _t("What's the name of the {c}?", "What is the {c} called?")
PET_LOSS = _t("We lost {k} last week... I miss that little {v} so much 💔", "{k} passed away on Sunday. Rough week.",
              "Had to say goodbye to {k} yesterday, the vet couldn't do anything.")
PET_LOSS_ASK = _t("{Does} {p} still have {k}?", "Is {k} still part of {ps} household?")
LIST_FIRST = _t("Which did {p} visit first, {a} or {b}?", "Did {p} go to {a} or to {b} earlier?")

# Milestones: (first person, third person for answers, a paraphrase for questions).
EVENTS = (
    ("ran my first half marathon", "ran a half marathon", "complete a half marathon"),
    ("gave a talk at a community meetup", "gave a talk at a meetup", "speak at a meetup"),
    ("volunteered at the food bank", "volunteered at a food bank", "help out at the food bank"),
    ("passed my driving test", "passed the driving test", "get a driving licence"),
    ("went to a pottery workshop", "went to a pottery workshop", "attend a pottery workshop"),
    ("painted a mural at the school", "painted a mural at a school", "paint a mural"),
    ("went camping with the kids", "went camping with the kids", "take the kids camping"),
    ("hosted a charity bake sale", "hosted a charity bake sale", "organise a charity bake sale"),
    ("got my first tattoo", "got a tattoo", "get inked"),
    ("sang at an open mic night", "sang at an open mic", "perform at an open mic"),
    ("rode 100 km on my bike", "rode 100 km", "complete a 100-km ride"),
    ("planted a vegetable garden", "planted a vegetable garden", "start a vegetable patch"),
    ("went skydiving", "went skydiving", "jump out of a plane"),
    ("won a pub quiz with my team", "won a pub quiz", "win a trivia night"),
    ("baked a wedding cake for a friend", "baked a wedding cake", "make a wedding cake"),
    ("climbed Snowdon", "climbed Snowdon", "summit Snowdon"),
    ("finished my first quilt", "finished a quilt", "complete a quilt"),
    ("adopted a rescue hen", "adopted a rescue hen", "take in a rescue chicken"),
    ("donated blood", "donated blood", "give blood"),
    ("went to a silent disco", "went to a silent disco", "dance at a silent disco"),
)
EVENT_SAY = _t("Guess what, I just {e}!", "So I {e} this morning, still buzzing.", "I {e} today, big step for me.",
               "Today I {e}. Can't quite believe it.")
EVENT_SAY_DATED = _t("I {e} {w}, still buzzing about it.", "{W} I {e}!", "Guess what, I {e} {w}.",
                     "So I {e} {w}. Big step for me.", "{W}, I {e}. What a day that was.")
EVENT_BURST = (("~so I did a thing", "{e} {w}!!"), ("~ok don't laugh", "I {e} {w}"))
EVENT_WHEN = _t("When did {p} {b}?", "On what date did {p} {b}?", "What day did {p} {b}?")
EVENT_ON = _t("What did {p} do on {d}?", "What was {p} up to on {d}?", "What did {p} get done on {d}?")
EVENT_IN = _t("What did {p} do in {d}?", "What was {p} up to in {d}?")
EVENT_HAPPENED = _t("What happened on {d}?", "What event took place on {d}?")
EVENT_WEEKEND = _t("What did {p} do last weekend?", "What was {p} up to last weekend?")
EVENT_FIRST = _t("Did {p} {a} or {b} first?", "Which did {p} do first: {a} or {b}?")

# Relatives: (relation, what the owner calls them in passing).
KIN = (("sister", _t("my sis", "sis")), ("brother", _t("my bro", "bro")), ("mum", _t("mom", "my mum")),
       ("dad", _t("my dad", "pops")), ("cousin", _t("my cuz", "cuz")), ("grandma", _t("nan", "gran")),
       ("best friend", _t("my bestie", "my bff")), ("aunt", _t("auntie",)), ("uncle", _t("my uncle",)))
KIN_SAY = _t("My {r} {k} is staying with us this week.", "Had lunch with my {r} {k} today.",
             "My {r}, {k}, just called me for an hour lol.", "{k}, my {r}, says hi by the way.")
KIN_ASK = _t("What is the name of {ps} {r}?", "Who is {ps} {r}?", "What's {ps} {r} called?")
KIN_EVENTS = (("just got engaged", "got engaged"), ("had a baby girl", "had a baby"), ("started a PhD", "started a PhD"),
              ("got promoted", "got promoted"), ("bought a house", "bought a house"), ("broke a wrist skiing", "broke a wrist"),
              ("opened a bakery", "opened a bakery"), ("ran a marathon", "ran a marathon"))
KIN_EVENT_SAY = _t("{S} {ke}!!", "Omg {s} {ke}", "Big family news: {s} {ke}.")
KIN_EVENT_ASK = _t("What news did {p} share about {k}?", "What did {k} do recently, as {p} told it?")
KIN_EVENT_WHO = _t("Which of {ps} loved ones {ka}?", "Who in {ps} circle {ka}?")

# Joint decisions (two-person chats): options are proposed, then one is chosen.
PLANS = (
    ("our anniversary trip", _t("Where did {we} decide to go for {our} anniversary?",
                                "What destination did {we} pick for the anniversary getaway?"), tuple(p for p, _ in PLACES)),
    ("Mum's birthday dinner", _t("Which restaurant did {we} choose for Mum's birthday?",
                                 "Where {are} {we} taking Mum for her birthday dinner?"), RESTAURANTS),
    ("movie night on Friday", _t("What film did {we} settle on for Friday?", "Which movie {are} {we} watching on movie night?"),
     FILMS),
    ("the living room walls", _t("What colour {are} {we} painting the living room?", "Which paint colour did {we} agree on?"),
     COLOURS),
    ("Saturday's hike", _t("Which trail {are} {we} hiking on Saturday?", "What route did {we} choose for the hike?"), TRAILS),
    ("the housewarming gift", _t("What {are} {we} bringing to the housewarming?",
                                 "What gift did {we} agree to buy for the housewarming?"), GIFTS),
)
PLAN_PROPOSE = _t("For {o}: {a} or {b}?", "Thinking about {o}... {a}, {b}, or {c}?", "Ok {o}, I found {a} and {b}. Thoughts?")
PLAN_MULL = _t("Hmm the second one sounds nicer", "Either works for me tbh", "Ooh tough one", "I'm leaning towards the last one",
               "Let me think about it for a sec")
PLAN_DECIDE = _t("Ok let's go with {v} then!", "Decided: {v}. Booking it now.", "{v} it is 🙌", "Fine, {v}, you win lol")

# Call-backs across sessions: (noun, setup, reference without the value, outcomes (first person, answer,
# question paraphrase), question about the value, question about the outcome).
CALLBACKS = (
    ("trip", "I'm planning a trip to {v} with my cousin in a couple of months.", _t("the trip I told you about", "that trip I mentioned"),
     (("I got food poisoning on day two", "got food poisoning", "get food poisoning"),
      ("I lost my passport at the airport", "lost a passport", "lose a passport"),
      ("I ran into my old maths teacher", "ran into an old teacher", "bump into a former teacher"),
      ("we missed our flight home", "missed the flight home", "miss a flight home"),
      ("I learned to scuba dive", "learned to scuba dive", "pick up scuba diving")),
     PLACES, _t("Where did {p} {qb}?",), _t("What happened on {ps} trip to {v}?", "How did {ps} {v} trip turn out?")),
    ("interview", "I've got an interview at {v} next week, fingers crossed.", _t("that interview I mentioned", "the interview I told you about"),
     (("they offered me the job", "got a job offer", "get a job offer"),
      ("they want me back for a second round", "got a second-round interview", "get called back for a second round"),
      ("they went with someone internal", "was turned down", "get turned down")),
     COMPANIES, _t("Which company did {p} {qb} from?", "Where did {p} {qb} from?"), _t("How did {ps} interview at {v} go?",)),
    ("flat", "We're viewing a flat in {v} on Saturday.", _t("the flat I told you about", "that flat we viewed"),
     (("we got it, signing tomorrow", "got the flat", "land a new flat"),
      ("someone outbid us", "lost it to another bidder", "lose a flat to another bidder")),
     NEIGHBOURHOODS, _t("In which neighbourhood did {p} {qb}?",), _t("What happened with the flat in {v} that {p} viewed?",)),
    ("race", "I signed up for the {v}, training starts now!", _t("the race I told you about", "that race I signed up for"),
     (("I finished in under an hour", "finished in under an hour", "finish in under an hour"),
      ("I pulled a hamstring halfway", "pulled a hamstring", "pull a hamstring")),
     RACES, _t("In which race did {p} {qb}?",), _t("How did {ps} {v} go?",)),
)
CALLBACK_SAY = _t("Remember {ref}? Well, {o}!", "So about {ref}... {o}.", "Update on {ref}: {o}.",
                  "You know {ref}? {o} lol")
# Trips after a change; the question names the old value, as "after changing jobs" could also mean a
# first statement such as "I started a new job last month".
AFTER_CHANGE = {"job": _t("Where did {p} travel after leaving the {old} job?",
                          "Which places did {p} visit once {p} stopped working as a {old}?"),
                "home": _t("Where did {p} go on trips after moving away from {old}?",)}
OWNER = {"home": _t("Where does the owner of {k} live?", "In which city does {k}'s owner live?"),
         "job": _t("What does {k}'s owner do for work?", "What is the job of the person who owns {k}?")}

# Small talk.
GREET = _t("Good morning!", "Hey {o}!", "Hiii {o} 👋", "Morning :)", "Hey hey!", "Long time no talk!", "Happy Friday!!",
           "Hello hello", "yo {o}", "Evening! How was your day?")
HOW = _t("How are you?", "how's your week going?", "How have you been?", "what's new with you?", "how was your weekend?")
FINE = _t("Good good, you?", "Not bad! Busy but fine.", "Pretty good, thanks for asking!", "Tired but alive lol",
          "All good here 😊", "meh, could be worse haha")
REPLY = _t("haha yes", "lol same", "omg", "😂😂", "right??", "totally", "fair enough", "aww", "ikr", "so true", "hahaha",
           "no way!", "nice!", "love that", "👍", "🙏", "yesss", "same tbh", "mood", "hmm true", "wait really?",
           "that's wild", "lmao", "❤️", "oh no", "ugh yes", "😅", "haha fair")
# Change words in small talk that change no fact: write-gate negatives.
CHANGE = _t("I'm at work now lol", "ok I'm home now", "not hungry anymore haha", "it's raining again now ugh",
            "just woke up lol", "on the train now, signal is bad", "I'm so tired now", "ok coffee kicked in, I'm awake now",
            "can't feel my legs anymore after that walk lol", "my phone's at 5% now", "it's not even cold anymore",
            "the rain finally stopped", "just got back from the shops", "omg I'm starving now", "brb moving to the couch lol",
            "changed my mind, pizza tonight", "new week, new me lol", "I don't even know what day it is anymore",
            "ok I'm free now", "back at my desk now", "my coffee is cold now 😩", "I'm in bed now, nearly asleep",
            "finally done with laundry", "switched to my laptop, typing on the phone is hard")
CLOSE = _t("gotta run, talk later!", "ttyl!", "night!! 💤", "ok bye for now", "Talk soon {o}!", "catch you later 👋",
           "anyway, I should get back to it", "speak soon!")
REACT = _t("That's amazing, {o}!", "Wow, congrats!!", "Omg yay", "Aww I love that", "No way, that's huge",
           "Good for you, {o}", "Tell me everything", "That's so exciting!", "Wait what?? amazing", "Ooh nice one")
SAD = _t("Oh no, I'm so sorry {o} 💔", "Sending hugs", "That's really hard, I'm here if you need me")
BURST_LEAD = _t("omg guess what", "ok so", "soooo", "news!!", "you're not gonna believe this", "ok update", "listen",
                "hiii ok so")
BURST_TAIL = _t("😭😭", "still can't believe it", "like actually", "lol", "anyway!!", "🎉🎉🎉")
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six")


# ---------------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------------


_AN = re.compile(r"\b([Aa]) (?=(?!one\b)[aeioAEIO])")


def _an(text: str) -> str:
    """"a electrician" -> "an electrician": values fill templates written with "a"."""
    return _AN.sub(lambda m: m.group(1) + "n ", text)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _day(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def _qdate(rng: random.Random, d: date) -> str:
    """A date as a question writes it (other formats than the turns', so words rarely match)."""
    forms = (f"{d.day} {d:%B %Y}", f"{d:%B} {d.day}, {d.year}", f"{d:%A}, {d.day} {d:%B %Y}",
             f"the {_ordinal(d.day)} of {d:%B %Y}")
    return rng.choice(forms)


def _date_phrase(rng: random.Random, said: date) -> tuple[str, date, str]:
    """A date expression as someone writes it on `said`: (phrase, the date meant, "day" or "month")."""
    kind = rng.choice(("today", "yesterday", "weekday", "days_ago", "weeks_ago", "slash", "dotted", "iso",
                       "month_day", "day_month", "nth", "month", "month"))
    if kind == "today":
        return rng.choice(("today", "this morning", "earlier today")), said, "day"
    if kind == "yesterday":
        return rng.choice(("yesterday", "yesterday evening")), said - timedelta(days=1), "day"
    if kind == "weekday":  # 2-7 days back, so "last Tuesday" names one day
        d = said - timedelta(days=rng.randint(2, 7))
        return f"last {d:%A}", d, "day"
    if kind == "days_ago":
        k = rng.randint(2, 6)
        return f"{NUMBER_WORDS[k]} days ago", said - timedelta(days=k), "day"
    if kind == "weeks_ago":
        k = rng.randint(1, 3)
        return ("a week ago" if k == 1 else f"{NUMBER_WORDS[k]} weeks ago"), said - timedelta(days=7 * k), "day"
    if kind == "month":
        first = said.replace(day=1)
        for _ in range(rng.randint(1, 8)):
            first = (first - timedelta(days=1)).replace(day=1)
        same_year = first.year == said.year
        return (f"back in {first:%B}" if same_year and rng.random() < 0.4 else f"in {first:%B %Y}"), first, "month"
    d = said - timedelta(days=rng.randint(3, 40))
    if kind == "nth" and d.month == said.month:
        return f"on the {_ordinal(d.day)}", d, "day"
    if kind == "slash":
        return f"on {d.month}/{d.day}", d, "day"
    if kind == "dotted":
        return f"on {d:%d.%m.%Y}", d, "day"
    if kind == "iso":
        return f"on {d.isoformat()}", d, "day"
    if kind == "day_month":
        return f"on {d.day} {d:%B}", d, "day"
    return f"on {d:%B} {_ordinal(d.day)}", d, "day"


# ---------------------------------------------------------------------------------------------------
# Chats
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Style:
    """How one shape's chats look. Ranges are (low, high) counts per person; rates are chances."""

    people: tuple[int, int] = (2, 2)
    attrs: tuple[int, int] = (4, 6)
    items: tuple[int, int] = (1, 4)
    events: tuple[int, int] = (1, 3)
    kin: tuple[int, int] = (0, 1)
    kin_events: float = 0.3
    updates: float = 0.15  # chance a changeable attribute changes later
    max_updates: int = 1
    losses: float = 0.0  # chance a person's pet dies later
    burst: float = 0.0  # chance a fact comes as a burst of messages
    run: float = 0.1  # chance small talk comes as a run from one person
    change: float = 0.08  # share of small talk with change words
    reply: float = 0.05  # share of small talk that is a bare reaction
    chatter: float = 0.3  # share of small talk in some topic's words (hard distractors); the rest is
    # `chatter.statement`: substantive lines about other things, as most turns of a real chat are
    discuss: float = 0.5  # chance a fact is talked over: asked about, then told more of
    elaborate: float = 0.6  # chance a fact's statement goes on about it in the same turn
    greet_news: float = 0.5  # chance a session's greeting carries a line of news
    third: float = 0.25  # about how many remarks on someone else's fact a session has
    dated: float = 0.0  # share of events told with a date expression
    gaps: tuple[tuple[int, int], ...] = ((2, 20),)  # days between sessions, one range drawn per gap
    callbacks: tuple[int, int] = (0, 0)
    plans: tuple[int, int] = (0, 0)
    aliases: bool = False
    unnamed: bool = False
    greet: tuple[int, int] = (1, 3)
    focus: tuple[str, ...] = ()  # question kinds this shape asks first


STYLES = {
    "bursts": _Style(burst=0.85, run=0.5, focus=("burst",)),
    "multiparty": _Style(people=(3, 5), attrs=(2, 4), items=(0, 2), events=(1, 2), kin=(0, 1), third=0.1,
                         focus=("attr", "now", "when", "pet_name", "kin")),
    "aliases": _Style(aliases=True, kin=(1, 3), kin_events=0.8, focus=("alias", "kin_event", "kin")),
    "smalltalk": _Style(attrs=(3, 5), items=(1, 3), events=(1, 2), change=0.4, reply=0.35, chatter=0.2, greet=(3, 7),
                        focus=("attr", "now", "when", "open")),
    "dates": _Style(attrs=(2, 4), items=(0, 2), events=(4, 7), dated=1.0, gaps=((1, 10),),
                    focus=("on_date", "happened_on", "last_weekend", "when", "first")),
    "sessions_apart": _Style(callbacks=(2, 3), gaps=((1, 4), (7, 30), (45, 180)), focus=("callback", "when", "first")),
    "updates": _Style(attrs=(4, 6), updates=0.85, max_updates=3, losses=0.6, focus=("now", "loss")),
    "multihop": _Style(items=(5, 8), kin=(1, 2), kin_events=0.7, updates=0.4, callbacks=(0, 1),
                       focus=("list", "after_change", "owner", "kin_event", "callback")),
    "unnamed": _Style(unnamed=True, plans=(2, 4), kin=(0, 2), focus=("plan", "pet_unnamed", "attr", "now")),
}


@dataclass(eq=False)
class _Person:
    label: str  # the speaker label the chat shows
    names: tuple[str, ...]  # how questions name the person
    calls: tuple[str, ...]  # how friends address the person in the chat


@dataclass(eq=False)
class _Fact:
    kind: str
    who: _Person | None
    topic: str
    value: str
    gold: tuple[str, ...]
    time: datetime
    extra: str = ""
    name: str = ""  # a pet's or a relative's name
    prior: _Fact | None = None  # the fact this one replaces
    current: bool = True
    burst: bool = False
    day: date | None = None  # an event's date
    precision: str = "day"
    answer: str = ""
    base: str = ""  # a paraphrase of the fact for questions


@dataclass
class _Ask:
    """A candidate question; tags: its kind and traits, matched against the shape's focus."""

    tags: tuple[str, ...]
    category: str
    question: str
    answer: str
    evidence: tuple[str, ...]
    time: datetime | None = None


class _Chat:
    """One chat episode: emits turns and records every fact they state."""

    def __init__(self, rng: random.Random, style: _Style, people: list[_Person]) -> None:
        self.rng, self.style, self.people = rng, style, people
        self.turns: list[Turn] = []
        self.s = 0
        self.j = 0
        self.clock = datetime(2000, 1, 1)
        self.last: _Person | None = None
        self.facts: list[_Fact] = []
        self.current: dict[tuple[int, str], _Fact] = {}  # (person, topic) -> latest attribute fact
        self.kin: dict[tuple[int, str], _Fact] = {}  # (person, relation) -> the turn naming them
        self.pending: dict[tuple[int, int], _Fact] = {}  # (person, callback) -> its setup
        self.used: set[tuple[int, str, str]] = set()  # (person, topic, value) already stated
        self.pet_names: list[str] = []
        self.heard: set[str] = set()  # lines said in the episode: a real chat says nothing twice
        self._order: dict[str, int] = {}

    def turns_index(self, f: _Fact) -> int:
        """Where f's first gold turn sits in the chat (ids are unique; their order is the chat's)."""
        if len(self._order) != len(self.turns):
            self._order = {t.id: i for i, t in enumerate(self.turns)}
        return self._order[f.gold[0]]

    # -- emitting turns -----------------------------------------------------------------------------

    def open(self, when: datetime) -> None:
        self.s += 1
        self.j = 0
        self.clock = max(when, self.clock + timedelta(hours=6))
        self.last = None

    def say(self, who: _Person, text: str, supersedes: str | None = None) -> str:
        self.j += 1
        tid = f"D{self.s}:{self.j}"
        self.turns.append(Turn(id=tid, session=f"S{self.s}", text=f"{who.label}: {_an(text)}", speaker=who.label,
                               time=self.clock, supersedes=supersedes))
        self.clock += timedelta(minutes=self.rng.choice((0, 1, 1, 2, 3, 4)))
        self.last = who
        return tid

    def other(self, who: _Person | None) -> _Person:
        rest = [p for p in self.people if p is not who]
        return self.rng.choice(rest)

    def call(self, who: _Person) -> str:
        return self.rng.choice(who.calls)

    def deliver(self, who: _Person, single: str, parts: tuple[str, str] | None, **kw: str) -> tuple[tuple[str, ...], bool]:
        """State a fact in one turn or, in a burst, over several; returns the gold turn ids."""
        rng = self.rng
        if parts is None or rng.random() >= self.style.burst:
            text = single.format(**kw)
            if rng.random() < self.style.elaborate:
                text = f"{text} {chatter.elaboration(rng)}"
            return (self.say(who, text),), False
        lead, tail = rng.random() < 0.75, rng.random() < 0.5
        if not (lead or tail):  # a burst is three messages or more
            lead = True
        if lead:
            self.say(who, rng.choice(BURST_LEAD))
        gold = []
        for part in parts:
            tid = self.say(who, part.lstrip("~").format(**kw))
            if not part.startswith("~"):
                gold.append(tid)
        if tail:
            self.say(who, rng.choice(BURST_TAIL))
        return tuple(gold), True

    def prompt(self, owner: _Person, prompts: tuple[str, ...]) -> None:
        if prompts and self.rng.random() < 0.5:
            self.say(self.other(owner), self.rng.choice(prompts).format(o=self.call(owner)))

    def react(self, owner: _Person, pool: tuple[str, ...] = REACT) -> None:
        """Someone reacts to the owner's news; a good one (`REACT`) is often talked over: asked about,
        and the owner goes on about it without restating it, so the turns around the evidence share its
        topic as in real chats."""
        rng = self.rng
        reacted = rng.random() < 0.6
        discuss = pool is REACT and rng.random() < self.style.discuss
        if not (reacted or discuss):
            return
        friend = self.other(owner)
        line = self.fresh(lambda: rng.choice(pool)) if reacted else ""
        if discuss:
            line = _join(line, chatter.follow_up(rng, "{o}"))
        elif pool is REACT and rng.random() < self.style.greet_news:  # and says something of their own
            line = _join(line, self.fresh(lambda: chatter.statement(rng, "{o}")))
        self.say(friend, line.format(o=self.call(owner)))
        if discuss:  # said to the friend; a fresh line's fallback may address them ("{o}")
            self.say(owner, self.fresh(lambda: chatter.elaboration(rng)).format(o=friend.calls[0]))

    def fresh(self, draw: Callable[[], str]) -> str:
        """A line from `draw` not said before in the episode, or after a few tries a substantive
        statement (`chatter.statement`, whose thousands of combinations rarely repeat)."""
        for _ in range(4):
            text = draw()
            if text not in self.heard:
                break
        else:
            text = chatter.statement(self.rng, "{o}")
        self.heard.add(text)
        return text

    def smalltalk(self, n: int) -> None:
        rng, st = self.rng, self.style
        while n > 0:
            who = self.other(self.last) if self.last is not None else rng.choice(self.people)
            run = rng.randint(2, 4) if rng.random() < st.run else 1
            for _ in range(min(run, n)):
                r = rng.random()
                if r < st.change:
                    pool = CHANGE
                elif r < st.change + st.reply:
                    pool = REPLY
                elif r < st.change + st.reply + st.chatter:
                    pool = rng.choice(TOPICS + COLLECTIONS).chatter
                else:
                    pool = ()
                text = self.fresh(lambda p=pool: rng.choice(p) if p else chatter.statement(rng, "{o}"))
                self.say(who, text.format(o=self.call(self.other(who))))
                n -= 1

    def greet(self) -> None:
        rng = self.rng
        for i in range(rng.randint(*self.style.greet)):
            a = self.other(self.last) if i else rng.choice(self.people)
            hello = self.fresh(lambda i=i: rng.choice(HOW + FINE + REPLY if i else GREET))
            if rng.random() < self.style.greet_news / (1 + i):
                hello = _join(hello, self.fresh(lambda: chatter.statement(rng, "{o}")))
            self.say(a, hello.format(o=self.call(self.other(a))))

    def close(self) -> None:
        a = self.rng.choice(self.people)
        self.say(a, self.fresh(lambda: self.rng.choice(CLOSE)).format(o=self.call(self.other(a))))

    # -- facts --------------------------------------------------------------------------------------

    def _value(self, who: _Person, topic: Topic, avoid: str | None = None) -> int:
        pi = self.people.index(who)
        free = [i for i, v in enumerate(topic.values) if v != avoid and (pi, topic.key, v) not in self.used]
        i = self.rng.choice(free or [i for i, v in enumerate(topic.values) if v != avoid])
        self.used.add((pi, topic.key, topic.values[i]))
        return i

    def attr(self, who: _Person, topic: Topic) -> None:
        rng, pi = self.rng, self.people.index(who)
        old = self.current.get((pi, topic.key))
        i = self._value(who, topic, old.value if old else None)
        v = topic.values[i]
        extra = topic.extras[i] if topic.extras else ""
        self.prompt(who, topic.prompt)
        if old is None:
            gold, burst = self.deliver(who, rng.choice(topic.say), rng.choice(topic.burst), v=v)
        else:  # the update replaces the turn that holds the old value
            text = rng.choice(topic.update).format(old=old.value, v=v)
            gold, burst = (self.say(who, text, supersedes=old.gold[-1]),), False
            old.current = False
        fact = _Fact("attr", who, topic.key, v, gold, self.clock, extra=extra, prior=old, burst=burst)
        self.facts.append(fact)
        self.current[(pi, topic.key)] = fact
        self.react(who)

    def item(self, who: _Person, topic: Topic) -> None:
        rng = self.rng
        i = self._value(who, topic)
        v = topic.values[i]
        name = ""
        if topic.key == "pets":
            name = rng.choice([n for n in PET_NAMES if n not in self.pet_names])
            self.pet_names.append(name)
        self.prompt(who, topic.prompt)
        gold, burst = self.deliver(who, rng.choice(topic.say), rng.choice(topic.burst), v=v, k=name)
        extra = topic.extras[i] if topic.extras else ""
        self.facts.append(_Fact("item", who, topic.key, v, gold, self.clock, extra=extra, name=name, burst=burst))
        self.react(who)

    def loss(self, who: _Person) -> None:
        pets = [f for f in self.facts if f.kind == "item" and f.topic == "pets" and f.who is who and f.current]
        if not pets:
            return
        pet = self.rng.choice(pets)
        tid = self.say(who, self.rng.choice(PET_LOSS).format(k=pet.name, v=pet.value), supersedes=pet.gold[-1])
        pet.current = False
        self.facts.append(_Fact("loss", who, "pets", pet.value, (tid,), self.clock, name=pet.name, prior=pet))
        self.react(who, SAD)

    def event(self, who: _Person, event: tuple[str, str, str]) -> None:
        rng, st = self.rng, self.style
        said = self.clock.date()
        if rng.random() < st.dated:
            w, day, precision = _date_phrase(rng, said)
            single = rng.choice(EVENT_SAY_DATED)
        else:
            w, day, precision = "today", said, "day"
            single = rng.choice(EVENT_SAY)
        gold, burst = self.deliver(who, single, rng.choice(EVENT_BURST), e=event[0], w=w, W=w[0].upper() + w[1:])
        self.facts.append(_Fact("event", who, "event", event[0], gold, self.clock, burst=burst, day=day,
                                precision=precision, answer=event[1], base=event[2]))
        self.react(who)

    def name_kin(self, who: _Person, relation: str) -> None:
        k = self.rng.choice([n for n in KIN_POOL if n not in {f.name for f in self.kin.values()}])
        tid = self.say(who, self.rng.choice(KIN_SAY).format(r=relation, k=k))
        fact = _Fact("kin", who, relation, k, (tid,), self.clock, name=k)
        self.facts.append(fact)
        self.kin[(self.people.index(who), relation)] = fact

    def kin_event(self, who: _Person, relation: str, short: tuple[str, ...]) -> None:
        named = self.kin.get((self.people.index(who), relation))
        if named is None:
            return
        said, answer = self.rng.choice(KIN_EVENTS)
        s = self.rng.choice(short) if self.style.aliases or self.rng.random() < 0.5 else f"my {relation}"
        tid = self.say(who, self.rng.choice(KIN_EVENT_SAY).format(s=s, S=s[0].upper() + s[1:], ke=said))
        self.facts.append(_Fact("kin_event", who, relation, answer, (tid,), self.clock, name=named.name, prior=named))
        self.react(who)

    def plan(self, occasion: int) -> None:
        rng = self.rng
        what, _, values = PLANS[occasion]
        a, b, c = rng.sample(values, 3)
        chosen = rng.choice((a, b) if "{c}" not in (propose := rng.choice(PLAN_PROPOSE)) else (a, b, c))
        x = rng.choice(self.people)
        self.say(x, propose.format(o=what, a=a, b=b, c=c))
        y = self.other(x)
        self.say(y, rng.choice(PLAN_MULL))
        tid = self.say(rng.choice((x, y)), rng.choice(PLAN_DECIDE).format(v=chosen))
        self.facts.append(_Fact("plan", None, str(occasion), chosen, (tid,), self.clock))

    def setup(self, who: _Person, cb: int) -> None:
        values = CALLBACKS[cb][4]
        v = self.rng.choice(values)
        v = v[0] if isinstance(v, tuple) else v
        tid = self.say(who, CALLBACKS[cb][1].format(v=v))
        self.pending[(self.people.index(who), cb)] = _Fact("setup", who, str(cb), v, (tid,), self.clock)

    def follow(self, who: _Person, cb: int) -> None:
        setup = self.pending.pop((self.people.index(who), cb), None)
        if setup is None:
            return
        _, _, refs, outcomes, *_ = CALLBACKS[cb]
        said, answer, base = self.rng.choice(outcomes)
        ref = self.rng.choice(refs)
        text = self.rng.choice(CALLBACK_SAY).format(ref=ref, o=said)
        tid = self.say(who, text[0].upper() + text[1:])
        self.facts.append(_Fact("callback", who, str(cb), setup.value, setup.gold + (tid,), self.clock,
                                answer=answer, base=base, prior=setup))
        self.react(who)

    def third(self, who: _Person) -> None:
        """Someone else's fact in the topic's words; its value is then never the speaker's own, so the
        remark stays a distractor and not a second statement of the speaker's fact."""
        topic = self.rng.choice([t for t in TOPICS + COLLECTIONS if t.third])
        v = topic.values[self._value(who, topic)]
        self.say(who, self.rng.choice(topic.third).format(v=v))


def _join(first: str, second: str) -> str:
    """Two lines said as one message: "Wow, congrats!!" + "What was the best part?"."""
    if not first:
        return second
    return f"{first} {second}" if not first[-1].isalnum() else f"{first}! {second}"


def _cast(rng: random.Random, style: _Style) -> list[_Person]:
    n = rng.randint(*style.people)
    if not style.aliases:
        return [_Person(name, (name,), (name,)) for name in rng.sample(PEOPLE, n)]
    people = []
    for (first, nicks), last in zip(rng.sample(ALIASES, n), rng.sample(LAST, n), strict=True):
        nick = rng.choice(nicks)
        label = rng.choice((f"{first} {last}", f"{first} {last}", first, f"{nick.lower()}_{last.lower()}",
                            f"{first} {last[0]}."))
        names = (first, *nicks, f"{first} {last}", f"{nick} {last}")
        people.append(_Person(label, names, (*nicks, nicks[0], first[0], first)))
    return people


def _session_times(rng: random.Random, start: datetime, n: int, gaps: tuple[tuple[int, int], ...]) -> list[datetime]:
    times, when = [], start
    for _ in range(n):
        lo, hi = rng.choice(gaps)
        when = when + timedelta(days=rng.randint(lo, hi))
        times.append(when.replace(hour=rng.randint(7, 21), minute=rng.randrange(60)))
    return times


def _chat(rng: random.Random, shape: str, config: ShapesConfig) -> tuple[list[Turn], list[_Ask]]:
    st = STYLES[shape]
    people = _cast(rng, st)
    n_sessions = max(2, round(config.sessions * rng.uniform(0.8, 1.25)))
    S = n_sessions
    plan: list[list[tuple]] = [[] for _ in range(S)]

    def later(f: int) -> int | None:
        return rng.randrange(f + 1, S) if f + 1 < S else None

    for p in people:
        topics = rng.sample(TOPICS, len(TOPICS))
        if st.max_updates > 1:  # the updates shape states the changeable kinds first
            topics.sort(key=lambda t: not t.update)
        for topic in topics[: rng.randint(*st.attrs)]:
            f = rng.randrange(S)
            plan[f].append(("attr", p, topic))
            if topic.update and rng.random() < st.updates:
                for _ in range(rng.randint(1, st.max_updates)):
                    if (u := later(f)) is not None:
                        plan[u].append(("attr", p, topic))
        for _ in range(rng.randint(*st.items)):
            plan[rng.randrange(S)].append(("item", p, rng.choice(COLLECTIONS)))
        if rng.random() < st.losses:
            f = rng.randrange(S - 1)
            plan[f].append(("item", p, COLLS["pets"]))
            plan[rng.randrange(f + 1, S)].append(("loss", p))
        for event in rng.sample(EVENTS, rng.randint(*st.events)):
            plan[rng.randrange(S)].append(("event", p, event))
        for relation, short in rng.sample(KIN, rng.randint(*st.kin)):
            f = rng.randrange(S)
            plan[f].append(("kin", p, relation))
            if rng.random() < st.kin_events and (u := later(f)) is not None:
                plan[u].append(("kin_event", p, relation, short))
        for cb in rng.sample(range(len(CALLBACKS)), rng.randint(*st.callbacks)):
            f = rng.randrange(S - 1)
            plan[f].append(("setup", p, cb))
            plan[rng.randrange(f + 1, S)].append(("follow", p, cb))
    if len(people) == 2:
        for occasion in rng.sample(range(len(PLANS)), rng.randint(*st.plans)):
            plan[rng.randrange(S)].append(("plan", occasion))

    chat = _Chat(rng, st, people)
    start = config.start + timedelta(days=rng.randrange(500))
    for s, when in enumerate(_session_times(rng, start, S, st.gaps)):
        chat.open(when)
        blocks = plan[s]
        rng.shuffle(blocks)
        # Events, kin events and call-backs order themselves after what they refer to in the session.
        blocks.sort(key=lambda b: b[0] in ("kin_event", "follow", "loss"))
        n = max(len(blocks) * 3 + 4, round(rng.gauss(config.session_turns, config.session_turns / 5)))
        fill = max(len(blocks) + 1, n - len(blocks) * 3 - 3)
        cuts = sorted(rng.randint(0, fill) for _ in blocks)
        chunks = [b - a for a, b in zip([0, *cuts], [*cuts, fill], strict=True)]
        chat.greet()
        for chunk, block in zip(chunks, [*blocks, None], strict=True):
            chat.smalltalk(chunk)
            if block is not None:
                _run(chat, block)
            if rng.random() < st.third / max(1, len(blocks)):
                chat.third(rng.choice(people))
        chat.close()
    return chat.turns, _chat_questions(rng, chat)


def _run(chat: _Chat, block: tuple) -> None:
    kind = block[0]
    if kind == "attr":
        chat.attr(block[1], block[2])
    elif kind == "item":
        chat.item(block[1], block[2])
    elif kind == "loss":
        chat.loss(block[1])
    elif kind == "event":
        chat.event(block[1], block[2])
    elif kind == "kin":
        chat.name_kin(block[1], block[2])
    elif kind == "kin_event":
        chat.kin_event(block[1], block[2], block[3])
    elif kind == "plan":
        chat.plan(block[1])
    elif kind == "setup":
        chat.setup(block[1], block[2])
    elif kind == "follow":
        chat.follow(block[1], block[2])


def _fill(template: str, **kw: str) -> str:
    text = _an(template.format(**kw))
    return text[0].upper() + text[1:]


def _grammar(p: str, self_: bool = False) -> dict[str, str]:
    if self_:
        return {"p": "I", "ps": "my", "does": "do", "is": "am", "has": "have", "Does": "Do"}
    return {"p": p, "ps": f"{p}'s", "does": "does", "is": "is", "has": "has", "Does": "Does"}


def _chat_questions(rng: random.Random, chat: _Chat) -> list[_Ask]:
    """Every question the chat's facts can answer exactly, tagged with its kind."""
    st = chat.style
    facts = chat.facts
    asks: list[_Ask] = []
    first = chat.people[0]

    def who(p: _Person) -> tuple[dict[str, str], bool]:
        """How a question names p: unnamed chats ask as the first person ("I") about the other ("my
        friend"); alias chats mostly use a name variant other than the speaker label."""
        if st.unnamed:
            return (_grammar("", self_=True), False) if p is first else (_grammar("my friend"), False)
        name = rng.choice([n for n in p.names if n != p.label] or list(p.names)) if rng.random() < 0.85 else p.label
        return _grammar(name), name != p.label

    def add(tags: tuple[str, ...], category: str, template: str, answer: str, evidence: tuple[str, ...],
            p: _Person | None = None, time: datetime | None = None, **kw: str) -> None:
        g, alias = who(p) if p is not None else ({}, False)
        if alias:
            tags = (*tags, "alias")
        asks.append(_Ask(tags, category, _fill(template, **g, **kw), answer, evidence, time))

    def burst(*fs: _Fact) -> tuple[str, ...]:
        return ("burst",) if any(f.burst for f in fs) else ()

    # Attributes: the latest value; single-hop if it never changed, knowledge-update if it did.
    for f in facts:
        if f.kind != "attr" or not f.current:
            continue
        topic = ATTRS[f.topic]
        if f.prior is None:
            add(("attr", *burst(f)), "single-hop", rng.choice(topic.ask), f.value, f.gold, f.who)
            for q, a, need in topic.infer:
                if need in ("", f.extra) and rng.random() < 0.5:
                    add(("open", *burst(f)), "open-domain", q, a.format(v=f.value, x=f.extra), f.gold, f.who)
                    break
        else:
            add(("now",), "knowledge-update", rng.choice(topic.ask_now), f.value, f.gold, f.who)

    # Collections: one item (a pet by species or name), the whole list, which trip came first.
    items = [f for f in facts if f.kind == "item"]
    pets = [f for f in items if f.topic == "pets"]
    lost = {id(f.prior) for f in facts if f.kind == "loss"}
    for p in chat.people:
        own = [f for f in pets if f.who is p and f.current]
        for f in own:
            if sum(g.value == f.value for g in pets if g.who is p) == 1:
                add(("pet_name", *burst(f)), "single-hop", rng.choice(PET_ITEM), f.name, f.gold, p, v=f.value)
            add(("pet_kind", *burst(f)), "single-hop", rng.choice(PET_KIND), f.value, f.gold, k=f.name)
        for topic in COLLECTIONS:
            mine = [f for f in items if f.who is p and f.topic == topic.key]
            gold = tuple(t for f in mine for t in f.gold)
            if len(mine) >= 2 and len(gold) <= 4 and not any(id(f) in lost for f in mine):
                add(("list", *burst(*mine)), "multi-hop", rng.choice(topic.ask), ", ".join(f.value for f in mine),
                    gold, p)
            if topic.key == "trips" and len(mine) >= 2:
                a, b = rng.sample(mine, 2)
                earlier = a if chat.turns_index(a) < chat.turns_index(b) else b
                add(("first", *burst(a, b)), "temporal", rng.choice(LIST_FIRST), earlier.value, a.gold + b.gold, p,
                    a=a.value, b=b.value)
    for f in pets:  # "the dog" when the episode has exactly one of its kind
        kind = dict(SPECIES)[f.value]
        if f.current and sum(dict(SPECIES)[g.value] == kind for g in pets) == 1:
            add(("pet_unnamed",), "single-hop", rng.choice(PET_UNNAMED), f.name, f.gold, c=kind)
    for f in facts:
        if f.kind == "loss":
            add(("loss",), "knowledge-update", rng.choice(PET_LOSS_ASK), f"no, {f.name} died", f.gold, f.who, k=f.name)

    # Multi-hop compositions: the owner of a pet, trips after a change, news about a named relative.
    for f in pets:
        if not f.current:
            continue
        for key, templates in OWNER.items():
            home = chat.current.get((chat.people.index(f.who), key))
            if home is not None and len(f.gold + home.gold) <= 4:
                add(("owner",), "multi-hop", rng.choice(templates), home.value, f.gold + home.gold, k=f.name)
    for f in facts:
        if f.kind == "attr" and f.prior is not None and f.topic in AFTER_CHANGE and f.prior.prior is None:
            trips = [g for g in items if g.who is f.who and g.topic == "trips" and chat.turns_index(g) > chat.turns_index(f)]
            gold = f.gold + tuple(t for g in trips for t in g.gold)
            if trips and len(gold) <= 4 and not any(
                    g.kind == "attr" and g.who is f.who and g.topic == f.topic and g is not f and g.prior is f for g in facts):
                add(("after_change",), "multi-hop", rng.choice(AFTER_CHANGE[f.topic]), ", ".join(g.value for g in trips),
                    gold, f.who, old=f.prior.value)
    for f in facts:
        if f.kind == "kin":
            add(("kin",), "single-hop", rng.choice(KIN_ASK), f.name, f.gold, f.who, r=f.topic)
        elif f.kind == "kin_event":
            named = f.prior
            assert named is not None
            if sum(g.kind == "kin_event" and g.prior is named for g in facts) == 1:
                add(("kin_event",), "multi-hop", rng.choice(KIN_EVENT_ASK), f.value, named.gold + f.gold, f.who, k=named.name)
            same = [g for g in facts if g.kind == "kin_event" and g.who is f.who and g.value == f.value]
            if len(same) == 1:
                g, _ = who(f.who)
                possessive = g.get("ps", "")
                add(("kin_event",), "multi-hop", rng.choice(KIN_EVENT_WHO), f"{possessive} {f.topic} {named.name}".strip(),
                    named.gold + f.gold, f.who, ka=f.value)
        elif f.kind == "callback":
            cb = CALLBACKS[int(f.topic)]
            setup = f.prior
            assert setup is not None
            add(("callback",), "multi-hop", rng.choice(cb[5]), f.value, f.gold, f.who, qb=f.base)
            add(("callback",), "multi-hop", rng.choice(cb[6]), f.answer, f.gold, f.who, v=f.value)
        elif f.kind == "plan":
            _, templates, _ = PLANS[int(f.topic)]
            if st.unnamed:
                g = {"we": "we", "our": "our", "are": "are"}
            else:
                a, b = chat.people
                g = {"we": f"{rng.choice(a.names)} and {rng.choice(b.names)}", "our": "their", "are": "are"}
            add(("plan",), "single-hop", rng.choice(templates), f.value, f.gold, **g)

    # Events: when; what on a date; what happened on a date; last weekend; which first.
    events = [f for f in facts if f.kind == "event"]
    for f in events:
        assert f.day is not None
        when = _day(f.day) if f.precision == "day" else f"{f.day:%B %Y}"
        add(("when",), "temporal", rng.choice(EVENT_WHEN), when, f.gold, f.who, b=f.base)
        mine = [g for g in events if g.who is f.who]
        if _alone(f, mine):
            if f.precision == "day":
                add(("on_date",), "temporal", rng.choice(EVENT_ON), f.answer, f.gold, f.who, d=_qdate(rng, f.day))
            else:
                add(("on_date",), "temporal", rng.choice(EVENT_IN), f.answer, f.gold, f.who, d=f"{f.day:%B %Y}")
        if f.precision == "day" and _alone(f, events):
            named = rng.choice(f.who.names) if f.who is not None and not st.unnamed else "my friend"
            if st.unnamed and f.who is first:
                named = "I"
            add(("happened_on",), "temporal", rng.choice(EVENT_HAPPENED), f"{named} {f.answer}", f.gold,
                d=_qdate(rng, f.day))
        if f.precision == "day" and f.day.weekday() >= 5 and _alone_weekend(f, mine):
            # Asked early in the following week, once the turn is said: "last weekend" then means f.day.
            monday = f.day + timedelta(days=7 - f.day.weekday())
            asked = max(datetime.combine(monday, datetime.min.time()).replace(hour=9), f.time + timedelta(hours=1))
            if asked.date() <= monday + timedelta(days=3):
                add(("last_weekend",), "temporal", rng.choice(EVENT_WEEKEND), f.answer, f.gold, f.who, time=asked)
    for p in chat.people:
        mine = [g for g in events if g.who is p and g.precision == "day"]
        if len(mine) >= 2:
            a, b = rng.sample(mine, 2)
            assert a.day is not None and b.day is not None
            if a.day != b.day:
                earlier = a if a.day < b.day else b
                add(("first",), "temporal", rng.choice(EVENT_FIRST), earlier.answer, a.gold + b.gold, p,
                    a=a.base, b=b.base)
    return asks


def _alone(f: _Fact, events: list[_Fact]) -> bool:
    """No other event falls on f's day or month (a month-level event overlaps every day of its month)."""
    assert f.day is not None
    for g in events:
        if g is f or g.day is None:
            continue
        same_month = (g.day.year, g.day.month) == (f.day.year, f.day.month)
        if (f.precision == "month" or g.precision == "month") and same_month:
            return False
        if g.day == f.day:
            return False
    return True


def _alone_weekend(f: _Fact, events: list[_Fact]) -> bool:
    assert f.day is not None
    saturday = f.day - timedelta(days=f.day.weekday() - 5)
    for g in events:
        if g is f or g.day is None:
            continue
        if g.precision == "month" and (g.day.year, g.day.month) in {(d.year, d.month) for d in (saturday, saturday + timedelta(days=1))}:
            return False
        if saturday <= g.day <= saturday + timedelta(days=1):
            return False
    return True


# ---------------------------------------------------------------------------------------------------
# Tool logs
# ---------------------------------------------------------------------------------------------------

AIRLINES = _t("UA", "DL", "AA", "BA", "LH", "AF", "KL", "IB", "TP", "AC", "QF", "SK", "LX", "EI")
HOTELS = _t("Hotel Lumen", "The Harbour Inn", "Casa Alba", "Linden House", "The Foundry Hotel", "Hotel Miro",
            "Parkside Suites", "The Rookery", "Maison Verte", "The Tidewell", "Hotel Solstice", "The Granary")
AREAS = _t("near the old town", "by the station", "on the waterfront", "in the business district", "next to the park")
PRODUCTS = (("rain jacket", _t("S", "M", "L")), ("running shoes", _t("40", "41", "42", "43")), ("backpack", ()),
            ("desk lamp", ()), ("blender", ()), ("noise-cancelling headphones", ()), ("yoga mat", ()),
            ("winter boots", _t("38", "39", "44")), ("coffee grinder", ()), ("bike helmet", _t("S", "M", "L")))
BRANDS = _t("Northpeak", "Alder", "Kestrel", "Fjord", "Brightline", "Holloway", "Sable", "Quillon")
SHADES = _t("black", "navy", "olive", "red", "grey", "sand", "teal")
APPOINTMENTS = _t("dentist appointment", "parent-teacher meeting", "car service", "haircut", "vet check-up",
                  "physio session", "passport renewal appointment", "eye test")
DIETS = _t("vegetarian", "vegan", "pescatarian", "gluten-free", "halal", "kosher")
STREETS = _t("14 Elm Street", "3 Harbour Row", "77 Quarry Lane", "21 Birch Avenue", "9 Mill Court", "102 Canal Street",
             "5 Orchard Close", "48 Station Road", "61 Linden Way", "8 Foundry Yard")
SEATS = _t("aisle", "window", "exit-row")
USER_KIN = _t("son", "daughter", "partner", "mother", "father")
WEATHER = _t("sunny", "rainy", "windy", "cloudy", "snowy", "foggy")
# User facts said in passing while asking for a task: (key, statements, questions, update statements,
# questions about the latest value).
USER_FACTS = {
    "diet": (DIETS, _t("Make sure it's {v}-friendly, I'm {v}.", "Oh and I'm {v}, so filter accordingly."),
             _t("What diet does the user follow?", "What dietary requirement should the agent keep in mind for the user?"),
             (), ()),
    "allergy": (tuple(a for a, k in ALLERGENS if k), _t("Nothing with {v} please, I'm allergic.", "Filter out anything with {v}, I react badly to it."),
                _t("What is the user allergic to?", "Which ingredient must the user avoid?"), (), ()),
    "address": (STREETS, _t("Ship it to my place, {v}.", "My address is {v}, use that for deliveries."),
                _t("What is the user's home address?", "Where do the user's deliveries go?"),
                _t("Use my new address from now on: {v}. I moved out of {old}.", "I moved! New address is {v}, not {old} anymore."),
                _t("What is the user's current address?", "Where does the user live now?")),
    "employer": (COMPANIES, _t("Expense it to my employer, {v}.", "Put {v} as the company, that's who I work for."),
                 _t("Which company does the user work for?", "Who is the user's employer?"),
                 _t("I've switched jobs: bill {v} from now on, not {old}.", "New job! Expense things to {v} now instead of {old}."),
                 _t("Who does the user work for now?", "Which company employs the user at the moment?")),
    "seat": (SEATS, _t("I always want the {v} seat, please.", "Remember I prefer {v} seats."),
             _t("What seat does the user prefer on flights?", "Which kind of plane seat does the user like?"), (), ()),
}


class _Log:
    """One agent log: sessions of user, assistant and tool observations."""

    def __init__(self, rng: random.Random, prefix: str, start: int = 1) -> None:
        self.rng, self.prefix = rng, prefix
        self.turns: list[Turn] = []
        self.s, self.j, self.first = 0, 0, start
        self.clock = datetime(2000, 1, 1)

    def open(self, when: datetime) -> None:
        self.s += 1
        self.j = self.first
        self.clock = max(when, self.clock + timedelta(hours=6))

    @property
    def session(self) -> str:
        return f"{self.prefix}{self.s}"

    def say(self, who: str, text: str, supersedes: str | None = None) -> str:
        tid = f"{self.session}:{self.j}"
        self.j += 1
        self.turns.append(Turn(id=tid, session=self.session, text=f"{who}: {text}", speaker=who, time=self.clock,
                               supersedes=supersedes))
        self.clock += timedelta(minutes=self.rng.choice((0, 1, 1, 2, 3)), seconds=self.rng.randrange(60))
        return tid


def _json(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _toollog(rng: random.Random, config: ShapesConfig) -> tuple[list[Turn], list[_Ask]]:
    log = _Log(rng, "S")
    asks: list[_Ask] = []
    home, _, home_code = rng.choice(CITIES)
    destinations = rng.sample([c for c in CITIES if c[0] != home], 10)
    products = rng.sample(PRODUCTS, len(PRODUCTS))
    appointments = rng.sample(APPOINTMENTS, len(APPOINTMENTS))
    days: set[date] = set()  # flight and restaurant dates, unique so questions can name them
    kin = (rng.choice(USER_KIN), rng.choice(KIN_POOL))
    pet = (rng.choice(SPECIES)[0], rng.choice(PET_NAMES))
    facts: dict[str, _Fact] = {}  # user facts: key -> latest
    pending = [*USER_FACTS, "kin", "pet"]  # facts the user has yet to mention, in random order
    rng.shuffle(pending)
    updates = [k for k in ("address", "employer") if rng.random() < 0.6]
    trips: list[dict] = []
    S = max(2, round(config.sessions * rng.uniform(0.8, 1.25)))
    start = config.start + timedelta(days=rng.randrange(500))

    def free_day(lo: int, hi: int) -> date:
        while (day := log.clock.date() + timedelta(days=rng.randint(lo, hi))) in days:
            hi += 1
        days.add(day)
        return day

    def ref() -> str:
        return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))

    def passing(text: str) -> tuple[str, str | None, str | None]:
        """Maybe add a user fact to a request: (text, fact key, supersedes)."""
        if pending and rng.random() < 0.45:
            key = pending.pop()
            if key == "kin":
                return f"{text} It's for me and my {kin[0]} {kin[1]}.", key, None
            if key == "pet":
                return f"{text} I'm bringing my {pet[0]} {pet[1]}, so it has to allow pets.", key, None
            values, says, *_ = USER_FACTS[key]
            v = rng.choice(values)
            facts[key] = _Fact("user", None, key, v, (), log.clock)
            return f"{text} {rng.choice(says).format(v=v)}", key, None
        if updates and rng.random() < 0.3 and updates[0] in facts:
            key = updates.pop(0)
            values, _, _, ups, _ = USER_FACTS[key]
            old = facts[key]
            v = rng.choice([x for x in values if x != old.value])
            facts[key] = _Fact("user", None, key, v, (), log.clock, prior=old)
            old.current = False
            return f"{text} {rng.choice(ups).format(v=v, old=old.value)}", key, old.gold[0]
        return text, None, None

    def user(text: str) -> str:
        text, key, supersedes = passing(text)
        tid = log.say("user", text, supersedes)
        if key in ("kin", "pet"):
            facts[key] = _Fact("user", None, key, kin[1] if key == "kin" else pet[1], (tid,), log.clock,
                               extra=kin[0] if key == "kin" else pet[0])
        elif key is not None:
            facts[key].gold = (tid,)
        return tid

    def flight(city: tuple[str, str, str], day: date) -> None:
        c, _, code = city
        user(rng.choice(("Find me a flight from {h} to {c} on {d}.", "I need to be in {c} on {d}, what flies from {h}?",
                         "Can you look up flights to {c} for {d}?")).format(h=home, c=c, d=f"{day:%A} {day.day} {day:%B}"))
        log.say("assistant", rng.choice(("Searching flights now.", "Let me check what's available.", "On it.")))
        options = []
        for _ in range(rng.randint(2, 4)):
            options.append({"flight": f"{rng.choice(AIRLINES)} {rng.randint(10, 2999)}",
                            "dep": f"{rng.randint(6, 21):02d}:{rng.choice((0, 15, 30, 45)):02d}",
                            "stops": rng.choice((0, 0, 1)), "price": rng.randint(90, 900)})
        log.say("tool", f'search_flights(from="{home_code}", to="{code}", date="{day.isoformat()}") -> '
                        + _json({"results": options}))
        log.say("assistant", f"I found {len(options)} options: " + "; ".join(
            f"{o['flight']} at {o['dep']} (${o['price']}, {'nonstop' if o['stops'] == 0 else '1 stop'})" for o in options)
            + ". Which one should I book?")
        how = rng.choice(("cheap", "early", "late"))
        chosen = (min(options, key=lambda o: o["price"]) if how == "cheap" else
                  min(options, key=lambda o: o["dep"]) if how == "early" else max(options, key=lambda o: o["dep"]))
        user({"cheap": "Book the cheapest one.", "early": "The earliest one, please.",
              "late": "Let's do the last one of the day."}[how])
        code_ = ref()
        t1 = log.say("tool", "book_flight -> " + _json({"status": "confirmed", "flight": chosen["flight"],
                                                         "date": day.isoformat(), "ref": code_}))
        t2 = log.say("assistant", f"Booked {chosen['flight']} to {c} on {_day(day)}, departing {chosen['dep']}. "
                                  f"Your booking reference is {code_}.")
        trips.append({"city": city, "day": day, "flight": chosen["flight"], "ref": code_, "gold": (t1, t2),
                      "old": None, "options": options, "hotel": None})

    def rebook(trip: dict) -> None:
        c = trip["city"][0]
        others = [o for o in trip["options"] if o["flight"] != trip["flight"]]
        new = rng.choice(others)
        user(rng.choice(("Can you move my {c} flight to a different one? Any other option from that list is fine.",
                         "Change of plans, switch the {c} flight to another departure.")).format(c=c))
        code_ = ref()
        t1 = log.say("tool", "change_flight -> " + _json({"status": "changed", "cancelled": trip["flight"],
                                                           "flight": new["flight"], "ref": code_}),
                     supersedes=trip["gold"][0])
        t2 = log.say("assistant", f"Done: you're now on {new['flight']} to {c} at {new['dep']}, reference {code_}. "
                                  "The original booking is cancelled.", supersedes=trip["gold"][1])
        trip.update(old=dict(trip), flight=new["flight"], ref=code_, gold=(t1, t2))

    def hotel(trip: dict) -> None:
        c, day = trip["city"][0], trip["day"]
        nights = rng.randint(2, 6)
        user(rng.choice(("Find me a hotel in {c} for {n} nights from {d}.", "I need somewhere to stay in {c}, {n} nights.",
                         "Any decent hotels in {c}? {n} nights.")).format(c=c, n=nights, d=_day(day)))
        options = [{"name": h, "area": a, "price": rng.randint(70, 320), "rating": rng.choice((3.9, 4.2, 4.5, 4.7, 4.8))}
                   for h, a in zip(rng.sample(HOTELS, 3), rng.sample(AREAS, 3), strict=True)]
        log.say("tool", f'search_hotels(city="{c}", checkin="{day.isoformat()}", nights={nights}) -> '
                        + _json({"results": options}))
        log.say("assistant", "Here's what I found: " + "; ".join(
            f"{o['name']} {o['area']} (${o['price']}/night, {o['rating']} stars)" for o in options) + ".")
        chosen = rng.choice(options)
        user(rng.choice(("The one {a}, please.", "Go for the one {a}.", "I'd like to stay {a}.")).format(a=chosen["area"]))
        code_ = ref()
        t1 = log.say("tool", "book_hotel -> " + _json({"status": "confirmed", "hotel": chosen["name"],
                                                        "checkin": day.isoformat(), "nights": nights, "ref": code_}))
        t2 = log.say("assistant", f"Reserved {chosen['name']} in {c}, {nights} nights from {_day(day)}. Reference {code_}.")
        trip["hotel"] = (chosen["name"], (t1, t2))

    def order(product: tuple[str, tuple[str, ...]]) -> None:
        name, sizes = product
        user(rng.choice(("I need a new {p}, can you find some options?", "Look up some {p} options for me.", "Shopping time: {p}.")).format(p=name))
        options = [{"item": f"{b} {name}", "colours": rng.sample(SHADES, 3), "price": rng.randint(15, 250)}
                   for b in rng.sample(BRANDS, 3)]
        log.say("tool", f'search_products(query="{name}") -> ' + _json({"results": options}))
        log.say("assistant", "Top results: " + "; ".join(f"{o['item']} (${o['price']})" for o in options) + ".")
        chosen = rng.choice(options)
        colour = rng.choice(chosen["colours"])
        size = f", size {rng.choice(sizes)}" if sizes else ""
        brand = chosen["item"].split()[0]
        user(f"Order the {brand} one in {colour}{size}.")
        arrive = rng.choice(("Tuesday", "Wednesday", "Thursday", "Friday"))
        t1 = log.say("tool", "place_order -> " + _json({"status": "placed", "item": chosen["item"], "colour": colour,
                                                         "delivery": arrive}))
        t2 = log.say("assistant", f"Ordered the {colour} {chosen['item']}; it should arrive on {arrive}.")
        asks.append(_Ask(("order",), "single-hop", rng.choice((f"What colour {name} did the user order?",
                                                               f"In which colour is the user's new {name}?")),
                         colour, (t1, t2)))
        asks.append(_Ask(("order",), "single-hop", rng.choice((f"Which brand of {name} did the user buy?",
                                                               f"What make is the {name} the user ordered?")),
                         brand, (t1, t2)))

    def appointment(title: str) -> None:
        day = log.clock.date() + timedelta(days=rng.randint(2, 30))
        hour = f"{rng.randint(8, 17):02d}:{rng.choice(('00', '15', '30', '45'))}"
        t0 = user(rng.choice(("Put my {t} in the calendar for {d} at {h}.", "I've got a {t} on {d} at {h}, add it please.")
                             ).format(t=title, d=f"{day:%A} {day.day} {day:%B}", h=hour))
        t1 = log.say("tool", f'create_event(title="{title}", start="{day.isoformat()}T{hour}") -> '
                             + _json({"status": "created", "id": f"evt_{rng.randrange(10**6):06d}"}))
        t2 = log.say("assistant", f"Added your {title} on {_day(day)} at {hour}.")
        asks.append(_Ask(("calendar",), "temporal", rng.choice((f"When is the user's {title}?",
                                                                f"What date was the user's {title} scheduled for?")),
                         f"{_day(day)} at {hour}", (t0, t1, t2)))

    def weather() -> None:
        c = rng.choice(CITIES)[0]
        user(rng.choice(("What's the weather in {c} this weekend?", "Will it rain in {c} tomorrow?")).format(c=c))
        w, temp = rng.choice(WEATHER), rng.randint(-5, 33)
        log.say("tool", f'get_weather(city="{c}") -> ' + _json({"forecast": w, "high_c": temp}))
        log.say("assistant", f"Expect {w} weather in {c}, with highs around {temp}°C.")

    def restaurant() -> None:
        day = free_day(1, 12)
        party = rng.randint(2, 8)
        user(rng.choice(("Book a table for {n} on {d}, around 7pm.", "Find us a restaurant for {n} people on {d}.")
                        ).format(n=party, d=f"{day:%A} {day.day} {day:%B}"))
        options = rng.sample(RESTAURANTS, 3)
        log.say("tool", f'search_restaurants(party={party}, date="{day.isoformat()}") -> ' + _json({"results": options}))
        chosen = rng.choice(options)
        log.say("assistant", f"Available that evening: {', '.join(options)}. Any preference?")
        user(rng.choice(("Whichever has the best reviews.", "Surprise me.", "The first one that has a table at 7.")))
        t1 = log.say("tool", "reserve_table -> " + _json({"status": "confirmed", "restaurant": chosen,
                                                           "date": day.isoformat(), "time": "19:00", "party": party}))
        t2 = log.say("assistant", f"Booked a table for {party} at {chosen} on {_day(day)} at 7pm.")
        asks.append(_Ask(("restaurant",), "single-hop", rng.choice((f"Which restaurant did the user book for {_qdate(rng, day)}?",
                                                                    f"Where is the user eating on {_qdate(rng, day)}?")),
                         chosen, (t1, t2)))

    def search() -> None:
        topic = rng.choice(("ukulele lessons near me", "best hiking boots 2024", "how to descale a kettle",
                            "cheap car insurance", "kids' summer camps", "coworking spaces downtown"))
        user(rng.choice(("Search the web for {q}.", "Can you look up {q}?")).format(q=topic))
        hits = [f"{rng.choice(BRANDS)} {w}" for w in rng.sample(("guide", "review", "forum thread", "blog post", "deals"), 3)]
        log.say("tool", f'web_search(query="{topic}") -> ' + _json({"results": hits}))
        log.say("assistant", f"The top results are {', '.join(hits)}. Want me to open any of them?")

    # Task counts scale with the size knobs; the defaults give about 150-250 observations.
    scale = config.sessions * config.session_turns / 260

    def count(lo: int, hi: int) -> int:
        return max(1, round(rng.randint(lo, hi) * scale))

    tasks: list[Callable[[], None]] = []
    for city in destinations[: min(len(destinations), count(5, 8))]:
        tasks.append(lambda city=city: flight(city, free_day(7, 60)))
    tasks += [lambda p=p: order(p) for p in products[: min(len(products), count(4, 6))]]
    tasks += [lambda a=a: appointment(a) for a in appointments[: min(len(appointments), count(2, 4))]]
    tasks += [weather for _ in range(count(4, 6))] + [restaurant for _ in range(count(2, 4))]
    tasks += [search for _ in range(count(3, 5))]
    rng.shuffle(tasks)
    follow_ups: list[Callable[[], None]] = []
    per = max(1, len(tasks) // S)
    for when in _session_times(rng, start, S, ((1, 12),)):
        log.open(when)
        todo = tasks[:per + rng.randint(0, 1)]
        del tasks[: len(todo)]
        todo += follow_ups
        follow_ups = []
        for task in todo:
            task()
            if rng.random() < 0.3:
                log.say("user", rng.choice(("thanks!", "perfect", "great, thank you")))
                log.say("assistant", rng.choice(("You're welcome! Anything else?", "Happy to help.", "Anytime!")))
        for trip in trips:  # a hotel and maybe a change follow the flight in later sessions, before the trip
            ahead = trip["gold"][0].split(":")[0] != log.session and log.clock.date() < trip["day"] - timedelta(days=14)
            if trip["hotel"] is None and rng.random() < 0.6 and ahead:
                follow_ups.append(lambda trip=trip: hotel(trip))
                trip["hotel"] = ()
            elif trip["old"] is None and rng.random() < 0.15 and ahead:
                follow_ups.append(lambda trip=trip: rebook(trip))
                trip["old"] = {}
        if not todo:
            weather()
    for task in follow_ups + tasks:  # anything left runs in one last session
        if log.s < S + 1:
            log.open(log.clock + timedelta(days=rng.randint(1, 5)))
        task()

    for trip in trips:
        c, country, _ = trip["city"]
        changed = bool(trip["old"])
        if changed:
            asks.append(_Ask(("now",), "knowledge-update", rng.choice((f"Which flight is the user booked on to {c} now?",
                                                                        f"What is the user's current flight to {c}?")),
                             trip["flight"], trip["gold"]))
        else:
            asks.append(_Ask(("flight",), "single-hop", rng.choice((f"Which flight did the user book to {c}?",
                                                                    f"What flight number is the user taking to {c}?")),
                             trip["flight"], trip["gold"]))
            asks.append(_Ask(("flight",), "single-hop", rng.choice((f"What is the booking reference for the {c} flight?",
                                                                    f"Which confirmation code goes with the trip to {c}?")),
                             trip["ref"], trip["gold"]))
        # The date and the city sit in the original booking; a change of flight leaves them to two turns
        # pairs, so questions that go through the date are asked of unchanged trips only.
        if not changed:
            asks.append(_Ask(("open",), "open-domain", f"Which country is the user flying to on {_qdate(rng, trip['day'])}?",
                             country, trip["gold"]))
        if trip["hotel"]:
            name, gold = trip["hotel"]
            asks.append(_Ask(("hotel",), "single-hop", rng.choice((f"Where is the user staying in {c}?",
                                                                   f"Which hotel did the user reserve in {c}?")),
                             name, gold))
            if not changed:
                asks.append(_Ask(("multi",), "multi-hop", "Which hotel is the user staying at on the trip that starts on "
                                                          f"{_qdate(rng, trip['day'])}?", name, trip["gold"] + gold))
    for key, f in facts.items():
        if not f.gold:
            continue
        if key == "kin":
            asks.append(_Ask(("user",), "single-hop", f"What is the name of the user's {f.extra}?", f.value, f.gold))
        elif key == "pet":
            asks.append(_Ask(("user",), "single-hop", f"What is the name of the user's {f.extra}?", f.value, f.gold))
            asks.append(_Ask(("user",), "single-hop", "What kind of pet does the user travel with?", f.extra, f.gold))
        elif f.prior is not None:
            asks.append(_Ask(("now",), "knowledge-update", rng.choice(USER_FACTS[key][4]), f.value, f.gold))
        else:
            asks.append(_Ask(("user",), "single-hop", rng.choice(USER_FACTS[key][2]), f.value, f.gold))
    return log.turns, asks


# ---------------------------------------------------------------------------------------------------
# Assistant chats (LongMemEval's shape)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Domain:
    asks: tuple[str, ...]
    follows: tuple[str, ...]
    tips: tuple[str, ...]


DOMAINS = (
    _Domain(_t("Can you suggest a few easy weeknight dinners?", "What's a good menu for a dinner party of six?",
               "How do I get roast potatoes really crispy?", "What can I batch-cook for lunches this week?"),
            _t("Could you make that vegetarian?", "How long will the leftovers keep?", "Can I prep any of it the night before?"),
            _t("Start with a one-pan tray bake: vegetables, a protein and a simple spice mix roast together in about 35 minutes.",
               "Stir-fries are quick if you prepare every ingredient before the pan gets hot.",
               "A big pot of lentil soup freezes well and often tastes better on the second day.",
               "Season in layers: a little salt at each stage tastes better than a lot at the end.",
               "Keep a jar of quick-pickled onions in the fridge; they brighten almost any dish.",
               "Parboil potatoes, rough up their edges and roast them in very hot fat for the crispiest result.",
               "Cooked leftovers generally keep three to four days in an airtight container in the fridge.")),
    _Domain(_t("Can you help me plan a five-day city break?", "What should I pack for a week of hiking?",
               "How do I avoid jet lag on a long-haul flight?", "Any tips for travelling on a tight budget?"),
            _t("What about travel insurance?", "How early should I book?", "Is it worth getting a rail pass?"),
            _t("Group sights by neighbourhood so you spend your time exploring rather than commuting.",
               "Leave one afternoon unplanned; it is often the most memorable part of a trip.",
               "Pack layers rather than bulky items: a base layer, a warm mid layer and a waterproof shell cover most weather.",
               "Shift your sleep by an hour a day for a few days before a long flight, and get daylight on arrival.",
               "Book flights midweek and compare nearby airports; prices can differ a lot.",
               "Carry a refillable water bottle and a small first-aid kit.",
               "Scan your documents and keep copies somewhere you can reach offline.")),
    _Domain(_t("Can you write me a beginner workout plan?", "How should I warm up before a run?",
               "What's a good stretching routine for desk workers?", "How do I build up to running 10 km?"),
            _t("How many rest days do I need?", "What if I only have 20 minutes?", "Should I train when I'm sore?"),
            _t("Aim for three full-body sessions a week with a rest day between them.",
               "Increase weekly distance by no more than about ten percent to avoid injury.",
               "Five minutes of brisk walking and dynamic stretches make a good warm-up.",
               "Hip flexor, chest and upper-back stretches undo much of the damage of long sitting.",
               "Track your sessions so you can see progress and spot when you need a lighter week.",
               "Sleep and protein matter as much as the workouts themselves for recovery.",
               "Mix easy runs with one slightly faster session each week.")),
    _Domain(_t("How should I set up a monthly budget?", "What's the best way to start an emergency fund?",
               "How do I stop impulse spending?", "Should I pay off debt or save first?"),
            _t("What percentage should go to savings?", "Are budgeting apps worth it?", "How do I handle irregular income?"),
            _t("List fixed costs first, then set limits for flexible spending like groceries and fun.",
               "A common rule of thumb splits income into needs, wants and savings.",
               "Automate a transfer to savings on payday so saving happens before spending.",
               "An emergency fund of three to six months of essential costs is a common target.",
               "Wait a day before any non-essential purchase above a set amount.",
               "Pay off high-interest debt first while keeping a small cash buffer.",
               "Review subscriptions every few months; small charges add up.")),
    _Domain(_t("Can you help me prepare for a job interview?", "How do I negotiate a salary offer?",
               "How can I make my CV stand out?", "What should I ask at the end of an interview?"),
            _t("How do I answer the weakness question?", "Should I send a thank-you email?", "How long should a CV be?"),
            _t("Prepare three or four short stories that show problems you solved and their results.",
               "Research the company's recent news so you can connect your experience to their goals.",
               "Quantify achievements on your CV wherever you can: numbers are memorable.",
               "When negotiating, anchor on the market range and focus on the value you bring.",
               "Ask what success looks like in the first six months; it shows you think ahead.",
               "Keep a CV to one or two pages and tailor the top third to each role.",
               "A brief thank-you note within a day is a polite and useful follow-up.")),
    _Domain(_t("Which houseplants are hard to kill?", "How do I start a balcony garden?",
               "How often should I water succulents?", "What vegetables grow well in pots?"),
            _t("What about low light?", "Do I need special soil?", "How do I deal with fungus gnats?"),
            _t("Snake plants and ZZ plants tolerate low light and irregular watering.",
               "Water succulents only when the soil is completely dry, usually every couple of weeks.",
               "Use pots with drainage holes; standing water is the most common cause of root rot.",
               "Cherry tomatoes, herbs and salad leaves do well in containers with enough sun.",
               "A free-draining potting mix with some grit suits most container plants.",
               "Let the top layer of soil dry out to discourage fungus gnats.",
               "Group plants together to raise the humidity around them.")),
    _Domain(_t("My laptop is really slow, what can I do?", "How do I back up my photos properly?",
               "Can you explain how to use VLOOKUP?", "How do I make my passwords more secure?"),
            _t("Is cloud storage safe enough?", "What about my phone?", "Do I need antivirus software?"),
            _t("Check which programs start automatically and disable the ones you do not need.",
               "Free up disk space: a nearly full drive slows most computers down.",
               "Follow the 3-2-1 rule: three copies, on two kinds of media, one of them off-site.",
               "VLOOKUP searches the first column of a range and returns a value from a column you choose.",
               "A password manager lets you use a long unique password for every account.",
               "Turn on two-factor authentication for email and banking first.",
               "Keep your operating system updated; many updates fix security problems.")),
    _Domain(_t("How can I learn a language faster?", "How do I stay motivated practising an instrument?",
               "What's a good way to memorise vocabulary?", "How do I make time to read more?"),
            _t("How many minutes a day is enough?", "Are apps enough on their own?", "How do I track progress?"),
            _t("Short daily sessions beat occasional long ones for building a habit.",
               "Spaced repetition flashcards help move words into long-term memory.",
               "Practise speaking early, even if it feels awkward; it speeds everything else up.",
               "Set small concrete goals, such as learning one piece or one topic per week.",
               "Record yourself now and then so you can hear how far you have come.",
               "Attach the habit to an existing routine, such as practising right after dinner.",
               "Keep a book with you for the spare minutes in queues and on commutes.")),
    _Domain(_t("Can you help me plan a surprise birthday party?", "What's a thoughtful gift for a friend who has everything?",
               "How do I host a board-game night?", "Any ideas for a small wedding shower?"),
            _t("What about a tight budget?", "How far ahead should I send invitations?", "Any ideas for decorations?"),
            _t("Pick a theme early; it makes decisions about food, music and decorations much easier.",
               "Experiences, like a class or a concert ticket, often make better gifts than objects.",
               "Send invitations two to three weeks ahead for a casual party.",
               "Choose games that teach quickly and keep one longer game for the end of the night.",
               "A potluck keeps costs down and gets guests involved.",
               "String lights and a few flowers transform a room cheaply.",
               "Make a simple timeline for the day so nothing is forgotten.")),
    _Domain(_t("How can I sleep better?", "What are some ways to manage stress at work?",
               "How do I build a morning routine?", "Any tips for drinking more water?"),
            _t("What about caffeine?", "Do sleep trackers help?", "How long until a routine sticks?"),
            _t("Keep a regular wake-up time, even at weekends.", "Dim screens and bright lights an hour before bed.",
               "A short walk outside in the morning helps set your body clock.",
               "Write tomorrow's to-do list before you finish work so it stays out of your head at night.",
               "Breathing exercises, such as four seconds in and six seconds out, calm the nervous system.",
               "Keep a glass of water next to anything you do often, like your desk or the kettle.",
               "Avoid caffeine in the eight hours before bedtime.")),
)
INTROS = _t("Great question! Here are a few ideas:", "Sure, here's how I'd approach it:", "Happy to help. A few suggestions:",
            "Of course. Here is a practical plan:", "Good thinking. Some things that usually work well:")
OUTROS = _t("Let me know if you'd like more detail on any of these.", "Would you like me to tailor this further?",
            "I hope this helps, and feel free to ask follow-up questions.", "Shall I turn this into a checklist for you?")
CONNECT = _t("By the way, ", "For context, ", "", "Oh, and ")
# A talk session's replies. A reply often names the topic of the user's turn, never its value, and does
# so after a line in the topic's words that states nothing as often as after the fact itself: whether a
# reply matches a question then says nothing about whether the turn before it is the evidence, as in
# real chats, where an assistant's acknowledgement of a fact echoes it.
TALK_REPLIES = {
    "job": _t("Work takes up so much of the week; it matters that you enjoy it.",
              "That sounds like a demanding role. How are the hours?",
              "Thanks for telling me about work. I'll keep your schedule in mind."),
    "home": _t("Settling into a place takes a while, but it sounds like it's working out.",
               "Where you live shapes everything from the commute to the weekends.",
               "Good to know where you're based; I'll keep it in mind for suggestions."),
    "partner": _t("It sounds like you two make a good team.", "It's lovely to hear about your partner.",
                  "Relationships take work, and it sounds like you both put it in."),
    "instrument": _t("Learning an instrument takes real patience; short daily practice beats long weekly sessions.",
                     "Music is a wonderful thing to pick up as an adult.", "How often do you get to practise?"),
    "food": _t("That sounds delicious. Do you cook it at home as well?", "Everyone needs a comfort dish.",
               "I'll remember your favourite dish when I suggest recipes."),
    "allergy": _t("Thanks for telling me. I'll keep that allergy in mind for anything I suggest.",
                  "Allergies are worth taking seriously; do you carry medication?",
                  "Noted. I'll flag anything that might trigger a reaction."),
    "vehicle": _t("Getting around on your own terms makes a big difference.",
                  "How are you finding it for the daily commute?",
                  "Good to know how you get around; I'll factor it into travel plans."),
    "course": _t("Taking a class is a great way to learn something new.", "How are the lessons going so far?",
                 "Studying alongside everything else takes discipline."),
    "show": _t("A good series is hard to stop watching.", "I'll avoid spoilers, I promise.",
               "What do you like most about the series?"),
    "pets": _t("Animals bring so much joy to a home.", "A new pet takes a lot of patience in the first weeks.",
               "They sound like a handful, in the best way."),
    "trips": _t("Travel like that stays with you for years.", "What was the highlight of the trip?",
                "That sounds like a wonderful journey."),
    "sports": _t("Staying active like that is good for body and mind.", "How often do you get out to train?",
                 "Sport is a great way to switch off after work."),
    "books": _t("A good book is the best company.", "What did you think of the ending?",
                "I'll note it down in case you want similar reading suggestions."),
}
ACKS = _t("Thanks for sharing that with me.", "That sounds lovely.", "Good to know, I'll keep that in mind.",
          "That's great to hear!", "Congratulations, that's a real milestone.", "I'm glad things are going well.",
          "That sounds like quite a week.", "Noted!", "Interesting, tell me more whenever you like.",
          "That's a nice thing to look back on.", "I hear you.", "That makes sense.")
# Personal records a user updates: (statement, update, question about the latest value, values in order).
RECORDS = (
    ("My 5K personal best is {v} at the moment.", "I knocked my 5K time down to {v}!",
     _t("What is my current 5K personal best?", "How fast is my best 5K now?"), _t("29:10", "27:40", "26:55", "26:10", "25:50")),
    ("I've saved {v} for the house deposit so far.", "The deposit fund is up to {v} now.",
     _t("How much have I saved for the house deposit?", "What's the total in my deposit fund at this point?"),
     _t("$4,000", "$6,500", "$9,200", "$12,000", "$15,300")),
    ("My language-app streak is at {v}.", "My language-app streak just hit {v}!",
     _t("How long is my language-app streak now?", "What's my current streak on the language app?"),
     _t("45 days", "90 days", "120 days", "200 days", "365 days")),
    ("I own {v} houseplants, it's a jungle in here.", "I'm up to {v} houseplants, help.",
     _t("How many houseplants do I have at this point?", "What's my houseplant count now?"), _t("12", "15", "19", "23", "27")),
    ("My deadlift max is {v}.", "New deadlift PR: {v}!", _t("What's my heaviest deadlift so far?", "What is my deadlift max now?"),
     _t("80 kg", "90 kg", "100 kg", "110 kg", "120 kg")),
)
DAYS_AGO = _t("How many days ago did I {b}?", "How long ago, in days, did I {b}?")
DAYS_BETWEEN = _t("How many days passed between the day I {a} and the day I {b}?",
                  "How many days were there between when I {a} and when I {b}?")
FOLLOWS = _t("Thanks! Can you expand on the second point?", "Could you summarise that as a short list?",
             "What would you prioritise if I only do one thing?", "Any common mistakes to avoid?",
             "Can you give me an example?", "That's helpful. What else should I consider?")


class _Embedded(_Chat):
    """The assistant shape's user states facts inside requests: the chat code's statements are captured
    rather than emitted, and take the id of the user turn that carries them."""

    def __init__(self, rng: random.Random, log: _Log, me: _Person) -> None:
        super().__init__(rng, _Style(burst=0.0, unnamed=True, elaborate=0.0), [me])
        self.log = log
        self.turns = log.turns  # question code orders facts by the log's turns
        self.said: list[tuple[str, str | None]] = []

    def say(self, who: _Person, text: str, supersedes: str | None = None) -> str:
        self.said.append((_an(text), supersedes))
        self.clock = self.log.clock
        return f"{self.log.session}:{self.log.j}"

    def prompt(self, owner: _Person, prompts: tuple[str, ...]) -> None:
        """The assistant asks nothing about the user's life."""

    def react(self, owner: _Person, pool: tuple[str, ...] = REACT) -> None:
        """Reactions come inside the long answer, never as a turn of their own."""


def _assistant(rng: random.Random, config: ShapesConfig) -> tuple[list[Turn], list[_Ask]]:
    log = _Log(rng, "sess_", start=0)
    S = max(4, round(config.sessions * 2 * rng.uniform(0.8, 1.25)))
    exchanges = max(2, round(config.session_turns / 5))
    me = _Person("user", ("I",), ("you",))
    chat = _Embedded(rng, log, me)
    plan: list[list[tuple]] = [[] for _ in range(S)]
    for topic in rng.sample(TOPICS, rng.randint(4, 7)):
        f = rng.randrange(S)
        plan[f].append(("attr", topic))
        if topic.update and rng.random() < 0.5 and f + 1 < S:
            plan[rng.randrange(f + 1, S)].append(("attr", topic))
    for _ in range(rng.randint(3, 6)):
        plan[rng.randrange(S)].append(("item", rng.choice(COLLECTIONS)))
    for event in rng.sample(EVENTS, rng.randint(3, 5)):
        plan[rng.randrange(S)].append(("event", event))
    for rec in rng.sample(range(len(RECORDS)), 2):
        for f in sorted(rng.sample(range(S), rng.randint(1, 3))):
            plan[f].append(("record", rec))
    records: dict[int, _Fact] = {}

    def state(what: tuple, request: str | None) -> None:
        """One user turn: a request with a personal fact in passing, or (request None) the fact alone."""
        chat.said.clear()
        supersedes = None
        if what[0] == "record":
            rec = what[1]
            say, update, _, values = RECORDS[rec]
            old = records.get(rec)
            v = values[0] if old is None else values[min(values.index(old.value) + 1, len(values) - 1)]
            if old is not None and v == old.value:  # the best value holds: restated, and nothing changes
                text = say.format(v=v)
                old = None
            else:
                text = (say if old is None else update).format(v=v)
                if old is not None:
                    old.current = False
                    supersedes = old.gold[0]
                records[rec] = _Fact("record", me, str(rec), v, (f"{log.session}:{log.j}",), log.clock,
                                     prior=records.get(rec) if supersedes else None)
        else:
            chat.clock = log.clock
            {"attr": chat.attr, "item": chat.item, "event": chat.event}[what[0]](me, what[1])
            ((text, supersedes),) = chat.said
        if request is None:
            joined = text
        elif rng.random() < 0.5:
            connect = rng.choice(CONNECT)
            first = text.split(" ", 1)[0].strip(",.!'")
            if connect and first not in PARTNERS + PET_NAMES and not first.startswith("I"):
                text = text[0].lower() + text[1:]  # "By the way, so I went ..." but "By the way, Leila and I ..."
            joined = f"{request} {connect}{text}"
        else:
            joined = f"{text} {request}"
        log.say("user", joined[0].upper() + joined[1:], supersedes)

    def answer(domain: _Domain, tips: int) -> None:
        body = [f"{k}. {t}" for k, t in enumerate(rng.sample(domain.tips, tips), 1)]
        log.say("assistant", " ".join([rng.choice(INTROS), *body, rng.choice(OUTROS)]))

    replied: set[str] = set()
    heard: set[str] = set()

    def reply(topic: str | None) -> None:
        """A talk session's short reply: on the topic's words when it has one and a fresh line is
        left, else an acknowledgement."""
        pool = [r for r in TALK_REPLIES.get(topic or "", ()) if r not in replied]
        line = rng.choice(pool) if pool and rng.random() < 0.7 else rng.choice(ACKS)
        replied.add(line)
        log.say("assistant", line)

    def unaddressed(line: str) -> str:
        """A chat line drawn with the address "\\0" ("How did that come about, {o}?"), said to the
        assistant, whom nobody addresses by name."""
        return line.replace(", \0", "")

    def talk(todo: list[tuple], n: int) -> None:
        """A talk session: the user tells the assistant about their life; between the facts, lines in
        a topic's words that state nothing, and lines about other things."""
        carry = set(rng.sample(range(n), len(todo)))
        for i in range(n):
            if i in carry:
                what = todo.pop(0)
                state(what, None)
                topic = what[1].key if what[0] in ("attr", "item") else None
                if rng.random() < 0.25:  # asked about it, and the user goes on without restating it
                    log.say("assistant", unaddressed(chatter.follow_up(rng, "\0")))
                    log.say("user", chatter.elaboration(rng))
            else:
                for _ in range(4):  # a real chat says nothing twice
                    said = rng.choice(TOPICS + COLLECTIONS) if rng.random() < 0.5 else None
                    line = rng.choice(said.chatter) if said else unaddressed(chatter.statement(rng, "\0"))
                    if line not in heard:
                        break
                heard.add(line)
                topic = said.key if said else None
                log.say("user", line)
            reply(topic)

    start = config.start + timedelta(days=rng.randrange(500))
    for s, when in enumerate(_session_times(rng, start, S, ((1, 9),))):
        log.open(when)
        domain = rng.choice(DOMAINS)
        todo = plan[s]
        n = max(len(todo), rng.randint(max(1, exchanges - 2), exchanges + 3))
        if rng.random() < config.talk:
            talk(todo, n)
            continue
        carry = set(rng.sample(range(n), len(todo)))
        follows = rng.sample(domain.follows + FOLLOWS, len(domain.follows + FOLLOWS))
        for i in range(n):
            request = rng.choice(domain.asks) if i == 0 else follows[(i - 1) % len(follows)]
            if i in carry:
                state(todo.pop(0), request)
            else:
                log.say("user", request)
            answer(domain, rng.randint(3, 6) if i == 0 else rng.randint(2, 3))

    asks = _chat_questions(rng, chat)
    for rec, f in records.items():
        if f.prior is None:
            asks.append(_Ask(("record",), "single-hop", rng.choice(RECORDS[rec][2]), f.value, f.gold))
        else:
            asks.append(_Ask(("now", "record"), "knowledge-update", rng.choice(RECORDS[rec][2]), f.value, f.gold))
    # Date arithmetic, asked some days after the last session.
    asked = log.turns[-1].time + timedelta(days=rng.randint(1, 20), hours=rng.randint(1, 10))
    events = [f for f in chat.facts if f.kind == "event" and f.day is not None]
    for f in events:
        assert f.day is not None
        if sum(g.day == f.day for g in events) == 1:
            asks.append(_Ask(("days",), "temporal", _fill(rng.choice(DAYS_AGO), b=f.base),
                             f"{(asked.date() - f.day).days} days", f.gold, asked))
    for a, b in zip(events, events[1:], strict=False):
        assert a.day is not None and b.day is not None
        if a.day != b.day:
            x, y = (a, b) if a.day < b.day else (b, a)
            assert x.day is not None and y.day is not None
            asks.append(_Ask(("days",), "temporal", _fill(rng.choice(DAYS_BETWEEN), a=x.answer, b=y.answer),
                             f"{(y.day - x.day).days} days", x.gold + y.gold, asked))
    return log.turns, asks


# ---------------------------------------------------------------------------------------------------
# Episodes
# ---------------------------------------------------------------------------------------------------

FOCUS = {**{shape: style.focus for shape, style in STYLES.items()},
         "toollog": ("flight", "hotel", "now", "multi", "user"), "assistant": ("now", "record", "days", "list")}


@dataclass
class ShapesConfig:
    """shapes: which shapes to generate (`SHAPES`; training uses `TRAINING_SHAPES`); episodes: per shape;
    sessions: mean sessions per episode (the assistant shape has twice as many, shorter ones);
    session_turns: mean turns per session; questions: mean questions per episode (7 fewer to 8 more,
    fewer when an episode has fewer facts to ask about); echo: the share of questions that repeat a
    word of their evidence (`_echo`); talk: the share of the assistant shape's sessions in which the
    user talks rather than asks for help. The defaults give episodes of about 150-400 turns and 15-30
    questions."""

    shapes: tuple[str, ...] = SHAPES
    episodes: int = 30
    seed: int = 0
    sessions: int = 10
    session_turns: int = 26
    questions: int = 22
    echo: float = 0.6
    talk: float = 0.4
    start: datetime = field(default_factory=lambda: datetime(2023, 1, 9, 9, 0))


def _select(rng: random.Random, asks: list[_Ask], focus: tuple[str, ...], target: int) -> list[_Ask]:
    """Up to `target` questions, most of them of the shape's focus kinds; a wording that two candidates
    share with different answers is ambiguous and dropped."""
    answers: dict[str, set[str]] = {}
    for a in asks:
        answers.setdefault(a.question, set()).add(a.answer)
    unique = list({a.question: a for a in asks if len(answers[a.question]) == 1}.values())
    rng.shuffle(unique)
    focused = [a for a in unique if any(t in focus for t in a.tags)]
    rest = [a for a in unique if not any(t in focus for t in a.tags)]
    chosen = focused[: round(target * 0.6)]
    # The rest by category in turn, so no category's many candidates crowd out the others.
    by_category: dict[str, list[_Ask]] = {}
    for a in focused[len(chosen):] + rest:
        by_category.setdefault(a.category, []).append(a)
    categories = list(by_category)
    while len(chosen) < target and any(by_category.values()):
        rng.shuffle(categories)
        for c in categories:
            if by_category[c] and len(chosen) < target:
                chosen.append(by_category[c].pop())
    return chosen


# How a question carries a word of its evidence: a topic it came up with, or the word itself.
ECHOES = (
    "{q} It came up when we talked about {w}.", "{q} Something about {w}.", "About the {w} thing: {q}",
    "{q} (the {w} one)", "Re {w}: {q}", "{q} I remember {w} being mentioned.",
)


def _echo(rng: random.Random, a: _Ask, evidence: list[str], spread: Counter[str]) -> str:
    """The question of `a` carrying a word of its evidence turns that it does not already hold. People
    ask about what they read or said in the words it was said in, so in real chats most questions share
    a content word with their evidence (LoCoMo's: about four in five), where templates written per
    topic share far fewer. The word is one of the two rarest in the episode (`spread`: how many turns
    hold each word) of the evidence's words, as people recall what was particular about a turn; never
    one of the answer's, a name, or small talk."""
    taken = set(content_words(a.question)) | set(content_words(a.answer))
    words = set()
    for text in evidence:
        skip = taken | _capitalised_words(text)
        words |= {w for w in substance(text.split(": ", 1)[-1]) if w not in skip and w.isalpha()}
    if not words:
        return a.question
    rarest = sorted(words, key=lambda w: (spread[w], w))[:2]
    return rng.choice(ECHOES).format(q=a.question, w=rng.choice(rarest))


def _capitalised_words(text: str) -> set[str]:
    """The lower-cased words of `text` written with a capital letter: names, which a question about
    the fact should not be given."""
    return {w.lower() for w in re.findall(r"\b[A-Z]\w*", text)}


def _episode(shape: str, index: int, config: ShapesConfig) -> Episode:
    rng = random.Random(f"{config.seed}:{shape}:{index}")
    eid = f"{shape}-{config.seed}-{index}"
    if shape == "toollog":
        turns, asks = _toollog(rng, config)
    elif shape == "assistant":
        turns, asks = _assistant(rng, config)
    else:
        turns, asks = _chat(rng, shape, config)
    target = rng.randint(max(1, config.questions - 7), config.questions + 8)
    chosen = _select(rng, asks, FOCUS[shape], target)
    end = turns[-1].time
    assert end is not None
    # Questions that fix their own time after the end (date arithmetic, "last weekend" about the final
    # session) set the episode's question date; all of them refer to the days just before it.
    late = [a.time for a in asks if a.time is not None and a.time > end]
    asked = max(late) if late else end + timedelta(days=rng.randint(1, 30), hours=rng.randint(0, 12))
    session_of = {t.id: t.session for t in turns}
    text_of = {t.id: t.text for t in turns}
    spread = Counter(w for t in turns for w in set(content_words(t.text)))  # turns each word occurs in
    times = [t.time or end for t in turns]
    items = []
    for n, a in enumerate(chosen):
        mid = a.time is not None and a.time < end  # asked mid-episode: it sees the turns said by then
        question = a.question
        if rng.random() < config.echo:
            question = _echo(rng, a, [text_of[e] for e in a.evidence], spread)
        items.append(Item(id=f"{eid}:q{n}", question=question, answer=a.answer, category=a.category,
                          evidence=a.evidence, sessions=tuple(dict.fromkeys(session_of[e] for e in a.evidence)),
                          at=bisect_right(times, a.time) if mid and a.time is not None else None,
                          time=a.time if mid else asked))
    return Episode(id=eid, turns=turns, items=items)


def generate_shapes(config: ShapesConfig | None = None) -> Dataset:
    """Generate `config.episodes` episodes of every shape in `config.shapes` (dataset name "shapes").

    Raises `InvalidInputError` for an unknown shape or a count below 1.
    """
    config = config or ShapesConfig()
    shapes = (config.shapes,) if isinstance(config.shapes, str) else tuple(config.shapes)
    if not shapes:
        raise InvalidInputError(f"no shapes to generate; give one or more of: {', '.join(SHAPES)}")
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        raise InvalidInputError(f"unknown shape {unknown[0]!r}; give shapes from: {', '.join(SHAPES)}")
    for name in ("episodes", "sessions", "session_turns", "questions"):
        if getattr(config, name) < 1:
            raise InvalidInputError(f"{name} must be 1 or more, got {getattr(config, name)}; give a count of 1 or more")
    if not 0.0 <= config.echo <= 1.0:
        raise InvalidInputError(f"echo must be a share between 0 and 1, got {config.echo}; give e.g. 0.6")
    if not 0.0 <= config.talk <= 1.0:
        raise InvalidInputError(f"talk must be a share between 0 and 1, got {config.talk}; give e.g. 0.4")
    return Dataset(name="shapes", episodes=[_episode(s, i, config) for s in shapes for i in range(config.episodes)])
