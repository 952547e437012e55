"""Damaged, foreign and vanished stores: every case refused with one line naming the fix, nothing
created where nothing was asked for, derived files rebuilt, lost commits told rather than hidden."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from agentmem import AgentMemError, CorruptStoreError, Memory, StorePathError
from agentmem.storage.local.sqlite import DB_NAME


def _store(tmp_path, fake_encoder, n=20):
    path = tmp_path / "s"
    with Memory(path, encoder=fake_encoder) as mem:
        ids = mem.remember([f"memory number {i} about topic {i % 3}" for i in range(n)])
        mem.recall("topic", k=3)  # the lexical index is built, and saved at close
    return path, ids


def test_create_false_never_creates(tmp_path, fake_encoder):
    for case in ("missing dir", "empty dir", "empty db file"):
        path = tmp_path / case.replace(" ", "-")
        if case != "missing dir":
            path.mkdir()
        if case == "empty db file":
            (path / DB_NAME).write_bytes(b"")
        with pytest.raises(StorePathError, match="no store at"):
            Memory(path, encoder=fake_encoder, create=False)
        assert not (path / DB_NAME).exists() or (path / DB_NAME).stat().st_size == 0


def test_another_applications_database_is_refused_untouched(tmp_path, fake_encoder):
    path = tmp_path / "app"
    path.mkdir()
    conn = sqlite3.connect(path / DB_NAME)
    conn.execute("CREATE TABLE users (name TEXT)")
    conn.execute("INSERT INTO users VALUES ('ada')")
    conn.commit()
    conn.close()
    with pytest.raises(StorePathError, match="another application's SQLite database, not an agentmem store"):
        Memory(path, encoder=fake_encoder)
    conn = sqlite3.connect(path / DB_NAME)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert tables == {"users"}


def test_a_store_whose_database_is_gone_is_not_silently_recreated(tmp_path, fake_encoder):
    path, _ = _store(tmp_path, fake_encoder)
    (path / DB_NAME).unlink()
    with pytest.raises(StorePathError, match="lost its database file"):
        Memory(path, encoder=fake_encoder)


def test_a_garbled_database_gives_one_line_naming_check(tmp_path, fake_encoder):
    path, _ = _store(tmp_path, fake_encoder, n=400)
    data = bytearray((path / DB_NAME).read_bytes())
    for at in range(8192, len(data), 4096):  # every page past the first two
        data[at + 100 : at + 300] = b"\xff" * 200
    (path / DB_NAME).write_bytes(bytes(data))
    with pytest.raises(AgentMemError) as e, Memory(path, encoder=fake_encoder) as mem:
        mem.list()
        mem.recall("topic", k=3)
    assert isinstance(e.value, (CorruptStoreError, StorePathError)) and "\n" not in str(e.value)
    assert "agentmem --store" in str(e.value)


@pytest.mark.parametrize("damage", ["garbled", "truncated", "deleted", "foreign"])
def test_a_damaged_or_foreign_cache_is_rebuilt_from_the_database(tmp_path, fake_encoder, damage):
    path, ids = _store(tmp_path, fake_encoder)
    other, _ = _store(tmp_path / "other", fake_encoder, n=5)
    for name in ("index.faiss.npz", "lexical.npz"):
        f = path / name
        if damage == "garbled":
            f.write_bytes(b"\x00garbage" * 100)
        elif damage == "truncated":
            f.write_bytes(f.read_bytes()[:100])
        elif damage == "deleted":
            f.unlink()
        else:
            shutil.copy(other / name, f)
    with Memory(path, encoder=fake_encoder) as mem:
        assert {h.id for h in mem.recall("memory number 7 about topic 1", k=20)} <= set(ids)
        assert mem.recall("memory number 7 about topic 1", k=1)[0].id == ids[7]
        assert mem.check() == []


def test_a_cache_of_a_diverged_copy_at_the_same_position_is_not_trusted(tmp_path, fake_encoder):
    """Two copies of one store each take one different write: same store id, same log position, other
    contents. The first copy's saved indexes, put into the second, are rebuilt, not trusted."""
    path, _ = _store(tmp_path, fake_encoder)
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    for where, text in ((path, "the red fox jumps"), (copy, "a blue whale sings")):
        with Memory(where, encoder=fake_encoder) as mem:
            mem.remember(text)
            mem.recall(text, k=1)
    for name in ("index.faiss.npz", "lexical.npz"):
        shutil.copy(path / name, copy / name)
    with Memory(copy, encoder=fake_encoder) as mem:
        assert mem.recall("a blue whale sings", k=1)[0].text == "a blue whale sings"
        assert all(h.text != "the red fox jumps" for h in mem.recall("the red fox jumps", k=30))
        assert mem.check() == []


def test_caches_that_saw_commits_the_database_lost_are_refused_until_repaired(tmp_path, fake_encoder):
    """The database goes back to an older copy (as after a lost write-ahead log) while the saved
    indexes have seen later commits: reads refuse with the fix, and `check --repair` applies it."""
    path, _ = _store(tmp_path, fake_encoder)
    old = tmp_path / "old.db"
    shutil.copy(path / DB_NAME, old)
    with Memory(path, encoder=fake_encoder) as mem:
        mem.remember(["a later memory", "and another one"])
        mem.recall("later", k=1)
    shutil.copy(old, path / DB_NAME)
    with Memory(path, encoder=fake_encoder) as mem:
        with pytest.raises(CorruptStoreError, match="lost commits.*check --repair"):
            mem.recall("later", k=1)
        problems = mem.check()
        assert problems and all("lost commits" in p for p in problems)
        assert mem.check(repair=True) == []
        assert "memory number 3 about topic 0" in {h.text for h in mem.recall("memory number 3 about topic 0", k=5)}
    with Memory(path, encoder=fake_encoder) as mem:
        assert mem.check() == []


def test_a_write_to_a_store_deleted_while_open_fails_loudly(tmp_path, fake_encoder):
    path, _ = _store(tmp_path, fake_encoder)
    mem = Memory(path, encoder=fake_encoder)
    try:
        shutil.rmtree(path)
        with pytest.raises(StorePathError, match="deleted or replaced while open; nothing was written"):
            mem.remember("this must not be acknowledged")
    finally:
        mem.close()


def test_opening_a_new_store_from_many_processes_at_once(tmp_path):
    """Six processes create the same new store together: every one opens it."""
    import subprocess
    import sys

    import numpy as np

    from agentmem.encoder import FunctionEncoder

    code = (
        "import sys, numpy as np\n"
        "from agentmem import Memory\n"
        "from agentmem.encoder import FunctionEncoder\n"
        "enc = FunctionEncoder(lambda t: np.ones((len(t), 4), np.float32), name='test-ones', dim=4)\n"
        "with Memory(sys.argv[1], encoder=enc, controller='cosine') as m:\n"
        "    m.remember('hello from ' + sys.argv[2])\n"
    )
    target = tmp_path / "new" / "store"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(target), str(i)]) for i in range(6)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 6
    enc = FunctionEncoder(lambda t: np.ones((len(t), 4), np.float32), name="test-ones", dim=4)
    with Memory(target, encoder=enc, controller="cosine", create=False) as mem:
        assert len(mem) == 6


_KILLED_WRITER = """
import os, signal, sys, numpy as np
from agentmem import Memory
from agentmem.encoder import FunctionEncoder
enc = FunctionEncoder(lambda t: np.ones((len(t), 4), np.float32), name="test-ones", dim=4)
m = Memory(sys.argv[1], encoder=enc, controller="cosine")
for i in range(40):
    m.remember(f"acknowledged memory {i}")
print("written", flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no close: the commits sit in the write-ahead log
"""


@pytest.mark.parametrize("damage", ["deleted", "truncated", "garbled"])
def test_a_lost_write_ahead_log_is_told_not_hidden(tmp_path, damage):
    """40 acknowledged memories, a kill -9, then the -wal file is deleted, truncated or garbled: the
    database silently lacks them, but the store says so (reads refuse naming `check --repair`) until
    the loss is accepted."""
    import subprocess
    import sys

    import numpy as np

    from agentmem.encoder import FunctionEncoder

    store = tmp_path / "s"
    out = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(store)], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "written"
    wal = store / "memory.db-wal"
    assert wal.exists() and wal.stat().st_size > 0
    if damage == "deleted":
        wal.unlink()
        (store / "memory.db-shm").unlink(missing_ok=True)
    elif damage == "truncated":
        wal.write_bytes(wal.read_bytes()[: wal.stat().st_size // 3])
    else:
        data = bytearray(wal.read_bytes())
        data[4096:8192] = b"\xa5" * 4096
        wal.write_bytes(bytes(data))
    enc = FunctionEncoder(lambda t: np.ones((len(t), 4), np.float32), name="test-ones", dim=4)
    with Memory(store, encoder=enc, controller="cosine") as mem:  # opens, so that it can be repaired
        if len(mem) == 40:
            return  # this damage cost nothing (SQLite had checkpointed)
        with pytest.raises(CorruptStoreError, match="lost commits.*check --repair"):
            mem.recall("acknowledged memory", k=3)
        with pytest.raises(CorruptStoreError, match="lost commits"):
            mem.remember("a write on top of a loss")
        assert any("lost commits" in p for p in mem.check())
        assert mem.check(repair=True) == []
        mem.remember("written after the repair")
        assert mem.recall("written after the repair", k=1)
