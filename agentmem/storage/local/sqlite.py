"""SlotStore: the local backend's durable source of truth, one SQLite file in WAL mode.

One row per slot holds everything a memory is: id, namespace, text, metadata, speaker, times, the key
vector, usage, write order and the temporal links to its neighbours in the namespace. Updates move the
old version into `history`. Every change that affects the dense or lexical index is appended to
`changes`, so any index (this process's, another process's, or a stale file on disk) catches up by
replaying the log instead of rebuilding (changelog.py). Triggers log every slot a write touches in
`touched`, links to its neighbours and usage included, so the read columns held in memory (columns.py)
catch up the same way.

Times are unix seconds (float, UTC). Namespaces are stored as their key (storage.base.ns_key), so a
namespace prefix is a contiguous key range. This module is SQL only: what a read scores is decided
above it.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agentmem.cpu import faiss_threads
from agentmem.errors import CorruptStoreError, InvalidInputError, SchemaVersionError, StorePathError
from agentmem.filters import Condition, Filter
from agentmem.storage.base import Namespace, NewSlot, SlotRow, ns_key, ns_prefix_range, ns_tuple
from agentmem.text import QUESTION_MARKS, speaker_name
from agentmem.time_expressions import named_time

SCHEMA_VERSION = 5  # 2: no FTS5 table (lexical.py replaces it); 3: the `speaker` column; 4: `changes.tx`;
# 5: `named_start` and `named_end`
DB_NAME = "memory.db"
# The last change-log position a commit reached, written (not synced) after each commit. A process
# crash keeps it (the OS holds it), so a database whose write-ahead log was lost or damaged afterwards
# is found out: its log ends before the mark.
MARK_FILE = "commit.mark"
# Files beside the database that only an agentmem store has: their presence without a database means
# the database was lost, not that the directory is new.
CACHE_FILES = ("index.faiss.npz", "lexical.npz")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS slots (
    slot         INTEGER PRIMARY KEY AUTOINCREMENT,  -- write order; also the slot's id in the index
    id           TEXT NOT NULL UNIQUE,
    ns           TEXT NOT NULL,
    text         TEXT NOT NULL,
    metadata     TEXT NOT NULL,                      -- JSON object
    speaker      TEXT NOT NULL DEFAULT '',           -- who said it, lower-cased (text.speaker_of)
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL,
    event_time   REAL,
    named_start  REAL,                               -- the stretch of time the text names (`named_time`)
    named_end    REAL,
    vector       BLOB,                               -- the unit key (d,), float16 (`encode_key`); NULL when not indexed
    usage        REAL NOT NULL DEFAULT 0,
    last_read_at REAL,
    prev_slot    INTEGER,
    next_slot    INTEGER,
    version      INTEGER NOT NULL DEFAULT 1,
    ttl          REAL,
    expires_at   REAL
);
CREATE INDEX IF NOT EXISTS slots_ns ON slots(ns, slot);
-- Covers "indexed slots under a namespace" without reading the vector blobs themselves.
CREATE INDEX IF NOT EXISTS slots_ns_indexed ON slots(ns, slot) WHERE vector IS NOT NULL;
-- The namespace's tail, the slot the next write links after (write order, not slot order: a slot
-- the controller updates moves to the tail).
CREATE INDEX IF NOT EXISTS slots_tail ON slots(ns) WHERE next_slot IS NULL;
CREATE INDEX IF NOT EXISTS slots_expiry ON slots(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS history (
    slot       INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    text       TEXT NOT NULL,
    metadata   TEXT NOT NULL,
    event_time REAL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (slot, version)
);
-- tx: a random token of the transaction that logged the change. A cache records the token at the
-- position it reflects, so a cache of another copy of the store, at the same position but with other
-- contents, is told apart from this store's own.
CREATE TABLE IF NOT EXISTS changes (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    slot INTEGER NOT NULL,
    op   TEXT NOT NULL CHECK (op IN ('add', 'remove')),
    tx   TEXT
);
-- Slots whose read columns (read_columns.py) a write changed, logged by the database itself so no write
-- path, in this process or another, can forget one.
CREATE TABLE IF NOT EXISTS touched (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    slot INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS slots_touched_insert AFTER INSERT ON slots
BEGIN INSERT INTO touched (slot) VALUES (NEW.slot); END;
CREATE TRIGGER IF NOT EXISTS slots_touched_update
AFTER UPDATE OF ns, speaker, event_time, named_start, vector, usage, prev_slot, next_slot, expires_at ON slots
BEGIN INSERT INTO touched (slot) VALUES (NEW.slot); END;
CREATE TRIGGER IF NOT EXISTS slots_touched_delete AFTER DELETE ON slots
BEGIN INSERT INTO touched (slot) VALUES (OLD.slot); END;
"""

_DROP_FTS5 = (
    "DROP TRIGGER IF EXISTS slots_fts_insert",
    "DROP TRIGGER IF EXISTS slots_fts_delete",
    "DROP TRIGGER IF EXISTS slots_fts_update",
    "DROP TABLE IF EXISTS slots_fts",
)

# Schemas 3 and 5 add columns worked out at write time (the speaker; the time the text names): an
# older store's rows get theirs once, with the trigger off so the backfill logs no slot as touched.
_TOUCHED_UPDATE_TRIGGER = (
    _SCHEMA[_SCHEMA.index("CREATE TRIGGER IF NOT EXISTS slots_touched_update") :].split("END;")[0] + "END;"
)

# A row names its neighbours' ids too (primary-key lookups), so a record needs no second query for them.
_COLUMNS = (
    "slot, id, ns, text, metadata, speaker, created_at, updated_at, event_time, usage, last_read_at, "
    "prev_slot, next_slot, version, ttl, expires_at, vector IS NOT NULL, "
    "(SELECT id FROM slots AS p WHERE p.slot = slots.prev_slot), "
    "(SELECT id FROM slots AS n WHERE n.slot = slots.next_slot)"
)
# Whether a slot's text holds a question (text.has_question), worked out by the database as it reads the
# row: no column to keep in step. The text changes only through `update`, which also sets `speaker`, so
# the `touched` trigger logs the slot for the read columns' cache.
_HAS_QUESTION = "(" + " OR ".join(f"instr(text, '{m}') > 0" for m in QUESTION_MARKS) + ")"
# What a learned read describes a candidate by (storage.base.ReadBatch), in that order; the text's
# length is the database's, like whether it asks.
READ_COLUMNS = (
    f"slot, prev_slot, next_slot, event_time, usage, ns, speaker, {_HAS_QUESTION}, named_start, named_end, length(text)"
)
# The read columns held in memory (columns.py) add what decides visibility: expiry and being indexed.
CACHED_COLUMNS = f"{READ_COLUMNS}, expires_at, vector IS NOT NULL"

_COMPARE = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


@dataclass
class StoreConfig:
    """SQLite durability and retention knobs.

    synchronous: "FULL" fsyncs the WAL on every commit, so a returned id survives even an OS crash;
        "NORMAL" survives a process crash (kill -9) but not power loss, and commits faster.
    busy_timeout_s: how long a writer waits for another process's write transaction.
    keep_changes: change-log entries kept; an index older than the oldest kept entry is rebuilt.
    mmap_bytes: how much of the database file SQLite reads through a memory map. A read fetches a
        few hundred random rows; through the map they cost no system call each. Every page read
        through the map stays in the process's resident memory, so the map is kept small: a large
        store's file would otherwise end up resident whole.
    """

    synchronous: str = "FULL"
    busy_timeout_s: float = 30.0
    keep_changes: int = 200_000
    mmap_bytes: int = 128 << 20


def ns_prefix_sql(prefix: Namespace | None, column: str = "ns") -> tuple[str, list[Any]]:
    """SQL for "namespace starts with `prefix`" (`ns_prefix_range`: one range, one index scan)."""
    if not prefix:
        return "1", []
    return f"({column} >= ? AND {column} < ?)", list(ns_prefix_range(prefix))


def filter_sql(conditions: Filter) -> tuple[str, list[Any]]:
    """SQL for parsed filter conditions (filters.parse_filter), all of which must hold."""
    if not conditions:
        return "1", []
    clauses: list[str] = []
    params: list[Any] = []
    field = "json_extract(metadata, ?)"
    for c in conditions:
        path = _json_path(c)
        if c.op in ("$in", "$nin"):
            inner = " OR ".join([_eq_sql(field)] * len(c.value)) or "0"
            clauses.append(f"({inner})" if c.op == "$in" else f"NOT ({inner})")
            for v in c.value:
                params += _eq_params(path, v)
        elif c.op in ("$eq", "$ne"):
            sql = _eq_sql(field)
            clauses.append(sql if c.op == "$eq" else f"NOT ({sql})")
            params += _eq_params(path, c.value)
        else:
            clauses.append(f"{field} {_COMPARE[c.op]} ?")
            params += [path, c.value]
    return " AND ".join(clauses), params


def _json_path(c: Condition) -> str:
    # SQLite matches a quoted label against a key as the stored JSON text spells it, where a backslash
    # is written "\\" (a key cannot hold the quote or a control character, filters.py).
    return "$" + "".join('."' + part.replace("\\", "\\\\") + '"' for part in c.path)


def _eq_sql(field: str) -> str:
    # Objects and lists compare as minified JSON text; scalars compare as SQL values. A missing key
    # (NULL) never equals anything but JSON null.
    return f"(CASE WHEN ? THEN {field} = json(?) ELSE {field} IS ? END)"


def _eq_params(path: str, value: Any) -> list[Any]:
    if isinstance(value, (dict, list)):  # as the stored metadata spells it (non-ASCII kept as is)
        return [1, path, _dumps(value), path, None]
    return [0, path, None, path, value]


def _document_sql(separator: str | None) -> str:
    """SQL for a slot's text, then (unless `separator` is None) the distinct texts of the versions it
    superseded, each after `separator`."""
    if separator is None:
        return "text"
    quoted = separator.replace("'", "''")
    return (
        f"text || coalesce((SELECT group_concat('{quoted}' || t, '') FROM (SELECT DISTINCT h.text AS t "
        "FROM history h WHERE h.slot = slots.slot AND h.text <> slots.text)), '')"
    )


class SlotStore:
    """Durable slots in one SQLite file. Thread-safe: one connection guarded by a lock."""

    def __init__(self, directory: Path, *, config: StoreConfig | None = None, create: bool = True) -> None:
        self.config = config or StoreConfig()
        self.directory = Path(directory)
        self.path = self.directory / DB_NAME
        self._check_directory(create)
        self.lock = threading.RLock()
        self._tx: str | None = None  # the open write transaction's token (`changes.tx`)
        self._mark: int | None = None  # MARK_FILE, open while the store is
        self._lost: tuple[int, int] | None = None
        self._depth = 0  # transactions open on this connection: inner ones join the outermost
        self.conn = None
        try:
            self.conn = sqlite3.connect(
                self.path, timeout=self.config.busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            # SQLite's check of every b-tree page as it is read: a damaged file is found where it is
            # first read, as SQLITE_CORRUPT (reported with `agentmem check`'s fix), not followed into
            # its other pages.
            self.conn.execute("PRAGMA cell_size_check=ON")
            self._check_is_agentmem_store()
            self._mark = os.open(self.directory / MARK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
            self._use_wal()
            self._lost = self._check_mark()  # before this open commits anything
            self.conn.execute(f"PRAGMA synchronous={self.config.synchronous}")
            # Deleted content is overwritten with zeros, whatever the SQLite build's default: a forgotten
            # memory's text must not stay readable in free pages.
            self.conn.execute("PRAGMA secure_delete=ON")
            self.conn.execute("PRAGMA foreign_keys=OFF")
            self.conn.execute(f"PRAGMA mmap_size={int(self.config.mmap_bytes)}")
            # executescript commits any open transaction, so the schema script carries its own. A new
            # store's tables and its identity appear in one commit: a process opening it meanwhile
            # sees either nothing or an agentmem store, never tables without an identity.
            identity = (
                f"INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}'), "
                f"('created_at', '{time.time()!r}'), ('store_id', '{uuid.uuid4().hex}');"
            )
            self.conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}{identity}COMMIT;")
            with self.transaction():
                version = self.get_meta("schema_version")
                if int(version) < SCHEMA_VERSION:
                    self._migrate(int(version))
                elif int(version) > SCHEMA_VERSION:
                    raise SchemaVersionError(
                        f"store {self.directory} has schema {version}, newer than this agentmem's {SCHEMA_VERSION}; "
                        "upgrade agentmem"
                    )
            self._file = _identity(self.path)
        except sqlite3.DatabaseError as e:
            self._close_quietly()
            raise CorruptStoreError(
                f"{self.path} is not a readable agentmem database ({e}); check it with "
                f"`agentmem --store {self.directory} check`, or restore it from a backup"
            ) from e
        except BaseException:
            self._close_quietly()
            raise

    def _close_quietly(self) -> None:
        """Close what a failed open had opened."""
        if self.conn is not None:
            self.conn.close()
        if self._mark is not None:
            os.close(self._mark)
            self._mark = None

    def _use_wal(self) -> None:
        """Switch to write-ahead logging. Processes creating one new store together race for the switch,
        and SQLite answers the losers "database is locked" at once, without waiting for the busy
        timeout: they try again until it has passed."""
        deadline = time.monotonic() + self.config.busy_timeout_s
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _check_is_agentmem_store(self) -> None:
        """Refuse another application's SQLite database before a single table is added to it."""
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return
        if "meta" not in tables or "slots" not in tables or self.get_meta("store_id") is None:
            raise StorePathError(
                f"{self.path} is another application's SQLite database, not an agentmem store; "
                "pass a directory of its own to --store"
            )

    def _migrate(self, version: int) -> None:
        """Bring an older store's schema to SCHEMA_VERSION, inside the opening transaction."""
        c = self.conn
        if version < 2:
            # Schema 1 kept an FTS5 index in step by triggers; the in-memory lexical index replaces it,
            # and the triggers would only slow every write down.
            for statement in _DROP_FTS5:
                c.execute(statement)
        if version < 3:
            # Who said each memory is worked out once, by the rule that writes it now (text.speaker_name).
            c.execute("DROP TRIGGER IF EXISTS slots_touched_update")
            if "speaker" not in {r[1] for r in c.execute("PRAGMA table_info(slots)")}:
                c.execute("ALTER TABLE slots ADD COLUMN speaker TEXT NOT NULL DEFAULT ''")
            rows = c.execute("SELECT slot, json_extract(metadata, '$.speaker'), text FROM slots").fetchall()
            said = [(speaker_name(value, text), slot) for slot, value, text in rows]
            c.executemany("UPDATE slots SET speaker = ? WHERE slot = ?", [(w, s) for w, s in said if w])
            c.execute(_TOUCHED_UPDATE_TRIGGER)
        if version < 4 and "tx" not in {r[1] for r in c.execute("PRAGMA table_info(changes)")}:
            c.execute("ALTER TABLE changes ADD COLUMN tx TEXT")
        if version < 5:
            c.execute("DROP TRIGGER IF EXISTS slots_touched_update")
            if "named_start" not in {r[1] for r in c.execute("PRAGMA table_info(slots)")}:
                c.execute("ALTER TABLE slots ADD COLUMN named_start REAL")
                c.execute("ALTER TABLE slots ADD COLUMN named_end REAL")
            rows = c.execute("SELECT slot, text, event_time FROM slots").fetchall()
            named = [(*span, slot) for slot, text, at in rows if (span := named_time(text, at)) is not None]
            c.executemany("UPDATE slots SET named_start = ?, named_end = ? WHERE slot = ?", named)
            c.execute(_TOUCHED_UPDATE_TRIGGER)
        self.set_meta("schema_version", str(SCHEMA_VERSION))

    def _check_directory(self, create: bool) -> None:
        """The directory exists (or is made, when `create`), is writable, and holds a database if it
        holds anything of a store."""
        d = self.directory
        if d.exists() and not d.is_dir():
            raise StorePathError(
                f"store path {d} is a file, not a directory; pass a directory path (e.g. {d}.d)"
            )
        has_db = self.path.is_file() and self.path.stat().st_size > 0
        if not has_db and not create:
            raise StorePathError(f"no store at {d}; create one with `agentmem --store {d} init`")
        if not d.exists():
            try:
                d.mkdir(parents=True, exist_ok=True)  # another process may be creating it too
            except OSError as e:
                raise StorePathError(
                    f"cannot create store directory {d}: {e.strerror}; choose a writable path"
                ) from e
        if not has_db and any((d / name).exists() for name in CACHE_FILES):
            raise StorePathError(
                f"the store at {d} has lost its database file {DB_NAME} (its index files remain); restore "
                f"{DB_NAME} from a backup, or delete the directory to start an empty store"
            )
        if not _writable(d):
            raise StorePathError(
                f"store directory {d} is not writable; fix its permissions or choose another path"
            )

    # -- transactions and metadata -------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT under the lock; rolled back whole on any error. A transaction opened
        inside another joins it. Before committing,
        the database file must still be the one opened: a store deleted (or replaced) while open
        would otherwise take writes that no later open can see."""
        with self.lock:
            if self._depth:  # a transaction inside one: part of it, committed (or not) with it
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._tx = uuid.uuid4().hex[:16]
            self._depth = 1
            try:
                yield self.conn
                if getattr(self, "_file", None) is not None and _identity(self.path) != self._file:
                    raise StorePathError(
                        f"the store's database {self.path} was deleted or replaced while open; nothing was "
                        "written: open the store again"
                    )
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            finally:
                self._tx, self._depth = None, 0
            self.conn.execute("COMMIT")
            if self._lost is None:  # the evidence of a loss stays until the loss is accepted
                self.write_mark(self.committed_seq())

    def get_meta(self, key: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        with self.lock:
            self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """A read transaction: every SELECT inside sees one consistent snapshot (WAL isolation)."""
        with self.lock:
            if self.conn.in_transaction:
                yield
                return
            self.conn.execute("BEGIN")
            try:
                yield
            finally:
                self.conn.execute("COMMIT")

    def data_version(self) -> int:
        """Changes whenever another connection commits (cheap: no I/O when nothing changed)."""
        with self.lock:
            return self.conn.execute("PRAGMA data_version").fetchone()[0]

    # -- writes (call inside `transaction()`) ----------------------------------------------------

    def insert(self, rows: Sequence[NewSlot], now: float) -> list[int]:
        """Append slots in order, linking each after the current tail of its namespace. The batch goes
        in as three statements prepared once (rows, the old tails' links, the change log): the slots
        are numbered here, inside the write transaction no other writer shares, as AUTOINCREMENT would."""
        c = self.conn
        first = self._next_slot()
        slots = list(range(first, first + len(rows)))
        tails: dict[str, int | None] = {}
        records: list[list[Any]] = []
        relinks: list[tuple[int, int]] = []  # (next_slot, slot) of tails written before this batch
        for slot, r in zip(slots, rows, strict=True):
            key = ns_key(r.namespace)
            named = named_time(r.text, r.event_time) or (None, None)
            if key not in tails:
                tails[key] = self._tail(key)
            prev = tails[key]
            if prev is not None and prev >= first:
                records[prev - first][13] = slot  # its next is this one
            elif prev is not None:
                relinks.append((slot, prev))
            records.append(
                [
                    slot,
                    r.id,
                    key,
                    r.text,
                    _dumps(r.metadata),
                    r.speaker,
                    r.created_at or now,
                    now,
                    r.event_time,
                    *named,
                    None if r.vector is None else encode_key(r.vector),
                    prev,
                    None,  # next_slot: set by a later row of the batch, if any
                    r.ttl,
                    None if r.ttl is None else now + r.ttl,
                ]
            )
            tails[key] = slot
        c.executemany(
            "INSERT INTO slots (slot, id, ns, text, metadata, speaker, created_at, updated_at, event_time, "
            "named_start, named_end, vector, prev_slot, next_slot, ttl, expires_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            records,
        )
        c.executemany("UPDATE slots SET next_slot = ? WHERE slot = ?", relinks)
        c.executemany(
            "INSERT INTO changes (slot, op, tx) VALUES (?, 'add', ?)",
            [(rec[0], self._tx) for rec in records if rec[11] is not None],
        )
        return slots

    def _next_slot(self) -> int:
        """The number AUTOINCREMENT would give the next slot: past every slot ever handed out."""
        used = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'slots'").fetchone()
        top = self.conn.execute("SELECT max(slot) FROM slots").fetchone()[0]
        return max(used[0] if used else 0, top or 0) + 1

    def _tail(self, key: str) -> int | None:
        row = self.conn.execute(
            "SELECT slot FROM slots WHERE ns = ? AND next_slot IS NULL", (key,)
        ).fetchone()
        return None if row is None else row[0]

    def _unlink(self, slot: int) -> tuple[int | None, int | None]:
        """Take a slot out of its namespace's chain, joining its neighbours; returns (prev, next)."""
        c = self.conn
        prev, nxt = c.execute("SELECT prev_slot, next_slot FROM slots WHERE slot = ?", (slot,)).fetchone()
        if prev is not None:
            c.execute("UPDATE slots SET next_slot = ? WHERE slot = ?", (nxt, prev))
        if nxt is not None:
            c.execute("UPDATE slots SET prev_slot = ? WHERE slot = ?", (prev, nxt))
        return prev, nxt

    def update(
        self,
        slot: int,
        *,
        text: str,
        metadata: dict[str, Any],
        speaker: str,
        event_time: float | None,
        vector: np.ndarray | None,
        now: float,
        ttl: float | None = None,
        relink: bool = False,
    ) -> None:
        """Replace a slot's content, keeping the current version in `history`; `relink` moves it to
        the end of its namespace's write order (the DNC's links follow writes, not first writes)."""
        c = self.conn
        if relink:
            key, nxt = c.execute("SELECT ns, next_slot FROM slots WHERE slot = ?", (slot,)).fetchone()
            if nxt is not None:  # not already the tail
                self._unlink(slot)  # its own next still points on, so the tail lookup skips it
                tail = self._tail(key)
                c.execute("UPDATE slots SET next_slot = ? WHERE slot = ?", (slot, tail))
                c.execute("UPDATE slots SET prev_slot = ?, next_slot = NULL WHERE slot = ?", (tail, slot))
        c.execute(
            "INSERT INTO history (slot, version, text, metadata, event_time, updated_at) "
            "SELECT slot, version, text, metadata, event_time, updated_at FROM slots WHERE slot = ?",
            (slot,),
        )
        blob = None if vector is None else encode_key(vector)
        old = c.execute("SELECT text, vector FROM slots WHERE slot = ?", (slot,)).fetchone()
        c.execute(
            "UPDATE slots SET text = ?, metadata = ?, speaker = ?, event_time = ?, named_start = ?, named_end = ?, "
            "vector = ?, updated_at = ?, version = version + 1, ttl = ?, expires_at = ? WHERE slot = ?",
            (
                text,
                _dumps(metadata),
                speaker,
                event_time,
                *(named_time(text, event_time) or (None, None)),
                blob,
                now,
                ttl,
                None if ttl is None else now + ttl,
                slot,
            ),
        )
        if old != (text, blob):  # only the key and the text are indexed: a metadata edit re-indexes nothing
            self._log(slot, "remove")
            self._log(slot, "add")

    def delete(self, slots: Sequence[int]) -> int:
        """Delete slots and their history; relink each one's neighbours to each other."""
        c = self.conn
        n = 0
        for slot in slots:
            if c.execute("SELECT 1 FROM slots WHERE slot = ?", (slot,)).fetchone() is None:
                continue
            self._unlink(slot)
            c.execute("DELETE FROM slots WHERE slot = ?", (slot,))
            c.execute("DELETE FROM history WHERE slot = ?", (slot,))
            self._log(slot, "remove")
            n += 1
        return n

    def _log(self, slot: int, op: str) -> None:
        """Append an index-affecting change to the log, stamped with this transaction's token."""
        self.conn.execute("INSERT INTO changes (slot, op, tx) VALUES (?, ?, ?)", (slot, op, self._tx))

    def purge_history(self, slots: Sequence[int]) -> int:
        """Delete the past versions of `slots` (their current ones stay); how many versions went. A
        memory's lexical document holds the texts it superseded, so its index entry is redone."""
        c = self.conn
        n = 0
        for slot in slots:
            gone = c.execute("DELETE FROM history WHERE slot = ?", (slot,)).rowcount
            if gone and c.execute("SELECT 1 FROM slots WHERE slot = ? AND vector IS NOT NULL", (slot,)).fetchone():
                self._log(slot, "remove")
                self._log(slot, "add")
            n += gone
        return n

    def restore_history(self, slot: int, versions: Sequence[Mapping[str, Any]]) -> None:
        """Put back past versions of a slot verbatim (used by import for a lossless round trip)."""
        self.conn.executemany(
            "INSERT OR REPLACE INTO history (slot, version, text, metadata, event_time, updated_at) "
            "VALUES (?,?,?,?,?,?)",
            [
                (slot, v["version"], v["text"], _dumps(v["metadata"]), v["event_time"], v["updated_at"])
                for v in versions
            ],
        )

    def set_slot_fields(self, slot: int, **fields: Any) -> None:
        """Set raw columns (version, created_at, updated_at, usage...) verbatim; import uses it."""
        allowed = {"version", "created_at", "updated_at", "usage", "last_read_at", "expires_at"}
        if not fields.keys() <= allowed:
            raise InvalidInputError(f"cannot set {sorted(fields.keys() - allowed)} on a slot")
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.conn.execute(f"UPDATE slots SET {sets} WHERE slot = ?", (*fields.values(), slot))

    def add_usage(self, weights: Mapping[int, float], now: float) -> None:
        """DNC usage growth from reads, u <- u + w - u*w (Graves et al. 2016, eq. for u_t without free gates)."""
        self.conn.executemany(
            "UPDATE slots SET usage = usage + ? - usage * ?, last_read_at = ? WHERE slot = ?",
            [(w, w, now, s) for s, w in weights.items()],
        )

    def refresh_ttl(self, slots: Sequence[int], now: float) -> None:
        self.conn.executemany(
            "UPDATE slots SET expires_at = ? + ttl WHERE slot = ? AND ttl IS NOT NULL",
            [(now, s) for s in slots],
        )

    def prune_changes(self) -> None:
        keep = self.config.keep_changes
        for table in ("changes", "touched"):
            self.conn.execute(f"DELETE FROM {table} WHERE seq <= (SELECT max(seq) FROM {table}) - ?", (keep,))

    # -- reads ----------------------------------------------------------------------------------

    def _in(self, columns: str, key: str, values: Sequence[Any], extra: str = "") -> list[Any]:
        """Rows of `columns` where `key` is one of `values` (chunked under SQLite's variable limit)."""
        rows: list[Any] = []
        with self.lock:
            for chunk in _chunks(list(values), 900):
                q = ",".join("?" * len(chunk))
                rows += self.conn.execute(
                    f"SELECT {columns} FROM slots WHERE {key} IN ({q}){extra}", chunk
                ).fetchall()
        return rows

    def by_slots(self, slots: Sequence[int]) -> dict[int, SlotRow]:
        return {r.slot: r for r in map(_row, self._in(_COLUMNS, "slot", slots))}

    def by_ids(self, ids: Sequence[str]) -> dict[str, SlotRow]:
        return {r.id: r for r in map(_row, self._in(_COLUMNS, "id", ids))}

    def neighbourhood_rows(
        self,
        slots: Sequence[int],
        strong: Sequence[int],
        *,
        namespace: Namespace | None,
        filter: Filter,
        now: float | None,
        indexed_only: bool,
    ) -> list[tuple[Any, ...]]:
        """READ_COLUMNS of `slots` and of the temporal neighbours (previous and next) of `strong` that
        match the namespace prefix, filter and expiry, in one query: the slot lists travel as JSON arrays,
        so a read's few hundred candidates need neither chunking nor a second round trip."""
        where, params = self._where(namespace, filter, None, now, indexed_only)
        sql = (
            f"WITH c(s) AS (SELECT value FROM json_each(?)), n(s) AS (SELECT value FROM json_each(?)) "
            f"SELECT {READ_COLUMNS} FROM slots WHERE slot IN (SELECT s FROM c UNION "
            "SELECT prev_slot FROM slots WHERE slot IN n UNION SELECT next_slot FROM slots WHERE slot IN n) "
            f"AND {where}"
        )
        args = [json.dumps([int(s) for s in slots]), json.dumps([int(s) for s in strong]), *params]
        with self.lock:
            return self.conn.execute(sql, args).fetchall()

    def touched_since(self, seq: int) -> tuple[int, list[int], bool]:
        """Slots whose read columns changed after `seq` in the `touched` log: (latest seq, slots,
        replayable), as `changes_since` (each slot once)."""
        hi, rows, replayable = self._log_since("touched", "slot", seq)
        return hi, list(dict.fromkeys(r[0] for r in rows)), replayable

    def column_rows(self, slots: Sequence[int] | None) -> list[tuple[Any, ...]]:
        """CACHED_COLUMNS of those of `slots` that still exist (every slot when None)."""
        if slots is None:
            with self.lock:
                return self.conn.execute(f"SELECT {CACHED_COLUMNS} FROM slots").fetchall()
        return self._in(CACHED_COLUMNS, "slot", slots)

    def column_rows_in_range(self, lo: str, hi: str) -> list[tuple[Any, ...]]:
        """CACHED_COLUMNS of the slots whose namespace key lies in [lo, hi) (one tenant)."""
        with self.lock:
            return self.conn.execute(f"SELECT {CACHED_COLUMNS} FROM slots WHERE ns >= ? AND ns < ?", (lo, hi)).fetchall()

    def ids_of(self, slots: Sequence[int]) -> dict[int, str]:
        return dict(self._in("slot, id", "slot", [s for s in slots if s is not None]))

    def select(
        self,
        *,
        namespace: Namespace | None = None,
        filter: Filter = (),
        slots: Sequence[int] | None = None,
        now: float | None = None,
        limit: int | None = None,
        offset: int = 0,
        columns: str = _COLUMNS,
        indexed_only: bool = False,
    ) -> list[Any]:
        """Slots matching namespace prefix, metadata filter, optional slot set; unexpired; write order."""
        where, params = self._where(namespace, filter, slots, now, indexed_only)
        sql = f"SELECT {columns} FROM slots WHERE {where} ORDER BY slot LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, offset]
        with self.lock:
            rows = self.conn.execute(sql, params).fetchall()
        return [_row(r) for r in rows] if columns == _COLUMNS else rows

    def ids_with_prefix(
        self, prefix: str, *, namespace: Namespace | None = None, now: float | None = None, limit: int = 2
    ) -> list[str]:
        # A range on the unique id index: ids sort by their UTF-8 bytes, and every id that starts with
        # the prefix lies below the prefix followed by the largest code point.
        where, params = self._where(namespace, (), None, now, False)
        sql = f"SELECT id FROM slots WHERE id >= ? AND id < ? AND {where} ORDER BY id LIMIT ?"
        with self.lock:
            rows = self.conn.execute(sql, [prefix, prefix + "\U0010ffff", *params, limit]).fetchall()
        return [r[0] for r in rows]

    def any(self, *, namespace: Namespace | None = None, now: float | None = None) -> bool:
        # No ORDER BY: sorting would touch every row under the prefix to return one.
        where, params = self._where(namespace, (), None, now, False)
        with self.lock:
            return self.conn.execute(f"SELECT 1 FROM slots WHERE {where} LIMIT 1", params).fetchone() is not None

    def count(
        self,
        *,
        namespace: Namespace | None = None,
        filter: Filter = (),
        now: float | None = None,
        indexed_only: bool = False,
    ) -> int:
        where, params = self._where(namespace, filter, None, now, indexed_only)
        with self.lock:
            return self.conn.execute(f"SELECT count(*) FROM slots WHERE {where}", params).fetchone()[0]

    @staticmethod
    def _where(namespace, filter, slots, now, indexed_only) -> tuple[str, list[Any]]:
        ns_sql, params = ns_prefix_sql(namespace)
        f_sql, f_params = filter_sql(filter)
        where = f"{ns_sql} AND {f_sql}"
        params = params + f_params
        if slots is not None:
            where += f" AND slot IN ({','.join(str(int(s)) for s in slots) or 'NULL'})"
        if now is not None:
            where += " AND (expires_at IS NULL OR expires_at > ?)"
            params.append(now)
        if indexed_only:
            where += " AND vector IS NOT NULL"
        return where, params

    def earliest_expiry(self) -> float:
        """When the first memory with a ttl expires (inf when none has one): one step of the expiry index."""
        with self.lock:
            first = self.conn.execute(
                "SELECT min(expires_at) FROM slots WHERE expires_at IS NOT NULL"
            ).fetchone()[0]
        return math.inf if first is None else first

    def expired_slots(self, now: float) -> list[int]:
        with self.lock:
            return [r[0] for r in self.conn.execute("SELECT slot FROM slots WHERE expires_at <= ?", (now,))]

    def namespace_counts(self, now: float | None = None) -> dict[tuple[str, ...], int]:
        """Memories per namespace (unexpired ones only when `now` is given)."""
        live = "" if now is None else "WHERE expires_at IS NULL OR expires_at > ?"
        with self.lock:
            rows = self.conn.execute(
                f"SELECT ns, count(*) FROM slots {live} GROUP BY ns ORDER BY ns",
                () if now is None else (now,),
            ).fetchall()
        return {ns_tuple(k): n for k, n in rows}

    def history(self, slot: int) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT version, text, metadata, event_time, updated_at FROM history WHERE slot = ? "
                "UNION ALL SELECT version, text, metadata, event_time, updated_at FROM slots WHERE slot = ? "
                "ORDER BY version",
                (slot, slot),
            ).fetchall()
        return [
            {"version": v, "text": t, "metadata": json.loads(m), "event_time": e, "updated_at": u}
            for v, t, m, e, u in rows
        ]

    def vectors(self, slots: Sequence[int], dim: int) -> np.ndarray:
        """Key vectors `(len(slots), dim)` in the order given (zeros for slots without one)."""
        found = dict(self._in("slot, vector", "slot", slots, " AND vector IS NOT NULL"))
        out = np.zeros((len(slots), dim), dtype=np.float32)
        for i, s in enumerate(slots):
            if s in found:
                out[i] = decode_key(found[s], dim)
        return out

    def present_vectors(self, slots: Sequence[int], dim: int) -> tuple[np.ndarray, np.ndarray]:
        """(slots (m,), vectors (m, d)) for those of `slots` that still exist with a vector, in order."""
        found = dict(self._in("slot, vector", "slot", slots, " AND vector IS NOT NULL"))
        keep = [s for s in slots if s in found]
        if not keep:
            return np.zeros(0, dtype=np.int64), np.zeros((0, dim), np.float32)
        return np.array(keep, dtype=np.int64), np.stack(
            [decode_key(found[s], dim) for s in keep]
        )

    def present_documents(
        self, slots: Sequence[int], separator: str | None
    ) -> tuple[list[int], list[str], list[str]]:
        """(slots, documents, namespace keys) for those of `slots` that still exist indexed, in order. A
        document is the memory's text, followed (unless `separator` is None) by the distinct texts of the
        versions it superseded, each after `separator`."""
        rows = self._in(f"slot, {_document_sql(separator)}, ns", "slot", slots, " AND vector IS NOT NULL")
        found = {r[0]: r for r in rows}
        keep = [s for s in slots if s in found]
        return keep, [found[s][1] for s in keep], [found[s][2] for s in keep]

    def iter_documents(
        self, separator: str | None, batch: int = 10_000
    ) -> Iterator[tuple[list[int], list[str], list[str]]]:
        """Every indexed slot's document and namespace key (see `present_documents`), as (slots,
        documents, namespace keys) batches, in write order."""
        for rows in self._iter_indexed(f"{_document_sql(separator)}, ns", batch):
            yield [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]

    def iter_vectors(self, dim: int, batch: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All indexed slots as (slots (b,), vectors (b, d)) batches, in write order."""
        for rows in self._iter_indexed("vector", batch):
            yield (
                np.array([r[0] for r in rows], dtype=np.int64),
                np.stack([decode_key(r[1], dim) for r in rows]),
            )

    def present_keys(self, slots: Sequence[int], dim: int) -> tuple[list[int], list[str], np.ndarray]:
        """(slots, namespace keys, vectors (m, d)) of those of `slots` that still exist with a vector."""
        rows = self._in("slot, ns, vector", "slot", slots, " AND vector IS NOT NULL")
        return keys_of(rows, dim)

    def tenant_rows(self, lo: str, hi: str, *, limit: int) -> list[tuple[Any, ...]]:
        """CACHED_COLUMNS and the stored key (None: not indexed) of the slots whose namespace key lies in
        [lo, hi), at most `limit`: one range scan of the (ns, slot) index for everything a tenant's
        first read needs (storage/local/tenants.py)."""
        with self.lock:
            return self.conn.execute(
                f"SELECT {CACHED_COLUMNS}, vector FROM slots WHERE ns >= ? AND ns < ? LIMIT ?", (lo, hi, limit)
            ).fetchall()

    def keys_in_range(self, lo: str, hi: str, dim: int) -> tuple[list[int], list[str], np.ndarray]:
        """(slots, namespace keys, vectors (m, d)) of the indexed slots whose namespace key lies in
        [lo, hi): one range scan of the (ns, slot) index (one tenant, storage/local/tenants.py)."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT slot, ns, vector FROM slots WHERE ns >= ? AND ns < ? AND vector IS NOT NULL", (lo, hi)
            ).fetchall()
        return keys_of(rows, dim)

    def _iter_indexed(self, column: str, batch: int) -> Iterator[list[tuple[int, Any]]]:
        """(slot, column) rows of every indexed slot, `batch` at a time, in slot order."""
        last = 0
        while True:
            with self.lock:
                rows = self.conn.execute(
                    f"SELECT slot, {column} FROM slots WHERE slot > ? AND vector IS NOT NULL ORDER BY slot LIMIT ?",
                    (last, batch),
                ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield rows

    def changes_since(self, seq: int) -> tuple[int, list[tuple[int, str]], bool]:
        """Index-affecting changes after `seq`: (latest seq, [(slot, op)], replayable).

        Not replayable when the log was pruned past `seq`, or `seq` is ahead of the log (the index
        belongs to another database): the caller must rebuild from the slots instead.
        """
        return self._log_since("changes", "slot, op", seq)

    def _log_since(self, table: str, columns: str, seq: int) -> tuple[int, list[Any], bool]:
        """`columns` of the entries of log `table` after `seq`, in order: (latest seq, rows, replayable)."""
        with self.lock:
            # Separate min and max: SQLite answers a lone one from the key's end, both together by a scan.
            hi = self.conn.execute(f"SELECT max(seq) FROM {table}").fetchone()[0]
            if hi is None:
                return 0, [], seq == 0
            if hi <= seq:
                return hi, [], hi == seq
            if self.conn.execute(f"SELECT min(seq) FROM {table}").fetchone()[0] > seq + 1:
                return hi, [], False
            rows = self.conn.execute(
                f"SELECT {columns} FROM {table} WHERE seq > ? ORDER BY seq", (seq,)
            ).fetchall()
        return hi, rows, True

    def committed_seq(self) -> int:
        """The change log's last position ever handed out (pruning and deletes never lower it)."""
        with self.lock:
            has = self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone()
            row = has and self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
        return int(row[0]) if row else 0

    def write_mark(self, seq: int) -> None:
        """Record `seq` as reached by a commit (MARK_FILE); one fixed-width write, never torn."""
        os.pwrite(self._mark, f"{seq:020d}\n".encode(), 0)

    def _check_mark(self) -> tuple[int, int] | None:
        """(the mark, the log's end) when the mark is past the end: commits the database no longer holds."""
        try:
            mark = int(os.pread(self._mark, 21, 0) or b"0")
        except ValueError:  # a garbled mark says nothing
            return None
        end = self.committed_seq()
        return (mark, end) if mark > end else None

    def lost_commits(self) -> tuple[int, int] | None:
        """What `_check_mark` found when the store was opened (None: nothing lost)."""
        return self._lost

    def accept_loss(self) -> None:
        """Take the database as it is: the mark moves back to where its log ends."""
        self._lost = None
        self.write_mark(self.committed_seq())

    def change_tx(self, seq: int) -> str | None:
        """The token of the transaction that logged change `seq` (None: before tokens, or no such change)."""
        with self.lock:
            row = self.conn.execute("SELECT tx FROM changes WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else row[0]

    def checkpoint(self) -> bool:
        """Copy the write-ahead log into the database and truncate it, so what was deleted survives in
        no file; False when a reader of another connection kept part of the log in use."""
        with self.lock:
            busy, _, _ = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return busy == 0

    def vacuum(self) -> None:
        """Rewrite the database without its free pages (`agentmem compact`)."""
        with self.lock:
            self.conn.execute("VACUUM")
        self.checkpoint()
        self._file = _identity(self.path)

    def integrity_problems(self) -> list[str]:
        """What SQLite's integrity check finds wrong with the database file (empty: nothing)."""
        with self.lock:
            rows = [r[0] for r in self.conn.execute("PRAGMA integrity_check")]
        return [] if rows == ["ok"] else rows

    def latest_seq(self) -> int:
        with self.lock:
            return self.conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]

    def bytes_on_disk(self) -> int:
        return sum(p.stat().st_size for p in self.directory.iterdir() if p.is_file())

    def close(self) -> None:
        with self.lock:
            self.conn.close()
            if self._mark is not None:
                os.close(self._mark)
                self._mark = None


def _row(r: Sequence[Any]) -> SlotRow:
    return SlotRow.from_columns(r, json.loads(r[4]))


def encode_key(vector: np.ndarray) -> bytes:
    """A unit key as stored: float16, half the bytes of float32. A unit vector's components lie in
    [-1, 1], where float16 keeps 11 significant bits: a cosine moves by at most about 1e-3, well
    below what separates two memories' scores."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def decode_key(blob: bytes, dim: int) -> np.ndarray:
    """A stored key as float32 `(dim,)`; keys of stores written as float32 read as they are."""
    return np.frombuffer(blob, dtype=np.float16 if len(blob) == 2 * dim else np.float32).astype(np.float32)


def keys_of(rows: Sequence[tuple[int, str, bytes]], dim: int) -> tuple[list[int], list[str], np.ndarray]:
    """(slots, namespace keys, keys (m, d)) of (slot, namespace key, stored key) rows."""
    if not rows:
        return [], [], np.zeros((0, dim), np.float32)
    blobs = [r[2] for r in rows]
    if all(len(b) == 2 * dim for b in blobs):  # one decode for the lot, by FAISS's vectorised float16 codec
        import faiss  # here: listing or counting a store never loads FAISS

        codes = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(rows), 2 * dim)
        # One OpenMP thread, set in the calling thread: a read's lexical worker runs beside it, and two
        # spinning pools on two cores make the decode many times slower (dense.IndexConfig.omp_threads).
        faiss_threads(1)
        keys = faiss.ScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16).decode(codes)
    else:
        keys = np.stack([decode_key(b, dim) for b in blobs])
    return [r[0] for r in rows], [r[1] for r in rows], keys


def _dumps(metadata: Any) -> str:
    """Metadata (or a filter's object or list) as the JSON text stored and compared. A PostgreSQL
    store's jsonb has no negative zero and reads -0.0 back as 0.0, so this store writes 0.0 too."""
    try:
        text = json.dumps(metadata, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(
            f"metadata must be JSON-serialisable ({e}); convert values to str/int/float/list/dict"
        ) from e
    return json.dumps(_no_negative_zero(metadata), ensure_ascii=False) if "-0.0" in text else text


def _no_negative_zero(value: Any) -> Any:
    if isinstance(value, float) and value == 0.0:
        return 0.0
    if isinstance(value, dict):
        return {k: _no_negative_zero(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_negative_zero(v) for v in value]
    return value


def _chunks(xs: list[Any], n: int) -> Iterator[list[Any]]:
    for i in range(0, len(xs), n):
        yield xs[i : i + n]


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of a file, None when it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _writable(d: Path) -> bool:
    return os.access(d, os.W_OK | os.X_OK)
