"""Readers and writers at once: processes sharing one store, threads sharing one Memory. No call may
fail, no acknowledged write may be lost, and a read sees one consistent state of the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import zlib

import numpy as np

from agentmem import ClosedError, Memory
from agentmem.encoder import FunctionEncoder

# A worker process: writes (remember, update, forget) or reads (recall, list, explain) for `seconds`,
# printing every id it wrote as it is acknowledged and, at the end, the errors it met.
_WORKER = """
import json, random, sys, time, zlib
import numpy as np
from agentmem import Memory
from agentmem.encoder import FunctionEncoder

def enc(texts):
    out = np.zeros((len(texts), 16), np.float32)
    for i, t in enumerate(texts):
        for w in t.split():
            out[i, zlib.crc32(w.encode()) % 16] += 1
    return out

store, role, seconds, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
errors = []
words = "alpha beta gamma delta kayak river lake city hike swim walk".split()
with Memory(store, encoder=FunctionEncoder(enc, name="test-bag", dim=16)) as mem:
    end = time.time() + seconds
    mine = []
    while time.time() < end:
        try:
            if role == "writer":
                texts = [" ".join(rng.choices(words, k=5)) + f" {seed}-{len(mine)}-{j}" for j in range(rng.randint(1, 8))]
                ids = mem.remember(texts, namespace=("w", str(seed)))
                print("ID " + json.dumps(ids), flush=True)
                mine += ids
                if mine and rng.random() < 0.2:
                    mem.update(rng.choice(mine), text="updated " + " ".join(rng.choices(words, k=4)))
                if len(mine) > 5 and rng.random() < 0.1:
                    victim = mine.pop(rng.randrange(len(mine)))
                    mem.forget(victim)
                    print("GONE " + victim, flush=True)
            else:
                q = " ".join(rng.choices(words, k=3))
                hits = mem.recall(q, k=5, track_usage=rng.random() < 0.5)
                mem.list(namespace=("w",), limit=20)
                if hits:
                    mem.explain(q, [hits[0].id])
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e}")
print("ERRORS " + json.dumps(errors), flush=True)
"""


def _enc(texts):
    out = np.zeros((len(texts), 16), np.float32)
    for i, t in enumerate(texts):
        for w in t.split():
            out[i, zlib.crc32(w.encode()) % 16] += 1
    return out


def test_writer_and_reader_processes_on_one_store(tmp_path):
    """Two writer and two reader processes for a few seconds: no call fails, no acknowledged write is
    lost (what was forgotten aside)."""
    store = tmp_path / "s"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0"}
    with Memory(store, encoder=FunctionEncoder(_enc, name="test-bag", dim=16)) as mem:
        mem.remember("seed memory alpha beta", namespace=("w", "0"))
    roles = ["writer", "writer", "reader", "reader"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(store), role, "8", str(i + 1)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i, role in enumerate(roles)
    ]
    written, gone, errors = set(), set(), []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        for line in out.splitlines():
            kind, _, rest = line.partition(" ")
            if kind == "ID":
                written |= set(json.loads(rest))
            elif kind == "GONE":
                gone.add(rest)
            elif kind == "ERRORS":
                errors += json.loads(rest)
    assert errors == []
    assert written, "the writers wrote nothing"
    with Memory(store, encoder=FunctionEncoder(_enc, name="test-bag", dim=16)) as mem:
        held = {r.id for r in mem}
        assert written - gone <= held
        assert not (gone & held)
        assert mem.check() == []


def test_threads_sharing_one_memory_and_a_racing_close(tmp_path):
    """Threads remember, update, forget and recall through one Memory; then close races them: calls
    after it raise ClosedError, nothing else."""
    mem = Memory(tmp_path / "s", encoder=FunctionEncoder(_enc, name="test-bag", dim=16))
    base = mem.remember([f"alpha beta note {i}" for i in range(20)])
    failures: list[str] = []
    stop = threading.Event()

    def work(n: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                if n == 0:
                    mem.remember(f"gamma delta {i}")
                elif n == 1:
                    mem.update(base[i % len(base)], text=f"alpha updated {i}")
                elif n == 2:
                    mem.recall("alpha beta", k=5)
                else:
                    mem.list(limit=5)
                    mem.count()
            except ClosedError:
                return
            except Exception as e:  # noqa: BLE001 - any other failure is the bug this test looks for
                failures.append(f"{n}: {type(e).__name__}: {e}")
                return

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(3)
    closers = [threading.Thread(target=mem.close) for _ in range(3)]
    for t in closers:
        t.start()
    for t in closers:
        t.join(timeout=60)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert failures == []
    with Memory(tmp_path / "s", encoder=FunctionEncoder(_enc, name="test-bag", dim=16)) as again:
        assert len(again) >= 20 and again.check() == []


def test_several_memories_on_one_store_close_together(tmp_path):
    """Each saves its caches through a temporary file of its own: closing at once never collides."""
    store = tmp_path / "s"
    mems = [Memory(store, encoder=FunctionEncoder(_enc, name="test-bag", dim=16)) for _ in range(4)]
    for i, m in enumerate(mems):
        m.remember(f"alpha note from memory {i}")
        m.recall("alpha", k=2)
    errors: list[BaseException] = []

    def close(m: Memory) -> None:
        try:
            m.close()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=close, args=(m,)) for m in mems]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with Memory(store, encoder=FunctionEncoder(_enc, name="test-bag", dim=16)) as mem:
        assert len(mem) == 4 and mem.check() == []
