"""PostgresBackend: a store in a PostgreSQL database (with pgvector), shared by any number of processes
and machines.

The database is the truth and holds every index (schema.py): the keys under pgvector's HNSW index, the
lexical terms under a GIN index, the namespaces under a btree. Nothing is cached across calls, so a
read sees every commit made before it began, by any process, with nothing to catch up.

Writes. A transaction is one database transaction on the backend's own connection. Memories written
into a namespace are linked after its tail while the namespace's writer lock is held
(`pg_advisory_xact_lock` on the namespace key, released by the commit), so concurrent writers into
one namespace queue up and its chain never forks (a unique index on each namespace's tail guards it
too); writers into other namespaces go on. Slots come from a sequence, taken under that lock, so a
namespace's slots grow in its write order. New rows wait in the client until the transaction needs
them (a read, an update, a delete) or commits, then go over in one COPY: a bulk `remember` of a
thousand texts is a handful of round trips. The lexical statistics a transaction changes go over last,
in one fixed order, just before COMMIT (lexical.py). An id returned after a commit is durable as the
server's `synchronous_commit` makes it (on, by default: flushed to its WAL).

Reads outside a transaction run on a small pool of autocommit connections, so the lexical and dense
halves of a learned read (controller/candidates.py) run at once on two; inside a transaction they run
on its connection and see its writes.

Erasure: a deleted row stays in its table's pages as a dead tuple until VACUUM (autovacuum, or
`compact`, which runs VACUUM FULL) reclaims them, and in the server's WAL, its replicas and its backups
until those are recycled (docs/scale-out.md).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from agentmem.errors import (
    ClosedError,
    InvalidInputError,
    SchemaVersionError,
    StorePathError,
)
from agentmem.filters import Filter
from agentmem.storage.base import Backend, Namespace, NewSlot, SlotRow, ns_key, ns_tuple
from agentmem.storage.location import redact
from agentmem.storage.postgres import schema as ddl
from agentmem.storage.postgres.config import PostgresConfig
from agentmem.storage.postgres.connect import aconnect, connect, driver, mapped_errors, register_vectors
from agentmem.storage.postgres.lexical import StatsDelta, Tokeniser
from agentmem.storage.postgres.rows import ROW_SQL, slot_row
from agentmem.storage.postgres.sql import dumps, visible_sql
from agentmem.storage.postgres.steps import Copy, Pipe, Sql, Steps, adrive, drive
from agentmem.time_expressions import named_time

log = logging.getLogger("agentmem")
T = TypeVar("T")

KINDS = ("auto", "flat", "hnsw")
_COPY_COLUMNS = (
    "tenant, slot, id, ns, text, metadata, speaker, created_at, updated_at, event_time, named_start, named_end, "
    "vector, prev_slot, next_slot, ttl, expires_at, terms, tfs, doc_len"
)
_COPY_TYPES = [
    "text", "int8", "text", "text", "text", "jsonb", "text", "float8", "float8", "float8", "float8", "float8",
    "vector", "int8", "int8", "float8", "float8", "text[]", "float4[]", "int4",
]
_NEXT = 14  # the position of the next link in a pending row (_COPY_COLUMNS)
_UPGRADE_BATCH = 10_000  # rows an upgrade works out per statement (`_upgrade`)
_SIZE_TTL_S = 30.0  # how long a tenant's size steers reads before it is read again (`tenant_size`)
_SETTABLE = frozenset({"version", "created_at", "updated_at", "usage", "last_read_at", "expires_at"})


def lock_key_sql(param: str = "%s") -> str:
    """A namespace writer lock's key: the namespace key hashed into pg_advisory_xact_lock's bigint."""
    return f"pg_advisory_xact_lock(hashtextextended({param}, 7))"


@dataclass
class _Chain:
    """A namespace written in the open transaction, whose writer lock it holds: its tail and the slot
    numbers taken for it and not used yet."""

    tail: int | None
    free: list[int] = field(default_factory=list)
    block: int = 1  # slot numbers the next refill takes: doubles, so n single writes cost log n refills


@dataclass
class Tx:
    """One write transaction's state: rows inserted and not yet sent (`pending`, each slot's position
    in `pending_at`), committed tails they follow (`joins`: tenant, tail, first new slot after it), the
    namespaces it holds the writer lock of (`chains`), the last slot it took (`top`) and its changes
    to the lexical statistics."""

    conn: Any = None  # an asyncio transaction's connection (a blocking one's is the backend's own)
    top: int = 0
    pending: list[list[Any]] = field(default_factory=list)
    pending_at: dict[int, int] = field(default_factory=dict)
    joins: list[tuple[str, int, int]] = field(default_factory=list)
    chains: dict[str, _Chain] = field(default_factory=dict)
    delta: StatsDelta = field(default_factory=StatsDelta)


class PostgresBackend(Backend):
    """A store in a PostgreSQL database (module docstring)."""

    def __init__(self, url: str, config: PostgresConfig | None = None, *, create: bool = True) -> None:
        self.url = url
        self.config = config or PostgresConfig()
        self.schema = self.config.schema
        self.tokens = Tokeniser(self.config.lexical)
        self._lock = threading.RLock()  # the write connection and the open transaction's state
        self._pool: list[Any] = []
        self._apool: list[Any] = []  # asyncio connections, of the event loop `_aloop`
        self._aloop: Any = None
        self._pool_lock = threading.Lock()
        self._closed = False
        self._depth = 0
        self._tx = Tx()  # the open transaction's state (a fresh one between transactions)
        self._sizes: dict[str, tuple[int, float]] = {}  # tenant -> (indexed memories, when read)
        self._dim: int | None = None
        self._lexical_stamp: str | None = None
        self.kind: str = self.config.index
        with self.errors():
            self._conn = connect(url, self.config, vectors=False)
            try:
                self._missing = self._find_schema(create)
                if not self._missing:
                    register_vectors(self._conn)
                self._session(self._conn)
            except BaseException:
                self._conn.close()
                raise

    # -- connections ----------------------------------------------------------------------------

    def location(self) -> str:
        return redact(self.url)

    @contextmanager
    def errors(self) -> Iterator[None]:
        with mapped_errors(self.url, busy_s=self.config.lock_timeout_s):
            yield

    def _session(self, conn: Any) -> None:
        """Per-connection settings of reads: the HNSW beam, and scans that go on past hits a filter
        hides (pgvector 0.8 and later)."""
        c = self.config
        conn.execute(f"SET hnsw.ef_search = {int(c.hnsw_ef_search)}")
        if c.iterative_scan:
            # A pgvector before 0.8 that has claimed the hnsw. prefix refuses the setting: reads then
            # fall back to an exact scan when the beam runs short (reader.py).
            with contextlib.suppress(driver().Error):
                conn.execute("SET hnsw.iterative_scan = relaxed_order")

    def _writer(self) -> Any:
        """The connection of writes (and of reads inside a transaction); reopened when the server
        dropped it between transactions."""
        if self._closed:
            raise ClosedError(f"the store at {self.location()} is closed; open a new Memory")
        if self._conn.broken and not self._depth:
            self._conn.close()
            self._conn = connect(self.url, self.config)
            self._session(self._conn)
        return self._conn

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """A connection to read on: the open transaction's (its writes sent first), else one of the
        pool's."""
        if self._depth:
            with self._lock:
                self._send_pending()
                conn = self._writer()
            yield conn
            return
        if self._closed:
            raise ClosedError(f"the store at {self.location()} is closed; open a new Memory")
        with self._pool_lock:
            conn = self._pool.pop() if self._pool else None
        if conn is None:
            conn = connect(self.url, self.config)
            self._session(conn)
        try:
            yield conn
        finally:
            keep = not conn.broken and not conn.closed and not self._closed
            with self._pool_lock:
                if keep and len(self._pool) < self.config.pool_size:
                    self._pool.append(conn)
                    conn = None
            if conn is not None:
                conn.close()

    def tenant_size_steps(self, tenant: str, tx: Tx | None = None) -> Steps[int]:
        """The tenant's indexed memories, as its lexical statistics count them, remembered for a while:
        it only steers a read between an exact scan and the HNSW index, so a figure a little stale costs
        speed, never an answer (0, which ends a search at once, is read afresh each time). This
        process's own writes to the tenant refresh it. A read inside transaction `tx` counts the
        memories `tx` wrote too, whose statistics it sends only at its commit."""
        own = tx.delta.docs.get(tenant, (0, 0))[0] if tx is not None else 0
        now = time.monotonic()
        held = self._sizes.get(tenant)
        if held is not None and now - held[1] < _SIZE_TTL_S:
            return held[0] + own
        rows = yield Sql(self.sql("SELECT docs FROM {s}.lexical_docs WHERE tenant = %s"), (tenant,))
        size = int(rows[0][0]) if rows else 0
        if size:  # an empty tenant is not remembered: another process may write into it any moment
            self._sizes[tenant] = (size, now)
        return size + own

    def open_tx(self) -> Tx | None:
        """The transaction a blocking read runs in (`reading`), whose own writes it sees; None outside one."""
        return self._tx if self._depth else None

    # -- asyncio ----------------------------------------------------------------------------------

    @asynccontextmanager
    async def aconnection(self) -> AsyncIterator[Any]:
        """An asyncio connection of this event loop's pool (connections belong to one loop)."""
        if self._closed:
            raise ClosedError(f"the store at {self.location()} is closed; open a new Memory")
        loop = asyncio.get_running_loop()
        with self._pool_lock:
            if self._aloop is not loop:  # a new loop: the old loop's connections cannot serve it
                stale, self._apool, self._aloop = self._apool, [], loop
            else:
                stale = []
            conn = self._apool.pop() if self._apool else None
        for old in stale:
            old.pgconn.finish()
        if conn is None:
            conn = await aconnect(self.url, self.config)
            await conn.execute(f"SET hnsw.ef_search = {int(self.config.hnsw_ef_search)}")
            if self.config.iterative_scan:
                with contextlib.suppress(driver().Error):  # as in `_session`
                    await conn.execute("SET hnsw.iterative_scan = relaxed_order")
        try:
            yield conn
        finally:
            keep = not conn.broken and not conn.closed and not self._closed and not conn.info.transaction_status
            with self._pool_lock:
                if keep and self._aloop is loop and len(self._apool) < self.config.pool_size:
                    self._apool.append(conn)
                    conn = None
            if conn is not None:
                await conn.close()

    async def adrive(self, steps: Steps[T]) -> T:
        """Run read `steps` on a pooled asyncio connection."""
        with self.errors():
            async with self.aconnection() as conn:
                return await adrive(conn, steps)

    async def aquery(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await self.adrive(_one(self.sql(sql), params))

    @asynccontextmanager
    async def atransaction(self) -> AsyncIterator[Tx]:
        """One write transaction on an asyncio connection of its own: the Tx its steps run in, sent and
        committed on leaving the block, rolled back on any error."""
        with self.errors():
            async with self.aconnection() as conn, conn.transaction():
                tx = Tx(conn=conn)
                yield tx
                await adrive(conn, self.commit_steps(tx))

    async def ainsert(self, tx: Tx, rows: Sequence[NewSlot], now: float) -> list[int]:
        with self.errors():
            return await adrive(tx.conn, self.insert_steps(tx, rows, now))

    async def adelete(self, tx: Tx, slots: Sequence[int]) -> int:
        with self.errors():
            return await adrive(tx.conn, self.delete_steps(tx, slots))

    async def aadd_usage(self, tx: Tx, weights: Mapping[int, float], now: float) -> None:
        with self.errors():
            await adrive(tx.conn, self.usage_steps(tx, weights, now))

    async def arows(self, slots: Sequence[int]) -> dict[int, SlotRow]:
        if len(slots) == 0:
            return {}
        found = await self.aquery(f"SELECT {ROW_SQL} WHERE s.slot = ANY(%s::int8[])", ([int(s) for s in slots],))
        return {r.slot: r for r in map(slot_row, found)}

    async def arows_by_id(self, ids: Sequence[str]) -> dict[str, SlotRow]:
        if len(ids) == 0:
            return {}
        found = await self.aquery(f"SELECT {ROW_SQL} WHERE s.id = ANY(%s::text[])", (list(ids),))
        return {r.id: r for r in map(slot_row, found)}

    async def aselect(
        self,
        *,
        namespace: Namespace | None = None,
        filter: Filter = (),
        now: float | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[SlotRow]:
        sql, params = self._select_sql(namespace, filter, now, limit, offset)
        return [slot_row(r) for r in await self.aquery(sql, params)]

    async def aselect_slots(
        self,
        *,
        namespace: Namespace | None = None,
        filter: Filter = (),
        now: float | None = None,
        slots: Sequence[int] | None = None,
    ) -> list[int]:
        sql, params = self._select_slots_sql(namespace, filter, now, slots)
        return [r[0] for r in await self.aquery(sql, params)]

    async def aany(self, *, namespace: Namespace | None = None, now: float | None = None) -> bool:
        where, params = visible_sql(namespace, (), now, indexed_only=False)
        return (await self.aquery(f"SELECT EXISTS (SELECT 1 FROM {{s}}.slots WHERE {where})", params))[0][0]

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.reading() as conn:
            return conn.execute(sql, params, binary=True).fetchall()

    def sql(self, template: str) -> str:
        """`template` with {s} as the store's schema."""
        return template.replace("{s}", self.schema)

    # -- the schema -------------------------------------------------------------------------------

    def _find_schema(self, create: bool) -> bool:
        """Whether the store is still to be made (its first write makes it, so a failed first open
        leaves nothing behind); else check that the schema holds an agentmem store this version reads."""
        conn, s = self._conn, self.schema
        present = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{s}.meta",)).fetchone()[0]
        if not present:
            if not create:
                raise StorePathError(
                    f"no store at {self.location()} (no schema {s!r} with agentmem's tables); create one with "
                    f"`agentmem --store {self.location()} init`"
                )
            return True
        facts = dict(conn.execute(f"SELECT key, value FROM {s}.meta").fetchall())
        if "store_id" not in facts:
            raise StorePathError(
                f"schema {s!r} of {self.location()} holds another application's tables, not an agentmem store; "
                "set PostgresConfig.schema to a schema of its own"
            )
        version = int(facts.get("schema_version", "0"))
        if version > ddl.SCHEMA_VERSION:
            raise SchemaVersionError(
                f"store {self.location()} has schema {version}, newer than this agentmem's "
                f"{ddl.SCHEMA_VERSION}; upgrade agentmem"
            )
        if version < ddl.SCHEMA_VERSION:
            self._upgrade(version)
        self._lexical_stamp = facts.get("lexical")
        return False

    def _upgrade(self, version: int) -> None:
        """Bring a store of an older schema `version` to SCHEMA_VERSION, once, under the lock every opener
        shares: new columns, then the values each row's text and event time give them."""
        conn, s = self._conn, self.schema
        with conn.transaction():
            conn.execute(f"SELECT pg_advisory_xact_lock({ddl.CREATE_LOCK})")
            found = conn.execute(f"SELECT value FROM {s}.meta WHERE key = 'schema_version'").fetchone()
            if int(found[0]) >= ddl.SCHEMA_VERSION:  # another opener upgraded it while this one waited
                return
            for statement in ddl.upgrade_sql(s, version):
                conn.execute(statement)
            if version < 2:
                # Streamed through a server-side cursor, a batch at a time, so a large store's texts
                # never sit in the client all at once.
                with conn.cursor(name="agentmem_upgrade") as rows:
                    rows.execute(f"SELECT tenant, slot, text, event_time FROM {s}.slots")
                    while batch := rows.fetchmany(_UPGRADE_BATCH):
                        named = [(t, n, *span) for t, n, text, at in batch if (span := named_time(text, at))]
                        if named:
                            conn.execute(
                                f"UPDATE {s}.slots x SET named_start = u.a, named_end = u.b FROM unnest(%s::text[], "
                                "%s::int8[], %s::float8[], %s::float8[]) AS u(t, s, a, b) "
                                "WHERE x.tenant = u.t AND x.slot = u.s",
                                [list(column) for column in zip(*named, strict=True)],
                            )
            conn.execute(f"UPDATE {s}.meta SET value = %s WHERE key = 'schema_version'", (str(ddl.SCHEMA_VERSION),))

    def _make_schema(self) -> None:
        """Create a new store's tables, once, under a lock every opener shares (idempotent)."""
        if not self._missing:
            return
        conn, s = self._writer(), self.schema
        psycopg = driver()
        try:
            with conn.transaction():
                conn.execute(f"SELECT pg_advisory_xact_lock({ddl.CREATE_LOCK})")
                if not conn.execute("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')").fetchone()[0]:
                    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
                for statement in ddl.create_sql(s):
                    conn.execute(statement)
                conn.execute(
                    f"INSERT INTO {s}.meta (key, value) VALUES ('schema_version', %s), ('store_id', %s), "
                    "('created_at', %s), ('lexical', %s) ON CONFLICT (key) DO NOTHING",
                    (str(ddl.SCHEMA_VERSION), uuid.uuid4().hex, repr(time.time()), self.tokens.stamp()),
                )
        except (psycopg.errors.FeatureNotSupported, psycopg.errors.UndefinedFile) as e:
            raise StorePathError(
                f"the PostgreSQL server of {self.location()} lacks the pgvector extension ({_line(e)}); "
                "install pgvector on the server (https://github.com/pgvector/pgvector)"
            ) from e
        except psycopg.errors.InsufficientPrivilege as e:
            raise StorePathError(
                f"the user of {self.location()} may not create agentmem's tables ({_line(e)}); run "
                f"`CREATE EXTENSION IF NOT EXISTS vector; CREATE SCHEMA {s} AUTHORIZATION <user>` as the "
                "database owner, or connect as a user that may"
            ) from e
        register_vectors(conn)
        self._missing = False
        self._lexical_stamp = conn.execute(f"SELECT value FROM {s}.meta WHERE key = 'lexical'").fetchone()[0]

    # -- the store's own facts --------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        if self._missing:
            return None
        rows = self._query(self.sql("SELECT value FROM {s}.meta WHERE key = %s"), (key,))
        return rows[0][0] if rows else None

    def set_meta(self, **facts: str) -> None:
        self._make_schema()
        with self.transaction():
            self._writer().execute(
                self.sql(
                    "INSERT INTO {s}.meta (key, value) SELECT * FROM unnest(%s::text[], %s::text[]) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
                ),
                (list(facts), [str(v) for v in facts.values()]),
            )

    def open_index(self, dim: int, kind: str | None) -> None:
        """Give the key column its dimension and build the HNSW index, once per store (the first open
        records the kind; later ones keep it). "auto" is the configured kind: an HNSW index over every
        key for reads of the whole store, unless PostgresConfig.index says "flat"."""
        self._make_schema()
        recorded = self.get_meta("index_kind")
        kind = recorded or kind or self.config.index
        if kind not in KINDS:
            raise InvalidInputError(f"unknown index kind {kind!r}; use 'auto', 'flat' or 'hnsw'")
        self.kind = self.config.index if kind == "auto" else kind
        self._dim = dim
        if recorded is None:
            with self.transaction():
                conn, s = self._in_transaction(), self.schema
                conn.execute(f"SELECT pg_advisory_xact_lock({ddl.CREATE_LOCK})")
                typmod = conn.execute(
                    "SELECT atttypmod FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'vector'",
                    (f"{s}.slots",),
                ).fetchone()[0]
                if typmod not in (-1, dim):
                    raise InvalidInputError(
                        f"store {self.location()} holds {typmod}-d keys, not {dim}-d; open it with its own encoder"
                    )
                statements = ddl.dense_sql(
                    s, dim, hnsw=self.kind == "hnsw", m=self.config.hnsw_m,
                    ef_construction=self.config.hnsw_ef_construction,
                )
                for statement in statements[int(typmod == dim) :]:
                    conn.execute(statement)
                conn.execute(
                    f"INSERT INTO {s}.meta (key, value) VALUES ('index_kind', %s) ON CONFLICT (key) DO NOTHING",
                    (kind,),
                )
        if self._lexical_stamp != self.tokens.stamp():
            log.warning(
                "the lexical terms of %s were made by another tokenisation: re-tokenising every memory",
                self.location(),
            )
            self._rebuild_lexical()

    # -- writes ---------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._depth:  # a transaction inside one: part of it, committed (or not) with it
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            conn = self._writer()
            self._depth = 1
            self._tx = Tx()
        try:
            with conn.transaction():
                yield
                with self._lock:
                    drive(conn, self.commit_steps(self._tx))
        finally:
            with self._lock:
                self._depth = 0
                self._tx = Tx()

    def _in_transaction(self) -> Any:
        if not self._depth:
            raise RuntimeError("storage writes run inside backend.transaction()")
        return self._writer()

    def commit_steps(self, tx: Tx) -> Steps[None]:
        """What a transaction sends before COMMIT: its pending rows, then its lexical statistics."""
        yield from self.send_steps(tx)
        for tenant in tx.delta.docs:
            self._sizes.pop(tenant, None)
        yield from tx.delta.apply(self.schema)

    def _chain_steps(self, tx: Tx, tenant: str, key: str, need: int) -> Steps[_Chain]:
        """The namespace's chain in the transaction, with at least `need` free slot numbers: its writer
        lock is taken and its tail read the first time, in one round trip."""
        chain = tx.chains.get(key)
        take = self.sql("SELECT array(SELECT nextval('{s}.slot_seq') FROM generate_series(1, %s))")
        if chain is not None and chain.free and chain.free[0] <= tx.top:
            # Numbers taken before a slot this transaction has used since (in another namespace) would
            # put this write before that one in the store's write order: they are left unused.
            del chain.free[: bisect.bisect_right(chain.free, tx.top)]
        if chain is None:
            lock, tail, free = yield Pipe(
                [
                    Sql(f"SELECT {lock_key_sql()}", (key,)),
                    Sql(
                        self.sql("SELECT slot FROM {s}.slots WHERE tenant = %s AND ns = %s AND next_slot IS NULL"),
                        (tenant, key),
                    ),
                    Sql(take, (max(need, 1),)),
                ]
            )
            chain = tx.chains[key] = _Chain(tail[0][0] if tail else None, list(free[0][0]))
        elif len(chain.free) < need:
            chain.block = min(chain.block * 2, 1024)
            (row,) = yield Sql(take, (max(need - len(chain.free), chain.block),))
            chain.free += row[0]
        return chain

    def insert(self, rows: Sequence[NewSlot], now: float) -> list[int]:
        """Take slots and link each row after its namespace's tail; the rows themselves are sent with
        the transaction's next statement or its commit (module docstring)."""
        with self._lock:
            return drive(self._in_transaction(), self.insert_steps(self._tx, rows, now))

    def insert_steps(self, tx: Tx, rows: Sequence[NewSlot], now: float) -> Steps[list[int]]:
        needs: dict[str, int] = {}
        for r in rows:
            needs[ns_key(r.namespace)] = needs.get(ns_key(r.namespace), 0) + 1
        out = []
        for r in rows:
            key, tenant = ns_key(r.namespace), r.namespace[0]
            chain = yield from self._chain_steps(tx, tenant, key, needs[key])
            needs[key] -= 1
            slot = chain.free.pop(0)
            tx.top = max(tx.top, slot)
            prev = chain.tail
            vector = None if r.vector is None else np.asarray(r.vector, dtype=np.float32)
            doc = None if vector is None else self.tokens.document(r.text)
            if doc is not None:
                tx.delta.add(tenant, doc.terms, doc.length, 1)
            named = named_time(r.text, r.event_time) or (None, None)
            tx.pending_at[slot] = len(tx.pending)
            tx.pending.append(
                [
                    tenant, slot, r.id, key, r.text, _metadata(r.metadata), r.speaker, r.created_at or now,
                    now, r.event_time, *named, vector, prev, None, r.ttl, None if r.ttl is None else now + r.ttl,
                    None if doc is None else doc.terms, None if doc is None else doc.tfs,
                    None if doc is None else doc.length,
                ]
            )
            if prev is not None:
                at = tx.pending_at.get(prev)
                if at is None:
                    tx.joins.append((tenant, prev, slot))
                else:
                    tx.pending[at][_NEXT] = slot
            chain.tail = slot
            out.append(slot)
        return out

    def send_steps(self, tx: Tx) -> Steps[None]:
        """Send the rows inserted so far: the committed tails they follow first (so each namespace
        keeps a single tail), then the rows, in one COPY."""
        if not tx.pending:
            return
        if tx.joins:
            tenants, prevs, nexts = (list(c) for c in zip(*tx.joins, strict=True))
            yield Sql(
                self.sql(
                    "UPDATE {s}.slots s SET next_slot = j.next FROM unnest(%s::text[], %s::int8[], %s::int8[]) "
                    "AS j(tenant, slot, next) WHERE s.tenant = j.tenant AND s.slot = j.slot"
                ),
                (tenants, prevs, nexts),
            )
        yield Copy(self.sql(f"COPY {{s}}.slots ({_COPY_COLUMNS}) FROM STDIN (FORMAT BINARY)"), _COPY_TYPES, tx.pending)
        tx.pending, tx.pending_at, tx.joins = [], {}, []

    def _send_pending(self) -> None:
        drive(self._writer(), self.send_steps(self._tx))

    def _settle(self) -> Any:
        """Before a write other than an insert: the pending rows sent, and the chains read afresh when
        next needed (the write may move a tail). The transaction's connection."""
        conn = self._in_transaction()
        self._send_pending()
        self._tx.chains.clear()
        return conn

    def _lock_namespaces(self, conn: Any, keys: Sequence[str]) -> None:
        """Take the writer locks of namespaces, in one order every writer shares."""
        keys = sorted(set(keys))
        if len(keys) == 1:
            conn.execute(f"SELECT {lock_key_sql()}", (keys[0],))
        elif keys:
            with conn.pipeline():
                for key in keys:
                    conn.execute(f"SELECT {lock_key_sql()}", (key,))

    def _superseded(self, conn: Any, tenant: str, slot: int, text: str) -> list[str]:
        """The distinct texts of a slot's past versions other than `text` (its document's tail)."""
        if not self.config.lexical.superseded:
            return []
        rows = conn.execute(
            self.sql("SELECT DISTINCT text FROM {s}.history WHERE tenant = %s AND slot = %s AND text <> %s"),
            (tenant, slot, text),
        ).fetchall()
        return sorted(r[0] for r in rows)

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
        with self._lock:
            conn = self._settle()
            found = conn.execute(
                self.sql("SELECT tenant, ns, terms, doc_len FROM {s}.slots WHERE slot = %s"), (slot,)
            ).fetchone()
            if found is None:
                return
            tenant, key, old_terms, old_len = found
            if relink:
                self._lock_namespaces(conn, [key])
                self._move_to_tail(conn, tenant, key, slot)
            conn.execute(
                self.sql(
                    "INSERT INTO {s}.history (tenant, slot, version, text, metadata, event_time, updated_at) "
                    "SELECT tenant, slot, version, text, metadata, event_time, updated_at FROM {s}.slots "
                    "WHERE tenant = %s AND slot = %s"
                ),
                (tenant, slot),
            )
            doc = None
            if vector is not None:
                doc = self.tokens.document(text, self._superseded(conn, tenant, slot, text))
            conn.execute(
                self.sql(
                    "UPDATE {s}.slots SET text = %s, metadata = %s::jsonb, speaker = %s, event_time = %s, "
                    "named_start = %s, named_end = %s, vector = %s, updated_at = %s, version = version + 1, "
                    "ttl = %s, expires_at = %s, terms = %s, tfs = %s::float4[], doc_len = %s "
                    "WHERE tenant = %s AND slot = %s"
                ),
                (
                    text, _metadata_json(metadata), speaker, event_time,
                    *(named_time(text, event_time) or (None, None)),
                    None if vector is None else np.asarray(vector, dtype=np.float32), now, ttl,
                    None if ttl is None else now + ttl, None if doc is None else doc.terms,
                    None if doc is None else doc.tfs, None if doc is None else doc.length, tenant, slot,
                ),
            )
            if old_terms is not None:
                self._tx.delta.add(tenant, old_terms, old_len, -1)
            if doc is not None:
                self._tx.delta.add(tenant, doc.terms, doc.length, 1)

    def _move_to_tail(self, conn: Any, tenant: str, key: str, slot: int) -> None:
        """Move a slot to the end of its namespace's write order (the caller holds the namespace's
        lock): its neighbours join, then the tail links to it. No moment has two tails."""
        prev, nxt = conn.execute(
            self.sql("SELECT prev_slot, next_slot FROM {s}.slots WHERE tenant = %s AND slot = %s"), (tenant, slot)
        ).fetchone()
        if nxt is None:
            return  # already the tail
        self._join(conn, tenant, [(prev, nxt)])
        tail = conn.execute(
            self.sql("SELECT slot FROM {s}.slots WHERE tenant = %s AND ns = %s AND next_slot IS NULL"), (tenant, key)
        ).fetchone()[0]
        conn.execute(
            self.sql("UPDATE {s}.slots SET next_slot = %s WHERE tenant = %s AND slot = %s"), (slot, tenant, tail)
        )
        conn.execute(
            self.sql("UPDATE {s}.slots SET prev_slot = %s, next_slot = NULL WHERE tenant = %s AND slot = %s"),
            (tail, tenant, slot),
        )

    def _join(self, conn: Any, tenant: str, pairs: Sequence[tuple[int | None, int | None]]) -> None:
        drive(conn, self._join_steps(tenant, pairs))

    def _join_steps(self, tenant: str, pairs: Sequence[tuple[int | None, int | None]]) -> Steps[None]:
        """Link each (prev, next) pair to each other (None: no neighbour on that side)."""
        nexts = [(p, n) for p, n in pairs if p is not None]
        prevs = [(n, p) for p, n in pairs if n is not None]
        for column, links in (("next_slot", nexts), ("prev_slot", prevs)):
            if links:
                yield Sql(
                    self.sql(
                        f"UPDATE {{s}}.slots s SET {column} = l.link FROM unnest(%s::int8[], %s::int8[]) "
                        "AS l(slot, link) WHERE s.tenant = %s AND s.slot = l.slot"
                    ),
                    ([a for a, _ in links], [b for _, b in links], tenant),
                )

    def delete(self, slots: Sequence[int]) -> int:
        """Delete slots and their history; each run of deleted neighbours is bridged by its survivors."""
        with self._lock:
            return drive(self._in_transaction(), self.delete_steps(self._tx, slots))

    def delete_steps(self, tx: Tx, slots: Sequence[int]) -> Steps[int]:
        yield from self.send_steps(tx)
        tx.chains.clear()
        wanted = sorted({int(s) for s in slots})
        if not wanted:
            return 0
        found = yield Sql(self.sql("SELECT DISTINCT ns FROM {s}.slots WHERE slot = ANY(%s::int8[])"), (wanted,))
        if not found:
            return 0
        # The namespaces' writer locks, in one order every writer shares: the links read next stay put.
        yield Pipe([Sql(f"SELECT {lock_key_sql()}", (key,)) for key in sorted(r[0] for r in found)])
        rows = yield Sql(
            self.sql(
                "DELETE FROM {s}.slots WHERE slot = ANY(%s::int8[]) "
                "RETURNING tenant, slot, prev_slot, next_slot, terms, doc_len"
            ),
            (wanted,),
        )
        gone = {r[1]: r for r in rows}
        by_tenant: dict[str, list[tuple[int | None, int | None]]] = {}
        for tenant, _slot, prev, nxt, terms, length in rows:
            if terms is not None:
                tx.delta.add(tenant, terms, length, -1)
            if prev in gone:
                continue  # not the first of its run: the run's first bridges it
            last = nxt
            while last in gone:
                last = gone[last][3]
            by_tenant.setdefault(tenant, []).append((prev, last))
        for tenant, pairs in by_tenant.items():
            yield from self._join_steps(tenant, pairs)
        yield Sql(
            self.sql("DELETE FROM {s}.history WHERE tenant = ANY(%s::text[]) AND slot = ANY(%s::int8[])"),
            (sorted(by_tenant), [r[1] for r in rows]),
        )
        return len(rows)

    def purge_history(self, slots: Sequence[int]) -> int:
        """Delete the past versions of `slots`; a memory's document then holds its text alone."""
        with self._lock:
            conn = self._settle()
            gone = conn.execute(
                self.sql("DELETE FROM {s}.history WHERE slot = ANY(%s::int8[]) RETURNING tenant, slot"),
                ([int(s) for s in slots],),
            ).fetchall()
            self._retokenise(conn, sorted({s for _, s in gone}))
            return len(gone)

    def restore_history(self, slot: int, versions: Sequence[Mapping[str, Any]]) -> None:
        with self._lock:
            conn = self._settle()
            found = conn.execute(self.sql("SELECT tenant FROM {s}.slots WHERE slot = %s"), (slot,)).fetchone()
            if found is None or not versions:
                return
            conn.execute(
                self.sql(
                    "INSERT INTO {s}.history (tenant, slot, version, text, metadata, event_time, updated_at) "
                    "SELECT %s, %s, v.version, v.text, v.metadata, v.event_time, v.updated_at FROM "
                    "unnest(%s::int4[], %s::text[], %s::jsonb[], %s::float8[], %s::float8[]) "
                    "AS v(version, text, metadata, event_time, updated_at) "
                    "ON CONFLICT (tenant, slot, version) DO UPDATE SET text = EXCLUDED.text, "
                    "metadata = EXCLUDED.metadata, event_time = EXCLUDED.event_time, updated_at = EXCLUDED.updated_at"
                ),
                (
                    found[0], slot, [int(v["version"]) for v in versions], [v["text"] for v in versions],
                    [_metadata_json(v["metadata"]) for v in versions], [v["event_time"] for v in versions],
                    [v["updated_at"] for v in versions],
                ),
            )
            self._retokenise(conn, [slot])

    def _retokenise(self, conn: Any, slots: Sequence[int]) -> None:
        """Redo the lexical entries of indexed `slots` from their text and history."""
        if not slots:
            return
        rows = conn.execute(
            self.sql(
                "SELECT tenant, slot, text, terms, doc_len, array(SELECT DISTINCT h.text FROM {s}.history h "
                "WHERE h.tenant = s.tenant AND h.slot = s.slot AND h.text <> s.text) "
                "FROM {s}.slots s WHERE slot = ANY(%s::int8[]) AND vector IS NOT NULL"
            ),
            (list(slots),),
        ).fetchall()
        for tenant, slot, text, terms, length, past in rows:
            doc = self.tokens.document(text, sorted(past) if self.config.lexical.superseded else [])
            self._tx.delta.add(tenant, terms or [], length or 0, -1)
            self._tx.delta.add(tenant, doc.terms, doc.length, 1)
            conn.execute(
                self.sql("UPDATE {s}.slots SET terms = %s, tfs = %s::float4[], doc_len = %s WHERE tenant = %s AND slot = %s"),
                (doc.terms, doc.tfs, doc.length, tenant, slot),
            )

    def set_fields(self, slot: int, **fields: Any) -> None:
        if not fields.keys() <= _SETTABLE:
            raise InvalidInputError(f"cannot set {sorted(fields.keys() - _SETTABLE)} on a slot")
        with self._lock:
            conn = self._settle()
            sets = ", ".join(f"{k} = %s" for k in fields)
            conn.execute(self.sql(f"UPDATE {{s}}.slots SET {sets} WHERE slot = %s"), (*fields.values(), slot))

    def add_usage(self, weights: Mapping[int, float], now: float) -> None:
        with self._lock:
            drive(self._in_transaction(), self.usage_steps(self._tx, weights, now))

    def usage_steps(self, tx: Tx, weights: Mapping[int, float], now: float) -> Steps[None]:
        """DNC usage growth from reads, u <- u + w - u*w (Graves et al. 2016), the rows locked in slot
        order so two processes adding usage to the same memories queue instead of deadlocking."""
        if not weights:
            return
        yield from self.send_steps(tx)
        slots = sorted(weights)
        yield Sql(
            self.sql(
                "WITH l AS (SELECT tenant, slot FROM {s}.slots WHERE slot = ANY(%s::int8[]) ORDER BY slot FOR UPDATE) "
                "UPDATE {s}.slots s SET usage = s.usage + w.w - s.usage * w.w, last_read_at = %s "
                "FROM l JOIN unnest(%s::int8[], %s::float8[]) AS w(slot, w) ON w.slot = l.slot "
                "WHERE s.tenant = l.tenant AND s.slot = l.slot"
            ),
            (slots, now, slots, [float(weights[s]) for s in slots]),
        )

    def refresh_ttl(self, slots: Sequence[int], now: float) -> None:
        with self._lock:
            conn = self._settle()
            conn.execute(
                self.sql("UPDATE {s}.slots SET expires_at = %s + ttl WHERE slot = ANY(%s::int8[]) AND ttl IS NOT NULL"),
                (now, [int(s) for s in slots]),
            )

    # -- reads ----------------------------------------------------------------------------------

    def rows(self, slots: Sequence[int]) -> dict[int, SlotRow]:
        if len(slots) == 0:
            return {}
        found = self._query(
            self.sql(f"SELECT {ROW_SQL} WHERE s.slot = ANY(%s::int8[])"), ([int(s) for s in slots],)
        )
        return {r.slot: r for r in map(slot_row, found)}

    def rows_by_id(self, ids: Sequence[str]) -> dict[str, SlotRow]:
        if len(ids) == 0:
            return {}
        found = self._query(self.sql(f"SELECT {ROW_SQL} WHERE s.id = ANY(%s::text[])"), (list(ids),))
        return {r.id: r for r in map(slot_row, found)}

    def select(
        self,
        *,
        namespace: Namespace | None = None,
        filter: Filter = (),
        now: float | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[SlotRow]:
        sql, params = self._select_sql(namespace, filter, now, limit, offset)
        return [slot_row(r) for r in self._query(sql, params)]

    def _select_sql(
        self, namespace: Namespace | None, filter: Filter, now: float | None, limit: int | None, offset: int
    ) -> tuple[str, list[Any]]:
        where, params = visible_sql(namespace, filter, now, indexed_only=False, alias="s")
        return self.sql(f"SELECT {ROW_SQL} WHERE {where} ORDER BY s.slot LIMIT %s OFFSET %s"), [*params, limit, offset]

    def select_slots(
        self,
        *,
        namespace: Namespace | None = None,
        filter: Filter = (),
        now: float | None = None,
        slots: Sequence[int] | None = None,
    ) -> list[int]:
        sql, params = self._select_slots_sql(namespace, filter, now, slots)
        return [r[0] for r in self._query(sql, params)]

    def _select_slots_sql(
        self, namespace: Namespace | None, filter: Filter, now: float | None, slots: Sequence[int] | None
    ) -> tuple[str, list[Any]]:
        where, params = visible_sql(namespace, filter, now, indexed_only=False)
        if slots is not None:
            where += " AND slot = ANY(%s::int8[])"
            params.append([int(s) for s in slots])
        return self.sql(f"SELECT slot FROM {{s}}.slots WHERE {where} ORDER BY slot"), params

    def count(self, *, namespace: Namespace | None = None, filter: Filter = (), now: float | None = None) -> int:
        where, params = visible_sql(namespace, filter, now, indexed_only=False)
        return self._query(self.sql(f"SELECT count(*) FROM {{s}}.slots WHERE {where}"), params)[0][0]

    def ids_with_prefix(
        self, prefix: str, *, namespace: Namespace | None = None, now: float | None = None, limit: int = 2
    ) -> list[str]:
        # A range of the id index in byte order ("C" collation): every id starting with the prefix
        # sorts below the prefix followed by the largest code point.
        where, params = visible_sql(namespace, (), now, indexed_only=False)
        found = self._query(
            self.sql(f"SELECT id FROM {{s}}.slots WHERE id >= %s AND id < %s AND {where} ORDER BY id LIMIT %s"),
            (prefix, prefix + "\U0010ffff", *params, limit),
        )
        return [r[0] for r in found]

    def any(self, *, namespace: Namespace | None = None, now: float | None = None) -> bool:
        where, params = visible_sql(namespace, (), now, indexed_only=False)
        return self._query(self.sql(f"SELECT EXISTS (SELECT 1 FROM {{s}}.slots WHERE {where})"), params)[0][0]

    def namespace_counts(self, now: float | None = None) -> dict[Namespace, int]:
        where, params = visible_sql(None, (), now, indexed_only=False)
        found = self._query(self.sql(f"SELECT ns, count(*) FROM {{s}}.slots WHERE {where} GROUP BY ns ORDER BY ns"), params)
        return {ns_tuple(k): n for k, n in found}

    def history(self, slot: int) -> list[dict[str, Any]]:
        found = self._query(
            self.sql(
                "SELECT version, text, metadata, event_time, updated_at FROM {s}.history WHERE slot = %s "
                "UNION ALL SELECT version, text, metadata, event_time, updated_at FROM {s}.slots WHERE slot = %s "
                "ORDER BY version"
            ),
            (slot, slot),
        )
        return [{"version": v, "text": t, "metadata": m, "event_time": e, "updated_at": u} for v, t, m, e, u in found]

    def vectors(self, slots: Sequence[int]) -> np.ndarray:
        assert self._dim is not None, "open_index first"
        return self.keys(slots, self._query)

    def keys(self, slots: Sequence[int], query: Any) -> np.ndarray:
        """Key vectors `(len(slots), d)` in the order given (zeros for slots without one), read by
        `query(sql, params)`."""
        assert self._dim is not None, "open_index first"
        out = np.zeros((len(slots), self._dim), dtype=np.float32)
        if len(slots) == 0:
            return out
        found = dict(
            query(
                self.sql("SELECT slot, vector FROM {s}.slots WHERE slot = ANY(%s::int8[]) AND vector IS NOT NULL"),
                ([int(s) for s in slots],),
            )
        )
        for i, s in enumerate(slots):
            if int(s) in found:
                out[i] = found[int(s)]
        return out

    def expired_slots(self, now: float) -> list[int]:
        found = self._query(self.sql("SELECT slot FROM {s}.slots WHERE expires_at <= %s ORDER BY slot"), (now,))
        return [r[0] for r in found]

    def reader(self) -> Any:
        from agentmem.storage.postgres.reader import PostgresReader

        assert self._dim is not None, "open_index first"
        return PostgresReader(self)

    def describe(self) -> dict[str, Any]:
        sizes = " + ".join(f"pg_total_relation_size('{self.schema}.{t}')" for t in ddl.TABLES)
        indexed, size = self._query(
            self.sql(f"SELECT (SELECT count(*) FROM {{s}}.slots WHERE vector IS NOT NULL), {sizes}")
        )[0]
        return {
            "index": self.kind,
            "indexed": indexed,
            "schema_version": int(self.get_meta("schema_version") or 0),
            "bytes_on_disk": int(size),
        }

    # -- upkeep -----------------------------------------------------------------------------------

    def compact(self) -> None:
        """VACUUM FULL the store's tables: rewritten without their dead tuples (it locks each table
        while it rewrites it)."""
        conn = self._writer()
        for table in ddl.TABLES:
            conn.execute(f"VACUUM (FULL, ANALYZE) {self.schema}.{table}")

    def check(self, *, repair: bool = False) -> list[str]:
        """The store's temporal links and lexical statistics against its rows (empty: none wrong); with
        `repair`, the lexical terms and statistics are made again from the rows."""
        q = self._query
        problems = []
        broken = q(
            self.sql(
                "SELECT count(*) FROM {s}.slots a LEFT JOIN {s}.slots b ON b.tenant = a.tenant AND b.slot = a.next_slot "
                "WHERE a.next_slot IS NOT NULL AND (b.slot IS NULL OR b.prev_slot IS DISTINCT FROM a.slot)"
            )
        )[0][0]
        if broken:
            problems.append(f"links: {broken} memories link to a next memory that does not link back")
        docs = q(
            self.sql(
                "SELECT count(*) FROM (SELECT tenant, count(*) AS n, sum(doc_len) AS len FROM {s}.slots "
                "WHERE vector IS NOT NULL GROUP BY tenant) a FULL JOIN (SELECT * FROM {s}.lexical_docs "
                "WHERE docs <> 0 OR total_len <> 0) d USING (tenant) "
                "WHERE a.n IS DISTINCT FROM d.docs OR a.len IS DISTINCT FROM d.total_len"
            )
        )[0][0]
        terms = q(
            self.sql(
                "SELECT count(*) FROM (SELECT tenant, term, count(*) AS df FROM {s}.slots, unnest(terms) AS term "
                "WHERE vector IS NOT NULL GROUP BY tenant, term) a FULL JOIN {s}.lexical_terms t USING (tenant, term) "
                "WHERE a.df IS DISTINCT FROM t.df"
            )
        )[0][0]
        if docs or terms:
            if repair:
                self._rebuild_lexical()
            else:
                problems.append(
                    f"lexical statistics: {docs} tenants' document counts and {terms} term counts differ from "
                    "the rows; run check with repair to count them again"
                )
        return problems

    def _rebuild_lexical(self, batch: int = 5000) -> None:
        """Tokenise every indexed memory again and count the statistics afresh, in one transaction."""
        with self.transaction():
            conn = self._in_transaction()
            conn.execute(f"SELECT pg_advisory_xact_lock({ddl.CREATE_LOCK})")
            last = 0
            while True:
                rows = conn.execute(
                    self.sql(
                        "SELECT tenant, slot, text, array(SELECT DISTINCT h.text FROM {s}.history h "
                        "WHERE h.tenant = s.tenant AND h.slot = s.slot AND h.text <> s.text) FROM {s}.slots s "
                        "WHERE slot > %s AND vector IS NOT NULL ORDER BY slot LIMIT %s"
                    ),
                    (last, batch),
                ).fetchall()
                if not rows:
                    break
                entries = []
                for tenant, slot, text, past in rows:
                    doc = self.tokens.document(text, sorted(past) if self.config.lexical.superseded else [])
                    entries.append((doc.terms, doc.tfs, doc.length, tenant, slot))
                conn.cursor().executemany(
                    self.sql(
                        "UPDATE {s}.slots SET terms = %s, tfs = %s::float4[], doc_len = %s "
                        "WHERE tenant = %s AND slot = %s"
                    ),
                    entries,
                )
                last = rows[-1][1]
            conn.execute(self.sql("DELETE FROM {s}.lexical_terms"))
            conn.execute(self.sql("DELETE FROM {s}.lexical_docs"))
            conn.execute(
                self.sql(
                    "INSERT INTO {s}.lexical_terms (tenant, term, df) SELECT tenant, term, count(*) "
                    "FROM {s}.slots, unnest(terms) AS term WHERE vector IS NOT NULL GROUP BY tenant, term"
                )
            )
            conn.execute(
                self.sql(
                    "INSERT INTO {s}.lexical_docs (tenant, docs, total_len) SELECT tenant, count(*), "
                    "coalesce(sum(doc_len), 0) FROM {s}.slots WHERE vector IS NOT NULL GROUP BY tenant"
                )
            )
            conn.execute(
                self.sql(
                    "INSERT INTO {s}.meta (key, value) VALUES ('lexical', %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
                ),
                (self.tokens.stamp(),),
            )
        self._lexical_stamp = self.tokens.stamp()

    def close(self, *, save: bool = True) -> None:
        """Close every connection (nothing is cached, so there is nothing to save)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with self._pool_lock:
                pool, self._pool = self._pool, []
                apool, self._apool = self._apool, []
            for aconn in apool:  # their loop may be gone: closed without it
                with contextlib.suppress(Exception):
                    aconn.pgconn.finish()
            for conn in [*pool, self._conn]:
                with contextlib.suppress(Exception):  # a connection the server already dropped
                    conn.close()


def _one(sql: str, params: Sequence[Any]) -> Steps[list[tuple[Any, ...]]]:
    """One statement as steps: its rows."""
    return (yield Sql(sql, params))


def _metadata(metadata: Mapping[str, Any]) -> Any:
    """Metadata for a jsonb column of a binary COPY (psycopg's Jsonb wrapper, dumped once)."""
    from psycopg.types.json import Jsonb

    return Jsonb(dict(metadata), dumps=dumps)


def _metadata_json(metadata: Mapping[str, Any]) -> str:
    return dumps(metadata)


def _line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
