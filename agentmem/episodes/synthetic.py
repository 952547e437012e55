"""A synthetic long-horizon memory benchmark the project owns (no licence limits, any scale).

An episode is one agent's history: dated sessions of user, agent and tool observations. A fraction of
observations state facts about people (where they live, work, what they drive, which project they are
on), later *updated* (the latest value is the right answer, the older ones become hard distractors),
plus dated events and pets. The rest are distractors that reuse the same names, cities and companies
without stating a fact. Questions are asked after the episode:

- single-hop: an attribute stated once ("Which company does Ana Silva work at?")
- knowledge-update: an attribute changed at least once; the gold is only the latest statement
- temporal-order: which of two events happened first; both event turns are gold
- multi-hop: "Which city does the owner of Bimo the cat live in?": the pet turn and the owner's latest
  city turn are gold, and the second one shares no words with the question

Generation streams (`stream`): the world keeps only the current value of each attribute, a bounded
reservoir of events and the pets, so a million observations take seconds and little memory beyond the
turns themselves. Everything is drawn from one `random.Random(seed)` per episode: same seed, same data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agentmem.episodes.episode import Dataset, Episode, Item, Turn
from agentmem.errors import InvalidInputError


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST = _words("Ana Ben Chloe Dmitri Elena Farid Grace Hiro Ines Jonas Kira Luca Maya Nikhil Olga Pablo Quinn Rosa "
         "Sami Tara Umar Vera Wen Ximena Yusuf Zoe Aiko Bruno Carmen Dario Esme Felix Gita Hugo Ilse Jamal "
         "Kofi Lena Mateo Nadia Omar Priya Rafael Sofia Tomas Ulla Viktor Wanda Yara Zain")
LAST = _words("Silva Novak Okafor Tanaka Haddad Kowalski Moreau Lindqvist Rossi Petrov Mensah Garcia Kim Ivanova "
        "Fischer Nakamura Costa Dubois Jensen Kaur Murphy Sato Weber Yilmaz Adeyemi Bianchi Castro Duarte "
        "Eriksen Farouk Gomez Horvat Ito Jovanovic Keller Laine Mori Nilsen Ortiz Pereira Quispe Reyes "
        "Schmidt Torres Urbano Vargas Wagner Xu Yamada Zhou")
ATTRIBUTES: dict[str, tuple[tuple[str, ...], str, str, str]] = {
    # name: (values, first statement, update statement, question)
    "city": (_words("Lisbon Oslo Nairobi Osaka Lima Krakow Porto Dublin Montreal Seoul Tallinn Valencia Hanoi "
                   "Accra Bergen Cusco Dakar Eindhoven Florence Geneva Hobart Izmir Jaipur Kyoto Leeds Malmo "
                   "Nantes Ottawa Perth Quito"),
             "{p} lives in {v}.", "{p} has moved from {old} to {v}.", "Which city does {p} live in?"),
    "employer": (_words("Northwind Acme Globex Initech Umbrella Hooli Vandelay Stark Wayne Tyrell Cyberdyne Soylent "
                       "Oscorp Massive Wonka Gringotts Monarch Aperture Vought Piper"),
                 "{p} works at {v}.", "{p} left {old} and now works at {v}.", "Which company does {p} work at?"),
    "car": (_words("Volvo Tesla Fiat Skoda Subaru Mazda Kia Renault Peugeot Toyota Honda Saab Lancia Dacia Seat "
                  "Mini Opel Ford"),
            "{p} drives a {v}.", "{p} sold the {old} and bought a {v}.", "What car does {p} drive?"),
    "project": (_words("Aurora Basalt Cobalt Delta Ember Falcon Granite Helix Iris Juniper Kestrel Lumen Meridian "
                      "Nimbus Onyx Polaris Quartz Raven Sierra Tundra"),
                "{p} is on the {v} project.", "{p} was moved from the {old} project to the {v} project.",
                "Which project is {p} on?"),
}
EVENTS = (  # (statement, gerund used in temporal questions)
    ("{p} booked a flight to {c}.", "{p} booking a flight to {c}"),
    ("{p} ran the {c} half marathon.", "{p} running the {c} half marathon"),
    ("{p} signed up for a pottery class in {c}.", "{p} signing up for a pottery class in {c}"),
    ("{p} hosted a dinner for the {j} team.", "{p} hosting a dinner for the {j} team"),
    ("{p} finished a first draft of the {j} report.", "{p} finishing the {j} report draft"),
    ("{p} adopted a vegetarian diet.", "{p} adopting a vegetarian diet"),
    ("{p} passed the driving test in {c}.", "{p} passing the driving test in {c}"),
    ("{p} gave a talk about {j} at a meetup in {c}.", "{p} giving a talk about {j} in {c}"),
)
SPECIES = ("cat", "dog", "parrot", "rabbit", "tortoise", "hamster", "ferret", "goldfish")
SYLLABLES = _words("ba bi bo ka ki ko lu lo mi mo na ni pa pi ro ru sa so ta to zu ze")
DISTRACTORS = (
    "agent: The forecast for {c} tomorrow is {w}.",
    "tool: web search returned {n} results for 'coworking spaces in {c}'.",
    "user: {p} asked me about good restaurants in {c}.",
    "user: Remind me to call {p} about the {j} project on {d}.",
    "agent: I added 'renew the {k} insurance' to your to-do list.",
    "user: {p} said the {k} handles well in the snow.",
    "agent: {e} shares moved {n} percent today.",
    "tool: calendar has {n} meetings on {d}.",
    "user: Thanks, that is helpful.",
    "agent: Here is a summary of the {j} meeting notes you shared.",
    "user: Can you draft an email to {p} about the {j} budget?",
    "agent: {e} is hiring in {c}, according to the job board.",
)
WEATHER = ("sunny", "rainy", "windy", "cloudy", "snowy", "foggy")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
CATEGORIES = ("single-hop", "knowledge-update", "temporal-order", "multi-hop")


@dataclass
class SyntheticConfig:
    """observations: total over all episodes (100 to 1,000,000); questions: per episode.

    people: how many people the facts are about (default: about 8 fact observations per person, so some
    attributes are stated once and others updated). fact_rate: share of observations that state a fact.
    """

    observations: int = 10_000
    episodes: int = 1
    questions: int = 200
    seed: int = 0
    session_length: int = 40
    fact_rate: float = 0.3
    people: int | None = None
    start: datetime = field(default_factory=lambda: datetime(2023, 1, 2, 9, 0))


class World:
    """The generator's state for one episode: current facts and what questions can be asked about."""

    def __init__(self, config: SyntheticConfig, n_obs: int, rng: random.Random) -> None:
        self.config, self.n_obs, self.rng = config, n_obs, rng
        n_people = config.people or max(8, int(n_obs * config.fact_rate / 8))
        self.people = self._names(n_people)
        self.facts: dict[tuple[int, str], tuple[str, str, int]] = {}  # (person, attr) -> (value, turn, changes)
        self.pets: dict[int, tuple[str, str, str]] = {}  # person -> (species, name, turn)
        self.events: list[tuple[int, str, str, int]] = []  # reservoir of (position, gerund, turn id, session)
        self.seen_events = 0
        self._pet_names: set[str] = set()
        self.superseded: str | None = None  # the turn the latest fact() replaced, if any

    def _names(self, n: int) -> list[str]:
        names = [f"{f} {s}" for s in LAST for f in FIRST]
        if n > len(names):  # middle initials extend the pool past 2,500 people
            names += [f"{f} {m}. {s}" for m in "ABCDEFGHJKLMNPRSTVW" for s in LAST for f in FIRST]
        names = names[: max(n, 1) * 4]  # shuffle only what can be drawn: cheap for small episodes
        self.rng.shuffle(names)
        return names[:n]

    def _pet_name(self) -> str:
        # Three syllables give 10,648 names; past half of them, four keep rejection sampling fast.
        length = 3 if len(self._pet_names) < 5000 else 4
        while True:
            name = "".join(self.rng.choice(SYLLABLES) for _ in range(length)).capitalize()
            if name not in self._pet_names:
                self._pet_names.add(name)
                return name

    def fact(self, turn: str, pos: int, session: int) -> str:
        """State a new fact, update one, or record an event or a pet; returns the utterance (and sets
        `self.superseded` to the turn an update replaces)."""
        rng = self.rng
        p = rng.randrange(len(self.people))
        who = self.people[p]
        r = rng.random()
        if r < 0.1 and p not in self.pets:
            species, name = rng.choice(SPECIES), self._pet_name()
            self.pets[p] = (species, name, turn)
            return f"user: {who} adopted a {species} named {name}."
        if r < 0.55:
            attr = rng.choice(tuple(ATTRIBUTES))
            values, first, update, _ = ATTRIBUTES[attr]
            old = self.facts.get((p, attr))
            value = rng.choice(values)
            while old and value == old[0]:
                value = rng.choice(values)
            self.facts[(p, attr)] = (value, turn, old[2] + 1 if old else 0)
            self.superseded = old[1] if old else None
            text = update.format(p=who, old=old[0], v=value) if old else first.format(p=who, v=value)
            return f"user: {text}"
        statement, gerund = rng.choice(EVENTS)
        c, j = rng.choice(ATTRIBUTES["city"][0]), rng.choice(ATTRIBUTES["project"][0])
        self._keep_event((pos, gerund.format(p=who, c=c, j=j), turn, session))
        return f"user: {statement.format(p=who, c=c, j=j)}"

    def _keep_event(self, event: tuple[int, str, str, int]) -> None:
        # Reservoir sampling (Algorithm R): a uniform sample of all events in bounded memory.
        self.seen_events += 1
        cap = 4 * self.config.questions + 8
        if len(self.events) < cap:
            self.events.append(event)
        elif (j := self.rng.randrange(self.seen_events)) < cap:
            self.events[j] = event

    def distractor(self) -> str:
        rng = self.rng
        return rng.choice(DISTRACTORS).format(
            p=rng.choice(self.people), c=rng.choice(ATTRIBUTES["city"][0]), w=rng.choice(WEATHER),
            n=rng.randrange(2, 40), j=rng.choice(ATTRIBUTES["project"][0]), k=rng.choice(ATTRIBUTES["car"][0]),
            e=rng.choice(ATTRIBUTES["employer"][0]), d=rng.choice(WEEKDAYS))

    def questions(self, episode: str, session_of: dict[str, str]) -> list[Item]:
        """Questions about the final state, spread evenly over the four categories."""
        rng = self.rng
        once = [(k, v) for k, v in self.facts.items() if v[2] == 0]
        updated = [(k, v) for k, v in self.facts.items() if v[2] > 0]
        owners = [p for p in self.pets if (p, "city") in self.facts]
        rng.shuffle(once), rng.shuffle(updated), rng.shuffle(owners)
        events = sorted(self.events)
        per = -(-self.config.questions // len(CATEGORIES))
        items: list[Item] = []

        def add(category: str, question: str, answer: str, evidence: tuple[str, ...]) -> None:
            items.append(Item(id=f"{episode}:{len(items)}", question=question, answer=answer, category=category,
                              evidence=evidence, sessions=tuple(dict.fromkeys(session_of[e] for e in evidence))))

        for cat, pool in (("single-hop", once), ("knowledge-update", updated)):
            for (p, attr), (value, turn, _) in pool[:per]:
                add(cat, ATTRIBUTES[attr][3].format(p=self.people[p]), value, (turn,))
        for p in owners[:per]:
            species, name, pet_turn = self.pets[p]
            city, city_turn, _ = self.facts[(p, "city")]
            add("multi-hop", f"Which city does the owner of {name} the {species} live in?", city,
                (pet_turn, city_turn))
        for _ in range(min(per, len(events) // 2)):
            a, b = sorted(rng.sample(events, 2))
            if a[3] == b[3]:  # same session: the order is still defined by position, just less interesting
                continue
            first, second = (a, b) if rng.random() < 0.5 else (b, a)
            add("temporal-order", f"Which happened first: {first[1]} or {second[1]}?", a[1], (a[2], b[2]))
        return items[: self.config.questions]


def stream(config: SyntheticConfig, episode: int) -> tuple[World, Iterator[Turn]]:
    """The world and a lazy iterator over episode `episode`'s observations (consume it before asking)."""
    n_obs = config.observations // config.episodes + (episode < config.observations % config.episodes)
    rng = random.Random(f"{config.seed}:{episode}")
    world = World(config, n_obs, rng)

    def turns() -> Iterator[Turn]:
        when, session, left = config.start, 0, 0
        sid = ""
        for i in range(n_obs):
            if left == 0:
                session += 1
                when = config.start + timedelta(days=2 * session + rng.randrange(2), hours=rng.randrange(10))
                left = max(1, int(rng.gauss(config.session_length, config.session_length / 4)))
                sid = f"s{session}"
            left -= 1
            tid = f"e{episode}:{i}"
            world.superseded = None
            text = world.fact(tid, i, session) if rng.random() < config.fact_rate else world.distractor()
            speaker = text.partition(":")[0]
            yield Turn(id=tid, session=sid, text=text, speaker=speaker, time=when, supersedes=world.superseded)

    return world, turns()


def generate(config: SyntheticConfig | None = None) -> Dataset:
    """Materialise every episode (turns and questions) of the synthetic benchmark."""
    config = config or SyntheticConfig()
    if not 1 <= config.episodes <= config.observations:
        raise InvalidInputError(
            f"synthetic episodes must be from 1 to the number of observations ({config.observations}), got "
            f"{config.episodes}; give fewer episodes or more observations"
        )
    ds = Dataset(name="synthetic", episodes=[])
    for e in range(config.episodes):
        world, it = stream(config, e)
        turns = list(it)
        session_of = {t.id: t.session for t in turns}
        ds.episodes.append(Episode(id=f"synthetic-{config.seed}-{e}", turns=turns,
                                   items=world.questions(f"e{e}", session_of)))
    return ds
