"""Readers and writers at once: processes sharing one store, threads sharing one Memory. No call may
fail, no acknowledged write may be lost, and a read sees one consistent state of the store."""

from __future__ import annotations

import importlib.util
import threading
import time
import zlib
from pathlib import Path

import numpy as np

from agentmem import ClosedError, Memory
from agentmem.encoder import FunctionEncoder


def _enc(texts):
    out = np.zeros((len(texts), 16), np.float32)
    for i, t in enumerate(texts):
        for w in t.split():
            out[i, zlib.crc32(w.encode()) % 16] += 1
    return out


def _stress():
    """benchmarks/stress.py, which runs writer and reader processes on one store and checks it."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "stress.py"
    spec = importlib.util.spec_from_file_location("stress", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_writer_and_reader_processes_on_one_store(tmp_path):
    """Two writer and two reader processes for a few seconds: no call fails, no acknowledged write is
    lost (what was forgotten aside), the store checks clean."""
    report = _stress().run(tmp_path / "s", writers=2, readers=2, seconds=8)
    assert report["acknowledged"] > 0, "the writers wrote nothing"
    assert (report["lost"], report["forgotten_but_present"], report["errors"], report["crashed_processes"]) == (
        0,
        0,
        0,
        0,
    ), report
    assert report["check_problems"] == []


def test_writers_killed_at_random_moments_lose_nothing_acknowledged(tmp_path):
    report = _stress().run(tmp_path / "s", writers=2, readers=1, seconds=10, kills=6, seed=3)
    assert report["kills"] >= 3
    assert (report["lost"], report["forgotten_but_present"], report["errors"]) == (0, 0, 0), report
    assert report["check_problems"] == []


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
