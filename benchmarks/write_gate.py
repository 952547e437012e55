"""Precision of the write gate's merges on conversations full of small talk, bursts and real updates.

    .venv/bin/python benchmarks/write_gate.py --refit --shapes 10 \
        --locomo ../shared/datasets/locomo-dev/locomo_dev.json --out eval/results/write-gate/results.json

A merge is a write the gate turns into an update of (or a skip onto) an earlier memory instead of a
memory of its own; a merged observation is no longer a memory of its own, so a wrong merge loses it.
The conversations are generated here (seeded, deterministic) and mix, in two styles:

- chat: two people, "Name: text" turns with `speaker` metadata and per-message times. Each person states
  facts about themselves (city, job, partner, coffee, sport, car), later changes some ("We moved to
  Denver last week!", "Actually I switched to oat milk") and repeats some in other words ("Still in
  Austin, still love it"); between them small talk, much of it with change words ("I'm home now", "not
  tired anymore haha", "ok moving on", "Good morning!"), reactions, and bursts: one person sending
  several short messages in a row on one topic, seconds apart, which continue each other and replace
  nothing;
- agent log: "user: Omar Kim moved to Lima"-style reports about many named people (with the same
  templates about others), the user's and agent's small talk ("ok moving on", "never mind, not needed
  anymore") and the user's bursts of instructions.

Every observation carries the fact it states (person, attribute) or none (small talk, a burst message:
each one its own). Each conversation is written in one `remember` call into a fresh `Memory` with the
learned controller. A merge is right when the memory it merges into holds the same fact (an update of
it or a repeat of it) or the same words (the duplicate skip: nothing is lost). Printed per gate, in all
and per style: merges, right ones, precision, skips, the precision of the updates alone, recall of the
real updates (merged into the memory of the fact they change; "sharing": of those sharing a
substantive word with the statement they change, the only ones the shared-content rule lets merge),
repeats merged, and the ingest cost (ms per observation, encoding excluded).

Gates measured: `--checkpoint` (default: the packaged controller) with the chat rules of write_gate.py
off (its network alone decides) and on; with `--refit`, a gate fitted by this version's `fit_gate` on
the pairs `agentmem train controller` fits it on (`--save-refit PATH` keeps that controller); and each
`--gate PATH`. Only a checkpoint's gate is read, so any controller checkpoint of this gate's features
works whatever its scorer. Also, on data this script did not write: `--shapes N`, N episodes per shape
of agentmem.episodes.shapes (turns name the turn they supersede: precision and recall as above), and
`--locomo PATH`, real chats in the LoCoMo layout (no labels: merges, and merges folding away a
question's evidence turn).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from results_file import save

from agentmem.episodes import Turn

os.environ.setdefault("HF_HUB_OFFLINE", "1")

NO_RULES = {"shared_content": False, "same_speaker": False, "burst_seconds": 0.0}  # the gate's network alone decides
PACKAGED = Path(__file__).resolve().parent.parent / "agentmem" / "checkpoints" / "controller.safetensors"


# -- the conversations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One observation. fact: (who, attribute) it states, None for small talk and burst messages (each
    their own); kind: fact (first statement), update, repeat, small-talk, reaction, burst, lead-in."""

    text: str
    speaker: str | None
    time: datetime
    kind: str
    fact: tuple[str, str] | None = None


@dataclass
class Conversation:
    id: str
    style: str  # chat | log
    messages: list[Message] = field(default_factory=list)


def _t(*xs: str) -> tuple[str, ...]:
    return xs


# Chat: facts one person states about themselves. attribute: (values, first statements, updates, repeats);
# {v} the value, {old} the value it replaces.
CHAT_FACTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "city": (
        _t("Austin", "Denver", "Portland", "Chicago", "Boston", "Seattle", "Toronto", "Atlanta", "Dublin", "Leeds",
           "Lyon", "Porto", "Melbourne", "Oslo"),
        _t("I live in {v}, close to the river.", "We rent a tiny flat in {v}.", "Home for me is {v} these days.",
           "I've been living in {v} for a few years."),
        _t("We moved to {v} last week!", "Big news: I relocated to {v}.", "I'm not in {old} anymore, we moved to {v}.",
           "Actually we left {old}, we live in {v} now.", "Just signed a lease in {v}, moving day was Saturday."),
        _t("Still in {v}, still love it.", "Yeah {v} is home, not going anywhere.",
           "Living in {v} has been great honestly."),
    ),
    "job": (
        _t("nurse", "teacher", "barista", "accountant", "graphic designer", "software engineer", "electrician",
           "chef", "librarian", "pharmacist", "photographer", "paramedic"),
        _t("I work as a {v}.", "I'm a {v} at a small place downtown.", "My job as a {v} keeps me busy.",
           "Being a {v} is tiring but I like it."),
        _t("I quit my job, I'm a {v} now.", "Started a new job as a {v} this week!",
           "I'm not a {old} anymore, I got a job as a {v}.", "Actually I switched careers, I'm a {v} now.",
           "Got hired as a {v}, no more {old} shifts."),
        _t("Still working as a {v}, nothing new there.", "Yep, still a {v}, same as ever."),
    ),
    "partner": (
        _t("Sam", "Alex", "Jordan", "Chris", "Robin", "Casey", "Jamie", "Taylor", "Morgan", "Riley"),
        _t("My partner {v} says hi!", "I'm seeing someone, their name is {v}.", "{v} is my girlfriend, you'd like her."),
        _t("{old} and I broke up.", "We split up, me and {old}. It's for the best.",
           "I'm dating {v} now, things with {old} ended.", "I'm single again, {old} and I called it off."),
        _t("{v} and I are doing really well.", "Things with {v} are great, we're still together."),
    ),
    "coffee": (
        _t("oat milk", "almond milk", "soy milk", "whole milk", "no milk at all"),
        _t("I take my coffee with {v}.", "I always buy {v} for my morning coffee."),
        _t("Actually I switched to {v}.", "No more {old} for me, {v} instead.",
           "I use {v} now, {old} upset my stomach."),
        _t("Still {v} in my coffee, every single morning.",),
    ),
    "sport": (
        _t("climbing", "tennis", "swimming", "yoga", "running", "boxing", "cycling", "rowing"),
        _t("I do {v} twice a week.", "I'm really into {v} lately.", "{v} is my thing, three evenings a week."),
        _t("I gave up {old}, I'm doing {v} now.", "Switched from {old} to {v}, my knees thank me.",
           "I don't do {old} anymore, I took up {v}."),
        _t("Still doing {v} twice a week.",),
    ),
    "car": (
        _t("Honda", "Toyota", "Ford", "Mazda", "Volvo", "Kia", "Fiat", "Subaru"),
        _t("I drive an old {v}.", "My {v} is falling apart but it runs."),
        _t("Sold my {old}, I drive a {v} now.", "Got rid of the {old}, bought a {v}!", "Traded in the {old} for a {v}."),
        _t("The {v} is still going strong.",),
    ),
}
CHAT_SMALL_TALK = _t(
    # change words without a change of fact
    "I'm home now", "not tired anymore haha", "ok moving on", "I'm finally awake now", "lol I can't anymore",
    "just left the office", "changed my mind, pizza instead of sushi tonight", "I'm at the gym now",
    "the rain finally stopped now", "no longer hungry haha", "sorry, left my phone in the other room",
    "ok now I'm curious", "right now I'm just chilling on the couch", "anyway, moving on", "I'm back now",
    "heading out now, talk later", "brb, switched to my laptop", "it's so quiet now that the kids are asleep",
    "I'm not mad anymore lol", "we're watching a movie now", "haha I don't even know anymore", "ok I'm free now",
    "the power is back now", "can't talk now, call you later", "nevermind, sorted it out now",
    "my coffee is cold now haha", "I left you a voice message", "just moved to the balcony, it's nice out",
    "I'm in bed now, so sleepy", "my phone is dying, switching to the charger", "no longer raining here",
    "we're leaving now, see you there", "I changed the playlist, much better", "finally quit that boring show",
    # and none
    "Good morning!", "Good night, talk tomorrow", "haha same", "thanks!!", "omg yes", "how are you?",
    "that's awesome", "hahaha", "love that", "aww", "see you soon", "miss you!", "what are you up to?",
    "how was your day?", "sounds good", "sure, why not", "hope you're well", "yesss", "that's so funny",
    "happy friday!", "ugh mondays", "wish me luck", "good luck!!", "proud of you", "tell me everything",
    "morning sunshine", "night night", "lol", "so true", "agreed",
)
CHAT_QUESTIONS = {  # the other person's question before a fact or update, in the fact's topic words
    "city": _t("Where do you live again?", "How's the new place?", "Are you still in the same city?"),
    "job": _t("How's work these days?", "What do you do for work again?", "Any news on the job front?"),
    "partner": _t("How's your love life?", "Are you seeing anyone?"),
    "coffee": _t("How do you take your coffee?", "Want me to grab you a coffee?"),
    "sport": _t("Are you still working out?", "What do you do to stay fit?"),
    "car": _t("Is your car still running?", "What are you driving these days?"),
}
CHAT_REACTIONS = _t(
    "wait, you moved?? since when", "congrats!! that's huge", "no way, tell me more", "oh wow, that's a change",
    "good for you honestly", "omg I had no idea", "that makes sense now", "aw I'm sorry, are you ok?",
    "that's so you haha", "love that for you",
)
CHAT_BURSTS = (
    _t("making dinner rn", "pasta is boiling now", "oh no I burned the garlic", "ok plan B, takeout instead",
       "dinner is finally ready"),
    _t("ugh the train is late again", "stuck at the station now", "they changed the platform last minute",
       "finally moving now", "gonna be like 20 min late"),
    _t("at the store", "they don't have the cereal I like anymore", "got the other brand instead",
       "the line is huge now", "ok done, heading home"),
    _t("the dog just ate my sock", "he seems fine now", "called the vet, she says no worries",
       "he's asleep now lol", "crisis over"),
    _t("it's pouring here", "the street is flooded now", "our basement is leaking a bit",
       "ok the rain stopped now", "sun's out already lol"),
    _t("meeting ran long again", "my boss moved the deadline to friday now", "so I'm staying late",
       "just left the office finally", "need a drink"),
    _t("watching that new sci-fi movie", "the plot makes no sense anymore", "ok it got good now",
       "that ending though!!", "would watch again"),
    _t("leg day today", "can't feel my legs anymore", "switched to the bike instead", "done now, shower time",
       "proud of myself ngl"),
    _t("cleaning the whole flat today", "moved the sofa to the other wall", "found my old diary under it",
       "ok reading it now haha", "I was so dramatic"),
    _t("my sister just called", "she's coming over tonight now", "need to clean the guest room",
       "and buy wine", "ok she's here now"),
)
# Small talk is said with varied openers and endings, so most of it is not a word-for-word repeat.
OPENERS = _t("", "", "", "haha ", "ok ", "omg ", "lol ", "ugh ", "well ", "yeah ")
ENDINGS = _t("", "", "", "!", "!!", " :)", " lol", " haha", " 😅", "...")
LEAD_INS = _t("omg", "ok big news", "guess what!!", "sit down for this", "so, update", "you won't believe this")
NAMES = _t("Maya", "Leo", "Zoe", "Omar", "Iris", "Finn", "Nora", "Kai", "Ella", "Ravi", "Lina", "Hugo", "Tara",
           "Milo", "Sana", "Theo", "Ada", "Jonas", "Vera", "Amir")

# Agent log: facts the user reports about named people. {p} the person, {q} another one.
LOG_FACTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "city": (
        _t("Lima", "Quito", "Oslo", "Lisbon", "Nairobi", "Osaka", "Krakow", "Dublin", "Seoul", "Tallinn", "Hanoi",
           "Accra", "Bergen", "Geneva", "Perth", "Kyoto"),
        _t("{p} lives in {v}.", "{p} is based in {v}.", "{p}'s apartment is in {v}."),
        _t("{p} moved to {v}.", "{p} relocated from {old} to {v}.", "{p} is now based in {v}.",
           "{p} doesn't live in {old} anymore; they moved to {v}."),
        _t("Reminder: {p} lives in {v}.", "{p} is still based in {v}."),
    ),
    "employer": (
        _t("Northwind", "Acme", "Globex", "Initech", "Hooli", "Vandelay", "Wayne", "Tyrell", "Soylent", "Wonka",
           "Aperture", "Monarch"),
        _t("{p} works at {v}.", "{p} is an analyst at {v}.", "{p} got a job at {v}."),
        _t("{p} joined {v} after leaving {old}.", "{p} quit {old} and now works at {v}.",
           "{p} switched jobs and is at {v} now.", "{p} left {old}; {v} hired them."),
        _t("{p} still works at {v}.", "As noted, {p} is at {v}."),
    ),
    "car": (
        _t("Volvo", "Tesla", "Skoda", "Subaru", "Mazda", "Kia", "Renault", "Peugeot", "Toyota", "Saab"),
        _t("{p} drives a {v}.", "{p} bought a used {v}."),
        _t("{p} sold the {old} and drives a {v} now.", "{p} replaced the {old} with a {v}.",
           "{p} switched from the {old} to a {v}."),
        _t("{p} still drives the {v}.",),
    ),
    "partner": (
        (),  # the value is another person of the log
        _t("{p} is dating {v}.", "{p} and {v} are a couple."),
        _t("{p} and {old} broke up.", "{p} split up with {old} last month.", "{p} is single now; {old} moved out."),
        _t("{p} and {v} are still together.",),
    ),
    "team": (
        _t("Aurora", "Basalt", "Cobalt", "Ember", "Falcon", "Granite", "Helix", "Juniper", "Kestrel", "Nimbus"),
        _t("{p} is on the {v} team.", "{p} leads the {v} team."),
        _t("{p} transferred from the {old} team to {v}.", "{p} switched to the {v} team.",
           "{p} is no longer on {old}; now on the {v} team."),
        _t("{p} is still on the {v} team.",),
    ),
}
LOG_SMALL_TALK = _t(
    "user: good morning", "user: thanks, that's all for now", "user: ok moving on",
    "user: never mind, not needed anymore", "user: now summarize that", "user: hmm let me think",
    "user: switch to bullet points instead", "user: perfect, thanks!", "user: can you make it shorter now?",
    "user: that's no longer relevant", "user: ok I'm back", "user: let's change the subject",
    "user: I'm done for today", "user: great, now the next one", "user: nope, left that out on purpose",
    "agent: You're welcome! Anything else?", "agent: Sure, here's the summary.",
    "agent: Done. I switched the list to bullet points.", "agent: Got it, moving on.",
    "agent: I've updated the draft now.", "agent: Noted.", "agent: Good morning! How can I help today?",
    "agent: I changed the format as you asked.", "agent: Understood, I won't include it anymore.",
    "tool: search returned {n} results.", "tool: calendar has {n} events today.",
)
LOG_BURSTS = (
    _t("user: I'm planning {p}'s birthday dinner", "user: somewhere in {c} would be best",
       "user: budget is around {n}0 euros a person now", "user: and a table for eight",
       "user: book it for Saturday if you can"),
    _t("user: need to reorganise my week", "user: move the dentist to Thursday", "user: the team sync is cancelled now",
       "user: and remind me to call {p}", "user: that's it for now"),
    _t("user: draft an email to {p}", "user: tone should be friendly", "user: mention the {j} budget",
       "user: make it shorter now", "user: and sign it from me"),
    _t("user: booking my trip to {c}", "user: flights changed again", "user: now leaving Friday morning",
       "user: hotel near the station", "user: no car needed anymore"),
)
LOG_LEAD_INS = _t("user: quick updates on people", "user: some news from the team", "user: heads up, things changed")
FIRST = _t("Omar", "Lea", "Ana", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
           "Kira", "Luca", "Nadia", "Pablo", "Rosa", "Sami", "Tara", "Viktor", "Wen", "Yusuf", "Zoe", "Kofi")
LAST = _t("Kim", "Park", "Silva", "Novak", "Okafor", "Tanaka", "Haddad", "Moreau", "Rossi", "Petrov", "Garcia",
          "Costa", "Weber", "Sato", "Reyes")


SINGLE = "single"  # the partner after a break-up: no one


def _fmt(template: str, **values: str) -> str:
    return template.format(**values)


def _change(rng: random.Random, old: str, values: Sequence[str], updates: Sequence[str]) -> tuple[str, str] | None:
    """An update of `old`: (template, new value); a template without {v} ends a relationship (the value
    becomes SINGLE). None when nothing can change: no one is left to date, or there is no one to leave."""
    if old == SINGLE:
        return None
    template = rng.choice(updates)
    if "{v}" not in template:
        return template, SINGLE
    others = [v for v in values if v != old]
    return (template, rng.choice(others)) if others else None


def _chat(rng: random.Random, cid: str) -> Conversation:
    conv = Conversation(cid, "chat")
    a, b = rng.sample(NAMES, 2)
    clock = [datetime(2024, 3, 4, 8, 0)]
    facts: dict[tuple[str, str], str] = {}  # (person, attribute) -> current value

    def say(who: str, text: str, kind: str, fact: tuple[str, str] | None = None, gap: tuple[int, int] = (40, 400)):
        clock[0] += timedelta(seconds=rng.randint(*gap))
        conv.messages.append(Message(f"{who}: {text}", who, clock[0], kind, fact))

    # Per person: which attributes are stated, in which session, and which later change or repeat.
    sessions = rng.randint(6, 9)
    plan: list[list[tuple[str, str, str]]] = [[] for _ in range(sessions)]  # (person, attribute, what)
    for person in (a, b):
        for attr in rng.sample(sorted(CHAT_FACTS), rng.randint(4, 6)):
            first = rng.randrange(sessions // 2)
            plan[first].append((person, attr, "fact"))
            for _ in range(rng.choice((0, 1, 1, 2))):
                plan[rng.randrange(first + 1, sessions)].append((person, attr, "update"))
            if rng.random() < 0.4:
                plan[rng.randrange(first + 1, sessions)].append((person, attr, "repeat"))
    bursts = rng.sample(CHAT_BURSTS, len(CHAT_BURSTS))  # each topic's burst at most once a chat
    for s in range(sessions):
        clock[0] = clock[0].replace(hour=8) + timedelta(days=rng.randint(1, 6), minutes=rng.randint(0, 600))
        todo = plan[s]
        rng.shuffle(todo)
        events: list[tuple[str, ...]] = [("fact",) + t for t in todo]
        events += [("small",)] * rng.randint(8, 16) + [("burst",)] * rng.randint(0, 2)
        rng.shuffle(events)
        who = rng.choice((a, b))
        for ev in events:
            other = b if who == a else a
            if ev[0] == "small":
                say(who, rng.choice(OPENERS) + rng.choice(CHAT_SMALL_TALK) + rng.choice(ENDINGS), "small-talk")
                who = other
            elif ev[0] == "burst":
                if not bursts:
                    continue
                lines = bursts.pop()
                start = rng.randrange(2)
                for line in lines[start : start + rng.randint(3, 5)]:
                    say(who, line, "burst", gap=(3, 30))
                who = other
            else:
                _, owner, attr, what = ev
                values, firsts, updates, repeats = CHAT_FACTS[attr]
                old = facts.get((owner, attr))
                if what != "fact" and old in (None, SINGLE):
                    continue  # its first statement fell in the same session, after it, or nothing to change
                change = _change(rng, old, values, updates) if what == "update" else None
                if what == "update" and change is None:
                    continue
                if rng.random() < 0.5:
                    say(b if owner == a else a, rng.choice(CHAT_QUESTIONS[attr]), "small-talk")
                if what == "update" and rng.random() < 0.3:
                    say(owner, rng.choice(LEAD_INS), "lead-in")
                    gap = (3, 20)
                else:
                    gap = (40, 400)
                if what == "fact":
                    value = facts[(owner, attr)] = rng.choice(values)
                    say(owner, _fmt(rng.choice(firsts), v=value), "fact", (owner, attr), gap)
                elif what == "update":
                    template, value = change
                    facts[(owner, attr)] = value
                    say(owner, _fmt(template, v=value, old=old), "update", (owner, attr), gap)
                else:
                    say(owner, _fmt(rng.choice(repeats), v=old), "repeat", (owner, attr), gap)
                if rng.random() < 0.5:
                    say(b if owner == a else a, rng.choice(OPENERS) + rng.choice(CHAT_REACTIONS) + rng.choice(ENDINGS),
                    "reaction")
                who = b if owner == a else a
    return conv


def _log(rng: random.Random, cid: str) -> Conversation:
    conv = Conversation(cid, "log")
    people = [f"{f} {s}" for f, s in zip(rng.sample(FIRST, 10), rng.choices(LAST, k=10), strict=True)]
    people = list(dict.fromkeys(people))
    clock = [datetime(2024, 3, 4, 9, 0)]
    facts: dict[tuple[str, str], str] = {}
    dated: set[str] = set()  # people who were in a couple: each is in one couple at most, once

    def say(text: str, kind: str, fact: tuple[str, str] | None = None, gap: tuple[int, int] = (20, 300)):
        clock[0] += timedelta(seconds=rng.randint(*gap))
        conv.messages.append(Message(text, None, clock[0], kind, fact))

    def fill(template: str) -> str:
        return template.format(
            p=rng.choice(people), c=rng.choice(LOG_FACTS["city"][0]), n=str(rng.randint(2, 40)),
            j=rng.choice(LOG_FACTS["team"][0]),
        )

    sessions = rng.randint(6, 9)
    plan: list[list[tuple[str, str, str]]] = [[] for _ in range(sessions)]
    for person in people:
        for attr in rng.sample(sorted(LOG_FACTS), rng.randint(2, 3)):
            first = rng.randrange(sessions // 2)
            plan[first].append((person, attr, "fact"))
            for _ in range(rng.choice((0, 1, 1, 2))):
                plan[rng.randrange(first + 1, sessions)].append((person, attr, "update"))
            if rng.random() < 0.3:
                plan[rng.randrange(first + 1, sessions)].append((person, attr, "repeat"))
    bursts = rng.sample(LOG_BURSTS, len(LOG_BURSTS))
    for s in range(sessions):
        clock[0] = clock[0].replace(hour=9) + timedelta(days=rng.randint(1, 4), minutes=rng.randint(0, 400))
        events: list[tuple[str, ...]] = [("fact",) + t for t in plan[s]]
        events += [("small",)] * rng.randint(6, 12) + [("burst",)] * rng.randint(0, 2)
        rng.shuffle(events)
        for ev in events:
            if ev[0] == "small":
                say(fill(rng.choice(LOG_SMALL_TALK)), "small-talk")
            elif ev[0] == "burst":
                for line in bursts.pop()[: rng.randint(3, 5)] if bursts else ():
                    say(fill(line), "burst", gap=(3, 30))
            else:
                _, person, attr, what = ev
                values, firsts, updates, repeats = LOG_FACTS[attr]
                if attr == "partner":
                    values = tuple(q for q in people if q != person and q not in dated)
                old = facts.get((person, attr))
                if what != "fact" and old in (None, SINGLE):
                    continue
                if what == "fact" and (not values or attr == "partner" and person in dated):
                    continue
                change = _change(rng, old, values, updates) if what == "update" else None
                if what == "update" and change is None:
                    continue
                gap = (20, 300)
                if what == "update" and rng.random() < 0.3:
                    say(rng.choice(LOG_LEAD_INS), "lead-in")
                    gap = (3, 20)
                if what == "fact":
                    value = facts[(person, attr)] = rng.choice(values)
                    say("user: " + _fmt(rng.choice(firsts), p=person, v=value), "fact", (person, attr), gap)
                elif what == "update":
                    template, value = change
                    facts[(person, attr)] = value
                    say("user: " + _fmt(template, p=person, v=value, old=old), "update", (person, attr), gap)
                else:
                    say("user: " + _fmt(rng.choice(repeats), p=person, v=old), "repeat", (person, attr), gap)
                if attr == "partner":
                    dated.update((person, facts[(person, attr)]))
                if rng.random() < 0.3:
                    say(rng.choice(("agent: Noted, I'll remember that.", "agent: Got it.", "agent: Thanks for the update.")),
                        "reaction")
    return conv


def conversations(n: int, seed: int) -> list[Conversation]:
    """n conversations, alternately chat and agent log, each from its own `random.Random(f"{seed}:{i}")`."""
    out = []
    for i in range(n):
        rng = random.Random(f"{seed}:{i}")
        out.append(_chat(rng, f"chat-{i}") if i % 2 == 0 else _log(rng, f"log-{i}"))
    return out


# -- measuring a gate ---------------------------------------------------------------------------------


@dataclass
class Tally:
    merges: int = 0
    correct: int = 0
    skips: int = 0  # merges of a text the memory holds word for word (the duplicate skip): all right
    updates: int = 0
    updates_merged: int = 0
    worded: int = 0  # updates sharing a substantive word with the statement they change
    worded_merged: int = 0
    repeats: int = 0
    repeats_merged: int = 0
    observations: int = 0
    seconds: float = 0.0
    wrong_by_kind: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, str]] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def row(self) -> dict[str, float | int]:
        return {
            "merges": self.merges,
            "correct": self.correct,
            "precision": self.correct / self.merges if self.merges else 1.0,
            "skips": self.skips,
            "updates_made": self.merges - self.skips,
            "update_precision": (self.correct - self.skips) / (self.merges - self.skips)
            if self.merges > self.skips
            else 1.0,
            "updates": self.updates,
            "update_recall": self.updates_merged / self.updates if self.updates else float("nan"),
            "updates_sharing_a_word": self.worded,
            "update_recall_sharing_a_word": self.worded_merged / self.worded if self.worded else float("nan"),
            "repeats": self.repeats,
            "repeats_merged": self.repeats_merged,
            "ingest_ms_per_observation": 1000 * self.seconds / max(self.observations, 1),
            "wrong_by_kind": dict(sorted(self.wrong_by_kind.items())),
        }


def measure(controller, convs: Sequence[Conversation], vectors: Sequence[np.ndarray], encoder) -> dict[str, Tally]:
    """Write each conversation into a fresh Memory through `controller`; tally its merges, in all and
    per style ("chat", "log")."""
    from agentmem import Memory

    tallies = {"all": Tally(), "chat": Tally(), "log": Tally()}
    for conv, vecs in zip(convs, vectors, strict=True):
        msgs = conv.messages
        with Memory(None, encoder=encoder, controller=controller) as mem:
            start = time.perf_counter()
            ids = mem.remember(
                [m.text for m in msgs],
                metadata=[{"speaker": m.speaker} if m.speaker else {} for m in msgs],
                event_time=[m.time for m in msgs],
                embeddings=vecs,
            )
            seconds = time.perf_counter() - start
        for tally in (tallies["all"], tallies[conv.style]):
            tally.seconds += seconds
            _tally(tally, msgs, ids)
    return tallies


def _tally(tally: Tally, msgs: Sequence[Message], ids: Sequence[str]) -> None:
    """Count one conversation's merges, given the memory id each message was written to."""
    tally.observations += len(msgs)
    holds: dict[str, int] = {}  # memory id -> the message whose text it holds
    stated: dict[tuple[str, str], str] = {}  # fact -> its latest statement
    for i, (m, mid) in enumerate(zip(msgs, ids, strict=True)):
        tally.updates += m.kind == "update"
        tally.repeats += m.kind == "repeat"
        worded = m.kind == "update" and _shares_a_word(m.text, stated[m.fact])
        tally.worded += worded
        if m.fact is not None and m.kind != "repeat":
            stated[m.fact] = m.text
        if mid not in holds:
            holds[mid] = i
            if m.kind == "update" and len(tally.missed) < 40:
                tally.missed.append(m.text)
            continue
        old = msgs[holds[mid]]
        # A word-for-word repeat (the duplicate skip) loses none of its words: the memory holds them.
        repeat = " ".join(m.text.lower().split()) == " ".join(old.text.lower().split())
        right = repeat or m.fact is not None and m.fact == old.fact
        tally.merges += 1
        tally.correct += right
        tally.skips += repeat
        tally.updates_merged += right and m.kind == "update"
        tally.worded_merged += right and worded
        tally.repeats_merged += right and m.kind == "repeat"
        if not right:
            key = f"{m.kind} into {old.kind}"
            tally.wrong_by_kind[key] = tally.wrong_by_kind.get(key, 0) + 1
            if len(tally.examples) < 40:
                tally.examples.append({"memory": old.text, "merged": m.text})
        if m.text != old.text or m.kind == "update":
            holds[mid] = i


def shape_merges(controller, episodes, vectors: Sequence[np.ndarray], encoder) -> dict[str, dict[str, float]]:
    """Merges on another generator's conversations (agentmem.episodes.shapes, whose turns name the turn
    they supersede), per shape: a merge is right when the turn supersedes a turn the memory has held
    (or repeats its text word for word); recall: the superseding turns merged so."""
    from agentmem import Memory

    counts: dict[str, list[int]] = {}  # shape -> [merges, right, updates, updates merged, skips]
    for ep, vecs in zip(episodes, vectors, strict=True):
        shape = ep.id.rsplit("-", 2)[0]  # "<shape>-<seed>-<episode>"
        turns = ep.turns
        with Memory(None, encoder=encoder, controller=controller) as mem:
            ids = mem.remember(
                [t.text for t in turns],
                metadata=[{"speaker": t.speaker} if t.speaker else {} for t in turns],
                event_time=[t.time for t in turns],
                embeddings=vecs,
            )
        c = counts.setdefault(shape, [0, 0, 0, 0, 0])
        known = {t.id for t in turns}
        held: dict[str, set[str]] = {}  # memory id -> the turns it has held
        text: dict[str, str] = {}  # memory id -> its text, normalised
        for t, mid in zip(turns, ids, strict=True):
            update = t.supersedes in known
            words = " ".join(t.text.lower().split())
            c[2] += update
            if mid in held:
                right = t.supersedes in held[mid]
                repeat = words == text[mid]  # a word-for-word repeat loses nothing
                c[0] += 1
                c[1] += right or repeat
                c[3] += right and update
                c[4] += repeat and not right
            held.setdefault(mid, set()).add(t.id)
            text[mid] = words
    rows = {}
    total = [sum(c[i] for c in counts.values()) for i in range(5)]
    for shape, (merges, right, updates, merged, skips) in [("all", total), *sorted(counts.items())]:
        rows[shape] = {
            "merges": merges,
            "correct": right,
            "precision": right / merges if merges else 1.0,
            "skips": skips,
            "update_precision": (right - skips) / (merges - skips) if merges > skips else 1.0,
            "updates": updates,
            "update_recall": merged / updates if updates else float("nan"),
        }
    return rows


def real_merges(controller, path: Path, encoder) -> dict[str, object]:
    """Merges on real chats with no ground truth but the questions' evidence: each LoCoMo conversation
    written in one batch (speakers and session times, as `agentmem eval` writes it); how many turns are
    merged, and how many of those merges fold away a question's evidence turn (either side)."""
    from agentmem import Memory
    from agentmem.episodes import load_locomo

    merges = evidence = 0
    examples = []
    for ep in load_locomo(path).episodes:
        turns = ep.turns
        gold = {e for q in ep.items for e in q.evidence}
        with Memory(None, encoder=encoder, controller=controller) as mem:
            ids = mem.remember(
                [t.text for t in turns],
                metadata=[{"speaker": t.speaker} if t.speaker else {} for t in turns],
                event_time=[t.time for t in turns],
                embeddings=encoder.encode([t.text for t in turns]),
            )
        first: dict[str, Turn] = {}
        for t, mid in zip(turns, ids, strict=True):
            if mid in first:
                merges += 1
                evidence += t.id in gold or first[mid].id in gold
                if len(examples) < 20:
                    examples.append({"memory": first[mid].text, "merged": t.text})
            first[mid] = t
    return {"merges": merges, "merges_of_evidence": evidence, "examples": examples}


def _shares_a_word(a: str, b: str) -> bool:
    """Whether two statements share a substantive word (text.substance, speakers' prefixes dropped): the
    updates the write gate's shared-content rule lets it make."""
    try:
        from agentmem.text import substance
    except ImportError:  # a version without the rule: every update counts as sharing
        return True
    return not set(substance(a.partition(": ")[2])).isdisjoint(substance(b.partition(": ")[2]))


def load_gate(path: Path, **overrides):
    """A LearnedController whose write gate is `path`'s (a controller checkpoint); only the gate matters
    to writes, so its scorer is left as built."""
    from safetensors import safe_open

    from agentmem.controller.learned import LearnedConfig, LearnedController
    from agentmem.controller.write_gate import WriteGateConfig

    with safe_open(str(path), framework="pt") as f:
        config = json.loads((f.metadata() or {})["config"]).get("gate", {})
        state = {k.removeprefix("gate."): f.get_tensor(k) for k in f.keys() if k.startswith("gate.")}  # noqa: SIM118
    gate = WriteGateConfig(**config)
    known = {k: v for k, v in overrides.items() if hasattr(gate, k)}  # a version without the field: as is
    ctl = LearnedController(LearnedConfig(gate=replace(gate, **known)))
    ctl.gate.load_state_dict(state)
    ctl.eval()
    return ctl


def refit(encoder, seed: int = 0):
    """The gate stage of `agentmem train controller` with its defaults: `fit_gate` on `gate_pairs` over
    `training_episodes("dialogue+synthetic")`; returns a LearnedController (untrained scorer) and the
    fit's report."""
    from agentmem.controller.learned import LearnedController
    from agentmem.controller.train import training_episodes
    from agentmem.controller.write_gate import fit_gate, gate_pairs

    ctl = LearnedController()
    pairs = []
    for ep in training_episodes("dialogue+synthetic", seed=seed):
        pairs += gate_pairs(ep.turns, encoder.encode([t.text for t in ep.turns]), ctl.config.gate.candidates)
    report = fit_gate(ctl.gate, pairs, seed=seed)
    ctl.eval()
    return ctl, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0, help="seed of the generated conversations")
    ap.add_argument("--conversations", type=int, default=60, help="conversations (alternately chat and agent log)")
    ap.add_argument("--checkpoint", type=Path, default=PACKAGED, help="the controller whose gate is the baseline")
    ap.add_argument("--refit", action="store_true", help="also refit the gate with this version's code (~3 min)")
    ap.add_argument("--save-refit", type=Path, default=None, help="save the refitted controller here")
    ap.add_argument("--gate", type=Path, action="append", default=[], help="another controller checkpoint to measure")
    ap.add_argument("--examples", action="store_true", help="print each gate's first wrong merges")
    ap.add_argument(
        "--locomo", type=Path, default=None, help="also count each gate's merges on a LoCoMo-format file (real chats)"
    )
    ap.add_argument(
        "--shapes", type=int, default=0, help="also measure on N episodes per shape of agentmem.episodes.shapes"
    )
    ap.add_argument("--out", type=Path, default=None, help="results JSON")
    args = ap.parse_args()

    from agentmem.encoder import resolve_encoder

    encoder = resolve_encoder()
    convs = conversations(args.conversations, args.seed)
    vectors = [encoder.encode([m.text for m in c.messages]) for c in convs]
    gates = [
        (f"{args.checkpoint.name}, no chat rules", load_gate(args.checkpoint, **NO_RULES)),
        (f"{args.checkpoint.name}, with chat rules", load_gate(args.checkpoint)),
    ]
    fit = None
    if args.refit:
        ctl, fit = refit(encoder)
        if args.save_refit:
            args.save_refit.parent.mkdir(parents=True, exist_ok=True)
            ctl.save(args.save_refit)
        gates.append(("refitted (this version), with chat rules", ctl))
    gates += [(f"{p.name}, with chat rules", load_gate(p)) for p in args.gate]

    rows = {}
    print(
        f"{'gate':<48} {'merges':>6} {'right':>6} {'precision':>9} {'skips':>6} {'upd prec':>8} {'upd recall':>10} "
        f"{'sharing':>8} {'repeats':>8} {'ms/obs':>7}"
    )
    for name, ctl in gates:
        tallies = measure(ctl, convs, vectors, encoder)
        rows[name] = {style: t.row() for style, t in tallies.items()}
        for style, r in rows[name].items():
            print(
                f"{name if style == 'all' else '  ' + style:<48} {r['merges']:>6} {r['correct']:>6} "
                f"{r['precision']:>9.3f} {r['skips']:>6} {r['update_precision']:>8.3f} {r['update_recall']:>10.3f} "
                f"{r['update_recall_sharing_a_word']:>8.3f} "
                f"{r['repeats_merged']:>4}/{r['repeats']:<3} {r['ingest_ms_per_observation']:>7.3f}"
            )
        t = tallies["all"]
        if args.examples:
            print("   wrong:", rows[name]["all"]["wrong_by_kind"])
            for e in t.examples[:15]:
                print(f"     {e['memory']!r}\n       <- {e['merged']!r}")
            print("   updates not merged:", *(repr(x) for x in t.missed[:15]), sep="\n     ")
    kinds: dict[str, int] = {}
    for c in convs:
        for m in c.messages:
            kinds[m.kind] = kinds.get(m.kind, 0) + 1
    shaped = None
    if args.shapes:
        from agentmem.episodes.shapes import ShapesConfig, generate_shapes

        episodes = generate_shapes(ShapesConfig(episodes=args.shapes)).episodes
        shape_vectors = [encoder.encode([t.text for t in ep.turns]) for ep in episodes]
        shaped = {name: shape_merges(ctl, episodes, shape_vectors, encoder) for name, ctl in gates}
        print(
            f"\nshapes, {args.shapes} episodes each: {'gate':<48} {'merges':>6} {'right':>6} {'precision':>9} "
            f"{'skips':>6} {'upd prec':>8} {'upd recall':>10}"
        )
        for name, rows_ in shaped.items():
            for shape, r in rows_.items():
                label = name if shape == "all" else "  " + shape
                print(
                    f"{'':<30}{label:<48} {r['merges']:>6} {r['correct']:>6} {r['precision']:>9.3f} "
                    f"{r['skips']:>6} {r['update_precision']:>8.3f} {r['update_recall']:>10.3f}"
                )
    real = None
    if args.locomo:
        real = {name: real_merges(ctl, args.locomo, encoder) for name, ctl in gates}
        print(f"\n{args.locomo.name}: {'gate':<48} {'merges':>6} {'evidence':>8}")
        for name, r in real.items():
            print(f"{'':<{len(args.locomo.name) + 2}}{name:<48} {r['merges']:>6} {r['merges_of_evidence']:>8}")
    result = {
        "command": " ".join([".venv/bin/python", "benchmarks/write_gate.py", *sys.argv[1:]]),
        "seed": args.seed,
        "conversations": len(convs),
        "observations": sum(kinds.values()),
        "observations_by_kind": dict(sorted(kinds.items())),
        "gates": rows,
        "refit": None if fit is None else fit.__dict__,
        "shapes": shaped,
        "locomo": real,
    }
    if args.out:
        save(result, args.out)


if __name__ == "__main__":
    main()
