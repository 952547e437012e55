"""Erasure that erases: once a memory is forgotten (by id, namespace, filter, or its ttl) or its past
versions purged, its text is recoverable from no file of the store: not the database's pages, not its
write-ahead log, not a saved index. Checked by reading every byte of every file of the store directory,
including after a crash (the process killed before it could save or close anything)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentmem import Memory

SECRET = "zebracorn-{}-passphrase"  # a word no other memory holds


def _files_holding(directory: Path, needle: str) -> list[str]:
    """Files of the store directory whose bytes hold `needle` (UTF-8, or one of its words stemmed away)."""
    raw = needle.encode()
    return sorted(p.name for p in directory.iterdir() if p.is_file() and raw in p.read_bytes())


@pytest.mark.parametrize("how", ["id", "namespace", "filter", "ttl"])
def test_a_forgotten_text_is_in_no_file_of_the_store(tmp_path, encoder, how):
    store = tmp_path / "s"
    secret = SECRET.format(how)
    with Memory(store, encoder=encoder) as mem:
        mem.remember([f"filler note {i}" for i in range(50)], namespace=("keep",))
        ttl = 0.5 if how == "ttl" else None
        (gone,) = mem.remember(f"the {secret} opens the vault", namespace=("drop",), metadata={"drop": True}, ttl=ttl)
        assert mem.recall(secret, k=1)[0].id == gone  # the lexical index has seen it too
    with Memory(store, encoder=encoder) as mem:
        mem.recall(secret, k=1)  # caches loaded, then saved again at close
        assert _files_holding(store, secret), "the secret was on disk before it was forgotten"
        if how == "id":
            assert mem.forget(gone) == 1
        elif how == "namespace":
            assert mem.forget(namespace=("drop",)) == 1
        elif how == "filter":
            assert mem.forget(filter={"drop": True}) == 1
        else:
            time.sleep(0.6)
            assert mem.sweep_expired() == 1
        assert _files_holding(store, secret) == []  # erased once forget returns
        assert mem.recall(secret, k=3)[0].id != gone
    assert _files_holding(store, secret) == []  # and the caches saved at close hold none of it
    assert _files_holding(store, "zebracorn") == []


def test_purge_erases_the_past_versions_and_keeps_the_current_one(tmp_path, encoder):
    store = tmp_path / "s"
    secret = SECRET.format("old")
    with Memory(store, encoder=encoder) as mem:
        (i,) = mem.remember(f"my password was {secret}")
        mem.update(i, text="I changed my password")
        assert [v.text for v in mem.history(i)] == [f"my password was {secret}", "I changed my password"]
        mem.recall("password", k=1)
        assert mem.purge(i) == 1
        assert [v.text for v in mem.history(i)] == ["I changed my password"]
        assert _files_holding(store, secret) == []
    assert _files_holding(store, secret) == []


_WRITER = """
import sys, time
from agentmem import Memory
from agentmem.encoder import FunctionEncoder
import numpy as np

def enc(texts):
    return np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], dtype=np.float32)

mem = Memory(sys.argv[1], encoder=FunctionEncoder(enc, name="test-crash", dim=3), controller="cosine")
ids = mem.remember(["kept memory one", "kept memory two", sys.argv[2]])
mem.recall("kept", k=2)
mem.backend._save()  # caches on disk hold the secret, as after an earlier clean close
mem.forget(ids[2])
print("forgotten", flush=True)
time.sleep(60)
"""


def test_a_crash_right_after_forget_leaves_the_text_in_no_file(tmp_path):
    """kill -9 after forget returns: no close, no saved caches; the text is gone from every file."""
    store = tmp_path / "s"
    secret = SECRET.format("crash")
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(store), f"the {secret} text"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        assert proc.stdout.readline().strip() == "forgotten"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert _files_holding(store, secret) == []
