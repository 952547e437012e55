"""SlotStore (the local backend's SQLite truth) and the read columns held beside it: namespaces,
filters, links, history, the change log, schema migration, and bad store paths."""

from __future__ import annotations

import json
import os
import sqlite3

import numpy as np
import pytest

from agentmem.errors import (
    CorruptStoreError,
    InputTooLargeError,
    InvalidInputError,
    SchemaVersionError,
    StorePathError,
)
from agentmem.filters import parse_filter
from agentmem.storage.base import NewSlot
from agentmem.storage.local.columns import ReadColumns, batch_from_rows
from agentmem.storage.local.sqlite import SlotStore, StoreConfig, ns_prefix_sql
from agentmem.validate import namespace as validate_namespace


def _slot(i: int, ns=("u", "m"), meta=None, vec=True) -> NewSlot:
    v = np.eye(4, dtype=np.float32)[i % 4] if vec else None
    return NewSlot(
        id=f"id{i}", namespace=ns, text=f"text {i}", metadata=meta or {}, event_time=None, vector=v
    )


@pytest.fixture
def store(tmp_path):
    s = SlotStore(tmp_path / "s")
    yield s
    s.close()


def test_namespace_prefix_respects_segment_boundaries(store):
    with store.transaction():
        store.insert(
            [_slot(0, ("a",)), _slot(1, ("a", "b")), _slot(2, ("ab",)), _slot(3, ("a", "bc"))], now=1.0
        )
    ids = lambda ns: [r.id for r in store.select(namespace=ns)]  # noqa: E731
    assert ids(("a",)) == ["id0", "id1", "id3"]
    assert ids(("a", "b")) == ["id1"]
    assert ids(("ab",)) == ["id2"]
    assert ids(None) == ["id0", "id1", "id2", "id3"]


def test_namespace_validation():
    assert validate_namespace("x") == ("x",)
    for bad in [(), ("",), ("a", ""), ("a\x1fb",), ("tab\there",), (1,)]:
        with pytest.raises(InvalidInputError, match="invalid namespace"):
            validate_namespace(bad)
    assert ns_prefix_sql(None) == ("1", [])


def test_metadata_filters(store):
    metas = [
        {"speaker": "Alice", "turn": 1, "tags": ["x"]},
        {"speaker": "Bob", "turn": 2, "nested": {"k": 1}},
        {"speaker": "Alice", "turn": 3, "ok": True},
        {"turn": 4},
    ]
    with store.transaction():
        store.insert([_slot(i, meta=m) for i, m in enumerate(metas)], now=1.0)
    ids = lambda f: [r.id for r in store.select(filter=parse_filter(f))]  # noqa: E731
    assert ids({"speaker": "Alice"}) == ["id0", "id2"]
    assert ids({"turn": {"$gt": 1, "$lte": 3}}) == ["id1", "id2"]
    assert ids({"turn": {"$gte": 3}}) == ["id2", "id3"]
    assert ids({"speaker": {"$ne": "Alice"}}) == ["id1", "id3"]  # missing key counts as "not Alice"
    assert ids({"speaker": {"$in": ["Bob", "Carol"]}}) == ["id1"]
    assert ids({"speaker": {"$nin": ["Bob"]}}) == ["id0", "id2", "id3"]
    assert ids({"tags": ["x"]}) == ["id0"]
    assert ids({"nested": {"k": 1}}) == ["id1"]  # a plain dict value is equality, not operators
    assert ids({"nested.k": 1}) == ["id1"]
    assert ids({"ok": True}) == ["id2"]
    with pytest.raises(InvalidInputError, match="unknown operator '\\$regex'"):
        parse_filter({"a": {"$regex": "x"}})
    with pytest.raises(InvalidInputError, match="\\$in takes a list"):
        parse_filter({"a": {"$in": "x"}})
    # shapes that would otherwise match nothing, silently: no $or, no operators mixed with fields
    with pytest.raises(InvalidInputError, match="filter key '\\$or' is an operator, not a field"):
        parse_filter({"$or": [{"turn": 1}]})
    with pytest.raises(InvalidInputError, match="filter 'turn' mixes operators and field names"):
        parse_filter({"turn": {"$gte": 1, "x": 2}})
    # a filter SQLite can run: 500 terms pass (and run), 501 are refused in one line
    assert ids({"turn": {"$in": list(range(499))}, "ok": True}) == ["id2"]
    with pytest.raises(InputTooLargeError, match="filter has 501 terms .* over 500; narrow it"):
        parse_filter({"turn": {"$in": list(range(500))}, "ok": True})
    with pytest.raises(InputTooLargeError, match="filter has 600 terms"):
        parse_filter({f"k{i}": i for i in range(600)})


def test_temporal_links_in_write_order_and_relinked_on_delete(store):
    with store.transaction():
        slots = store.insert([_slot(0), _slot(1, ("other",)), _slot(2), _slot(3)], now=1.0)
    rows = store.by_slots(slots)
    s0, s1, s2, s3 = slots
    assert (rows[s0].prev_slot, rows[s0].next_slot) == (None, s2)  # s1 lives in another namespace
    assert (rows[s2].prev_slot, rows[s2].next_slot) == (s0, s3)
    assert (rows[s1].prev_slot, rows[s1].next_slot) == (None, None)
    with store.transaction():
        assert store.delete([s2]) == 1
    rows = store.by_slots([s0, s3])
    assert rows[s0].next_slot == s3 and rows[s3].prev_slot == s0
    with store.transaction():  # a new write links after the current tail
        (s4,) = store.insert([_slot(4)], now=2.0)
    assert store.by_slots([s4])[s4].prev_slot == s3


def test_one_batch_of_several_namespaces_links_each_after_its_own_tail_and_never_reuses_a_slot(store):
    """A batch goes in as one prepared insert with slots numbered by the store: each row links after
    its namespace's previous write (stored before the batch, or earlier in it), and a slot deleted at
    the end is never handed out again, as with AUTOINCREMENT."""
    a, b = ("t", "a"), ("t", "b")
    with store.transaction():
        (first,) = store.insert([_slot(0, a)], now=1.0)
    with store.transaction():
        slots = store.insert([_slot(1, a), _slot(2, b), _slot(3, a), _slot(4, b), _slot(5, ("t", "a", "x"))], now=2.0)
    assert slots == list(range(first + 1, first + 6))
    rows = store.by_slots([first, *slots])
    chain_a = [first, slots[0], slots[2]]
    assert [rows[s].prev_slot for s in chain_a] == [None, first, slots[0]]
    assert [rows[s].next_slot for s in chain_a] == [slots[0], slots[2], None]
    assert (rows[slots[1]].prev_slot, rows[slots[1]].next_slot) == (None, slots[3])
    assert (rows[slots[3]].prev_slot, rows[slots[3]].next_slot) == (slots[1], None)
    assert (rows[slots[4]].prev_slot, rows[slots[4]].next_slot) == (None, None)
    assert rows[slots[2]].prev_id == "id1" and rows[slots[0]].next_id == "id3"
    hi, changes, _ = store.changes_since(0)
    assert [s for s, op in changes if op == "add"] == [first, *slots]
    with store.transaction():
        store.delete([slots[-1]])
    with store.transaction():
        (again,) = store.insert([_slot(6, b)], now=3.0)
    assert again == slots[-1] + 1
    assert store.by_slots([again])[again].prev_slot == slots[3]


def test_update_keeps_history_and_logs_index_changes(store):
    with store.transaction():
        (s,) = store.insert([_slot(0, meta={"v": 1})], now=1.0)
    with store.transaction():
        store.update(s, text="new", metadata={"v": 2}, speaker="", event_time=5.0, vector=np.ones(4), now=2.0)
    hist = store.history(s)
    assert [(h["version"], h["text"], h["metadata"]) for h in hist] == [
        (1, "text 0", {"v": 1}),
        (2, "new", {"v": 2}),
    ]
    seq, changes, ok = store.changes_since(0)
    assert ok and seq == 3 and changes == [(s, "add"), (s, "remove"), (s, "add")]
    assert store.changes_since(3) == (3, [], True)
    assert store.changes_since(99)[2] is False  # an index ahead of the log belongs to another database
    with store.transaction():  # same text and key: nothing for the indexes to redo
        store.update(s, text="new", metadata={"v": 3}, speaker="", event_time=5.0, vector=np.ones(4), now=3.0)
    assert store.changes_since(3) == (3, [], True) and store.history(s)[-1]["metadata"] == {"v": 3}


def test_pruned_change_log_is_not_replayable(tmp_path):
    s = SlotStore(tmp_path / "s", config=StoreConfig(keep_changes=2))
    with s.transaction():
        s.insert([_slot(i) for i in range(5)], now=1.0)
        s.prune_changes()
    assert s.changes_since(0)[2] is False
    assert s.changes_since(3) == (5, [(4, "add"), (5, "add")], True)
    s.close()


def test_store_path_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(StorePathError, match="is a file, not a directory"):
        SlotStore(f)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_store_in_read_only_directory(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    try:
        with pytest.raises(StorePathError, match="not writable"):
            SlotStore(d)
    finally:
        d.chmod(0o700)


def test_read_only_directory_as_root_is_refused_too(tmp_path, monkeypatch):
    # As root, permissions do not stop writes; the check still asks the OS, so simulate its answer.
    monkeypatch.setattr("agentmem.storage.local.sqlite._writable", lambda d: False)
    with pytest.raises(StorePathError, match="not writable; fix its permissions"):
        SlotStore(tmp_path / "ro")


def test_corrupt_database(tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "memory.db").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(CorruptStoreError, match="not a readable agentmem database"):
        SlotStore(d)
    assert (d / "memory.db").read_bytes().startswith(b"this is not sqlite")  # nothing overwritten


def test_newer_schema_is_refused(tmp_path):
    s = SlotStore(tmp_path / "s")
    s.set_meta("schema_version", "99")
    s.close()
    with pytest.raises(SchemaVersionError, match="newer than this agentmem's 5; upgrade agentmem"):
        SlotStore(tmp_path / "s")


def test_wal_mode_and_full_sync(store):
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert isinstance(store.conn, sqlite3.Connection)


def test_failed_transaction_writes_nothing(store):
    with pytest.raises(InvalidInputError), store.transaction():
        store.insert([_slot(0)], now=1.0)
        store.insert([NewSlot("id1", ("u",), "t", {"bad": {1, 2}}, None, None)], now=1.0)
    assert store.count() == 0 and store.latest_seq() == 0


def test_relinked_update_moves_the_slot_to_the_end_of_the_write_order(store):
    with store.transaction():
        a, b, c = store.insert([_slot(0), _slot(1), _slot(2)], now=1.0)
        store.update(
            a, text="a2", metadata={}, speaker="", event_time=None, vector=np.eye(4)[0], now=2.0, relink=True
        )
        (d,) = store.insert([_slot(3)], now=3.0)  # links after the relinked slot, not after the highest
    rows = store.by_slots([a, b, c, d])
    chain = [(r.prev_slot, r.next_slot) for r in (rows[b], rows[c], rows[a], rows[d])]
    assert chain == [(None, c), (b, a), (c, d), (a, None)]
    with store.transaction():  # the tail itself, and a caller's plain update, stay where they are
        store.update(
            d, text="d2", metadata={}, speaker="", event_time=None, vector=np.eye(4)[0], now=4.0, relink=True
        )
        store.update(b, text="b2", metadata={}, speaker="", event_time=None, vector=np.eye(4)[0], now=4.0)
    rows = store.by_slots([b, d])
    assert (rows[b].prev_slot, rows[b].next_slot, rows[d].prev_slot, rows[d].next_slot) == (None, c, a, None)


def _rows(batch) -> dict[int, tuple]:
    """A ReadBatch as {slot: (prev, next, event_time, usage, namespace key, speaker, asks, length)}."""
    names = ("slot", "prev", "next", "event_time", "usage", "ns", "speaker", "asks", "length")
    columns = (getattr(batch, c).tolist() for c in names)
    return {
        s: (p, n, None if np.isnan(t) else t, u, batch.ns_names[ns], batch.speakers[sp], a, n_chars)
        for s, p, n, t, u, ns, sp, a, n_chars in zip(*columns, strict=True)
    }


def _from_sql(store, slots, strong, *, namespace=None, filter=None, now=None, indexed_only=False) -> dict:
    """The neighbourhood through the store's SQL query."""
    rows = store.neighbourhood_rows(
        slots, strong, namespace=namespace, filter=parse_filter(filter), now=now, indexed_only=indexed_only
    )
    return _rows(batch_from_rows(rows))


def _from_columns(columns, store, slots, strong, *, namespace=None, now=None, indexed_only=False, sync=True):
    """The neighbourhood through the read columns held in memory (every slot's), caught up with the store
    first."""
    if sync or columns.seq < 0:
        with store.lock:
            columns.sync(store)
            if not columns.all:
                columns.load_all(store)
    lo, hi = (namespace and "\x1f".join(namespace)), (namespace and "\x1f".join(namespace) + " ")
    inside = None if not namespace else (lambda k: lo <= k < hi)
    return _rows(
        columns.neighbourhood(slots, strong, in_namespace=inside, now=now, indexed_only=indexed_only)
    )


@pytest.mark.parametrize("path", ["cached", "sql"])
def test_neighbourhood_reads_candidates_and_the_neighbours_of_strong_ones_in_scope(store, path):
    """One lookup returns the read rows of the candidates and of the strong ones' neighbours, filtered
    as a read is (namespace prefix, metadata filter, expiry, indexed), from the read columns held in
    memory and from SQL alike."""
    speaker = NewSlot(
        "sp",
        ("u", "m"),
        "Caroline: I went hiking near Malmö. Have you been? 🙂",
        {"speaker": "Mel Jones"},
        5.0,
        np.ones(4, np.float32),
        speaker="mel jones",
    )
    with store.transaction():
        s0, s1, s2, s3, s4 = store.insert(
            [_slot(0), _slot(1, meta={"k": 1}), speaker, _slot(3, vec=False), _slot(4, ("other",))], now=1.0
        )
        (s5,) = store.insert(
            [NewSlot("old", ("u", "m"), "expiring", {}, None, np.ones(4, np.float32), ttl=1.0)], now=1.0
        )
    columns = ReadColumns()

    def got(*args, filter=None, **kw):
        if path == "cached" and not filter:
            return _from_columns(columns, store, *args, **kw)
        return _from_sql(store, *args, filter=filter, **kw)

    # the chain in ("u", "m"): s0 - s1 - s2 - s3 - s5
    assert sorted(got([s0, s4], [s2], now=1.5, indexed_only=True)) == [s0, s1, s4]  # s3 is unindexed
    # the text's length in characters, not bytes
    assert got([s2], []) == {s2: (s1, s3, 5.0, 0.0, "u\x1fm", "mel jones", True, len(speaker.text))}
    assert got([s1], [])[s1][5:7] == ("", False)
    assert sorted(got([s0, s4], [s0, s1], namespace=("u",), now=1.5)) == [s0, s1, s2]  # s4: elsewhere
    # s4 is out of the namespace, s0 and s2 fail the filter (which always reads through SQL)
    assert sorted(got([s0, s4], [s0, s1], namespace=("u",), filter={"k": 1}, now=1.5)) == [s1]
    assert s5 in got([s5], [], now=1.5)
    assert got([s5], [], now=3.0) == {}  # expired at 2.0
    assert got([], []) == {}


def test_the_read_columns_in_memory_follow_every_write_of_any_connection(tmp_path):
    """The cached read columns equal what SQL reads after inserts, relinking updates, deletes, usage,
    ttl refreshes, a rolled-back transaction, another connection's commits, and a pruned log."""
    store = SlotStore(tmp_path / "s", config=StoreConfig(keep_changes=5))
    other = SlotStore(tmp_path / "s", config=StoreConfig(keep_changes=5))
    columns = ReadColumns()
    rng = np.random.default_rng(0)

    def check() -> None:
        slots = list(range(1, 60))
        for kw in ({}, {"namespace": ("u",), "now": 50.0, "indexed_only": True}):
            assert _from_columns(columns, store, slots, slots, **kw) == _from_sql(store, slots, slots, **kw)

    def observation(step: int, i: int) -> NewSlot:
        return NewSlot(
            f"id{step}-{i}",
            ("u", "m") if i % 2 else ("v",),
            f"Ann: text {i}" + "?" * (step % 2),
            {"speaker": "Bo"} if i == 1 else {},
            float(step),
            np.ones(4, np.float32),
            speaker="bo" if i == 1 else "ann",
            ttl=None if i else 10.0 * step,
        )

    try:
        for step in range(12):
            writer = other if step % 3 == 2 else store
            with writer.transaction():
                new = writer.insert([observation(step, i) for i in range(3)], now=float(step))
                read, victim = (int(x) for x in rng.integers(1, new[0] + 1, size=2))
                writer.add_usage({read: 0.5}, now=float(step))
                if step > 2 and rng.random() < 0.5:
                    writer.delete([victim])
                elif step > 2 and writer.by_slots([victim]):
                    writer.update(
                        victim,
                        text="Bo: moved" + "?" * (step % 3 == 0),
                        metadata={},
                        speaker="bo",
                        event_time=99.0,
                        vector=np.ones(4, np.float32),
                        now=float(step),
                        relink=True,
                    )
                writer.refresh_ttl(range(1, new[0]), now=float(step) + 30)
                if step in (5, 11):
                    writer.prune_changes()  # the log keeps 5 entries: the cache, now behind it, reloads
            check()
            with pytest.raises(RuntimeError), store.transaction():
                store.insert([_slot(100 + step)], now=0.0)
                store.delete([new[1]])
                raise RuntimeError("rolled back")
            check()
    finally:
        store.close()
        other.close()


def test_a_lookup_without_sync_sees_what_the_last_synced_lookup_saw(tmp_path):
    """Without catching up (a read's later lookups), the columns show what the read's first lookup
    saw, but the very first lookup loads them anyway."""
    store = SlotStore(tmp_path / "s")
    other = SlotStore(tmp_path / "s")
    columns = ReadColumns()
    try:
        with other.transaction():
            other.insert([_slot(1), _slot(2)], now=0.0)
        assert sorted(_from_columns(columns, store, [1, 2], [], sync=False)) == [1, 2]
        with other.transaction():
            other.add_usage({1: 0.5}, now=1.0)
            other.delete([2])
        assert _from_columns(columns, store, [1, 2], [], sync=False)[1][3] == 0.0  # as first seen
        assert _from_columns(columns, store, [1, 2], []) == {1: (-1, -1, None, 0.5, "u\x1fm", "", False, 6)}
    finally:
        store.close()
        other.close()


# The schema an agentmem store had at version 2 (before the speaker column), as that version wrote it.
_SCHEMA_2 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE slots (
    slot INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, ns TEXT NOT NULL, text TEXT NOT NULL,
    metadata TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL, event_time REAL, vector BLOB,
    usage REAL NOT NULL DEFAULT 0, last_read_at REAL, prev_slot INTEGER, next_slot INTEGER,
    version INTEGER NOT NULL DEFAULT 1, ttl REAL, expires_at REAL
);
CREATE INDEX slots_ns ON slots(ns, slot);
CREATE INDEX slots_ns_indexed ON slots(ns, slot) WHERE vector IS NOT NULL;
CREATE INDEX slots_tail ON slots(ns) WHERE next_slot IS NULL;
CREATE INDEX slots_expiry ON slots(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE history (slot INTEGER NOT NULL, version INTEGER NOT NULL, text TEXT NOT NULL, metadata TEXT NOT NULL,
    event_time REAL, updated_at REAL NOT NULL, PRIMARY KEY (slot, version));
CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, slot INTEGER NOT NULL, op TEXT NOT NULL);
CREATE TABLE touched (seq INTEGER PRIMARY KEY AUTOINCREMENT, slot INTEGER NOT NULL);
CREATE TRIGGER slots_touched_insert AFTER INSERT ON slots BEGIN INSERT INTO touched (slot) VALUES (NEW.slot); END;
CREATE TRIGGER slots_touched_update
AFTER UPDATE OF ns, text, metadata, event_time, vector, usage, prev_slot, next_slot, expires_at ON slots
BEGIN INSERT INTO touched (slot) VALUES (NEW.slot); END;
CREATE TRIGGER slots_touched_delete AFTER DELETE ON slots BEGIN INSERT INTO touched (slot) VALUES (OLD.slot); END;
"""


def _schema_2_store(directory, texts, metadata, vectors, encoder_name: str) -> None:
    directory.mkdir()
    conn = sqlite3.connect(directory / "memory.db")
    conn.executescript(_SCHEMA_2)
    meta = {"schema_version": "2", "store_id": "old", "encoder": encoder_name, "dim": str(vectors.shape[1])}
    conn.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
    for i, (text, m, v) in enumerate(zip(texts, metadata, vectors, strict=True), 1):
        conn.execute(
            "INSERT INTO slots (id, ns, text, metadata, created_at, updated_at, vector, prev_slot, next_slot) "
            "VALUES (?, 'default', ?, ?, 1.0, 1.0, ?, ?, ?)",
            (f"m{i}", text, json.dumps(m), v.astype(np.float32).tobytes(), i - 1 or None, i + 1),
        )
        conn.execute("INSERT INTO changes (slot, op) VALUES (?, 'add')", (i,))
    conn.execute("UPDATE slots SET next_slot = NULL WHERE slot = ?", (len(texts),))
    conn.commit()
    conn.close()


def test_a_schema_2_store_opens_with_each_memorys_speaker_and_named_time_worked_out_once(tmp_path, fake_encoder):
    """A store written before the speaker and named-time columns still opens: every row gets the speaker
    and the time its text names that the write path gives a new memory (metadata, else a "Name:"
    prefix; an absolute date, as these rows have no event time), the touched trigger follows the new
    columns, and the learned controller reads it."""
    from datetime import datetime, timezone

    from agentmem import Memory

    texts = [
        "I adopted a beagle.", "Bob: The beagle is called Toast.", "no one said this: a long clause here",
        "He came home on 9 January 2024.",
    ]  # fmt: skip
    metadata = [{"speaker": "Ana Lima"}, {}, {}, {}]
    _schema_2_store(tmp_path / "s", texts, metadata, fake_encoder.encode(texts), fake_encoder.name)
    store = SlotStore(tmp_path / "s")
    assert store.get_meta("schema_version") == "5"
    assert [store.by_ids([f"m{i}"])[f"m{i}"].speaker for i in (1, 2, 3)] == ["ana lima", "bob", ""]
    day = datetime(2024, 1, 9, tzinfo=timezone.utc).timestamp()
    named = store.conn.execute("SELECT named_start, named_end FROM slots ORDER BY slot").fetchall()
    assert named == [(None, None)] * 3 + [(day, day + 86_400.0)]
    seq = store.conn.execute("SELECT max(seq) FROM touched").fetchone()[0]
    with store.transaction():
        store.conn.execute("UPDATE slots SET speaker = 'x' WHERE slot = 1")
    assert store.conn.execute("SELECT max(seq) FROM touched").fetchone()[0] == seq + 1
    store.close()
    with Memory(tmp_path / "s", encoder=fake_encoder) as mem:
        assert mem.recall("What is the beagle called?", k=1)[0].id == "m2"
        assert mem.get("m1").metadata == {"speaker": "Ana Lima"}
