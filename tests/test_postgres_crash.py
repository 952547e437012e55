"""Writers killed with SIGKILL at random moments against a PostgreSQL store: every write acknowledged
before a kill reads back after it, and none is half-written.

Writer processes (the cosine controller, caller-chosen ids, so that each write's ids are known before
it is made) write batches into a namespace they share and one of their own, transactions spanning
both, updates and forgets, logging each intent before the call and its acknowledgement after. A kill
lands wherever a writer is: opening the store, between statements of a transaction, in a COPY, at
its commit. Afterwards the store must hold:
- every id of every acknowledged write (unless forgotten since), with its text;
- of a write in flight at a kill, all of its ids or none (one transaction, two namespaces included);
- of a memory updated, the text of its last acknowledged update or of one attempted after it, and a
  history of versions 1 to n - 1 beside version n;
- nothing forgotten and acknowledged; one chain per namespace; lexical statistics that `check` finds
  right.

Kills: AGENTMEM_CRASH_KILLS (default 4, a few seconds; eval/results/reliability/README.md gives the
figures of a run with 40, printed by `pytest -s`).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from chains import one_chain

from agentmem import Memory

ROOT = Path(__file__).resolve().parents[1]  # where the suite's conftest.py (the fake encoder) lives
KILLS = int(os.environ.get("AGENTMEM_CRASH_KILLS", "4"))

WRITER = textwrap.dedent(
    """
    import json, random, sys
    url, seed, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sys.path.insert(0, root)
    from conftest import hashed_bag_of_words
    from agentmem import Memory
    from agentmem.encoder import FunctionEncoder

    rng = random.Random(seed)
    words = "kayak river lake swim dawn city hike".split()

    def say(*parts):
        print(json.dumps(parts), flush=True)

    def text(id_):
        return " ".join(rng.choices(words, k=4)) + " " + id_

    say("open", seed)
    enc = FunctionEncoder(hashed_bag_of_words, name="test-hashed-bow", dim=64)
    with Memory(url, encoder=enc, controller="cosine") as mem:
        say("ready", seed)
        mine = []
        for i in range(10**9):
            r = rng.random()
            if r < 0.55 or len(mine) < 3:
                ids = [f"{seed}-{i}-{j}" for j in range(rng.randint(1, 8))]
                ns = ("shared",) if rng.random() < 0.5 else ("w", str(seed))
                texts = [text(id_) for id_ in ids]
                say("write", ids, texts)
                mem.remember(texts, namespace=ns, ids=ids)
            elif r < 0.7:  # one transaction, two namespaces
                ids = [f"{seed}-{i}-a", f"{seed}-{i}-b"]
                texts = [text(id_) for id_ in ids]
                say("write", ids, texts)
                with mem.transaction():
                    mem.remember(texts[0], namespace=("shared",), ids=ids[:1])
                    mem.remember(texts[1], namespace=("w", str(seed)), ids=ids[1:])
            elif r < 0.88:
                id_ = rng.choice(mine)
                say("update", id_, f"updated {id_} at {i}")
                mem.update(id_, text=f"updated {id_} at {i}")
                say("updated", id_)
                continue
            else:
                id_ = mine.pop(rng.randrange(len(mine)))
                say("forget", id_)
                mem.forget([id_])
                say("gone", id_)
                continue
            say("ack", ids)
            mine += ids
    """
)


def _start(url: str, seed: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, url, str(seed), str(ROOT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )


def crash_run(url: str, encoder: Any, *, kills: int, writers: int = 3, seed: int = 0) -> dict:
    """Run writers on the store at `url` (they use the suite's fake encoder, `encoder` here), SIGKILL one at a random moment `kills` times (each replaced
    by a new one), kill the last ones too, then check the store; the figures and what went wrong."""
    rng = random.Random(seed)
    seeds = iter(range(1, 10**6))
    live = [_start(url, next(seeds)) for _ in range(writers)]
    done: list[subprocess.Popen] = []
    for n in range(kills + writers):
        time.sleep(rng.uniform(0.2, 0.9))
        victim = live.pop(rng.randrange(len(live)))
        victim.send_signal(signal.SIGKILL)
        done.append(victim)
        if n < kills:
            live.append(_start(url, next(seeds)))
    texts: dict[str, str] = {}  # id -> the text its write gave it
    acked: set[str] = set()
    in_flight: list[list[str]] = []  # writes a kill interrupted
    updates: dict[str, list[tuple[str, bool]]] = {}  # id -> [(text, acknowledged)] in order
    forgetting: set[str] = set()
    gone: set[str] = set()
    failures: list[str] = []
    ready = 0
    for p in done:
        out, err = p.communicate(timeout=120)
        if p.returncode != -signal.SIGKILL:
            failures.append(f"a writer exited {p.returncode}: {err[-300:]}")
        pending: list[str] | None = None
        for line in out.splitlines():
            kind, *rest = json.loads(line)
            if kind == "ready":
                ready += 1
            elif kind == "write":
                pending = rest[0]
                texts.update(zip(rest[0], rest[1], strict=True))
            elif kind == "ack":
                acked.update(rest[0])
                pending = None
            elif kind == "update":
                updates.setdefault(rest[0], []).append((rest[1], False))
            elif kind == "updated":
                updates[rest[0]][-1] = (updates[rest[0]][-1][0], True)
            elif kind == "forget":
                forgetting.add(rest[0])
            elif kind == "gone":
                gone.add(rest[0])
        if pending is not None:
            in_flight.append(pending)
    with Memory(url, encoder=encoder, controller="cosine") as mem:
        held = {r.id: r for r in mem.list()}
        lost = sorted(acked - forgetting - held.keys())
        resurrected = sorted(gone & held.keys())
        half = [ids for ids in in_flight if 0 < len({i for i in ids if i in held}) < len(ids)]
        unknown = sorted(held.keys() - texts.keys())
        wrong_text, wrong_history = [], []
        for id_, rec in held.items():
            tried = updates.get(id_, [])
            last_acked = max((k for k, (_, ok) in enumerate(tried) if ok), default=-1)
            allowed = {t for t, _ in tried[last_acked:]} if last_acked >= 0 else {texts.get(id_)} | {t for t, _ in tried}
            if rec.text not in allowed:
                wrong_text.append(id_)
            if tried:
                versions = mem.history(id_)
                if [v.version for v in versions] != list(range(1, rec.version + 1)) or versions[-1].text != rec.text:
                    wrong_history.append(id_)
        chains_broken = [ns for ns in mem.namespaces() if not one_chain(mem, ns)]
        problems = mem.check()
    committed_in_flight = sum(1 for ids in in_flight if all(i in held for i in ids))
    return {
        "kills": len(done),
        "writers_started": len(done),
        "writers_that_opened_the_store": ready,
        "acknowledged_writes": len(acked),
        "writes_in_flight_at_a_kill": len(in_flight),
        "in_flight_committed_whole": committed_in_flight,
        "in_flight_absent_whole": len(in_flight) - committed_in_flight - len(half),
        "updates_acknowledged": sum(ok for tried in updates.values() for _, ok in tried),
        "forgotten": len(gone),
        "lost": lost,
        "half_written": half,
        "forgotten_but_present": resurrected,
        "unknown_ids": unknown,
        "wrong_text": wrong_text,
        "wrong_history": wrong_history,
        "broken_chains": chains_broken,
        "check_problems": problems,
        "failures": failures,
    }


@pytest.fixture
def url(postgres):
    made = postgres.new_database()
    yield made
    postgres.drop(made)


def test_writers_killed_at_random_lose_nothing_acknowledged_and_leave_nothing_half_written(url, fake_encoder):
    report = crash_run(url, fake_encoder, kills=KILLS)
    print(json.dumps({k: v if not isinstance(v, list) else len(v) for k, v in report.items()}))
    assert report["acknowledged_writes"] > 0 and report["kills"] == KILLS + 3
    bad = {k: v for k, v in report.items() if isinstance(v, list) and v}
    assert bad == {}, bad
