"""PostgresReader: one controller call's candidate questions (storage.base.SlotReader), answered in as
few round trips as the questions allow.

    search_many   scoped: an exact scan of the namespace's keys (its range of the (tenant, ns, slot)
                  index), or, for a batch of queries, one fetch of those keys scored here; a namespace
                  of more than `exact_scope_max` keys, and a read of the whole store, go through the
                  HNSW index (scanning on past hits the filter hides), exactly when there is none
    lexical       BM25 in SQL over the memories holding a query term (lexical.py)
    naming        the memories holding a name phrase: the tenant's rows when scoped (all its names at
                  once for a bulk write's many lookups), the GIN index on the terms otherwise
    neighbourhood the read rows of candidates and of their temporal neighbours
    rows, vectors rows and keys by slot

A read asks for its candidates' rows and their neighbours right after each search (controller/
candidates.py), so a single-query search and the lexical search bring them back in the same statement
as their hits: every hit's row, key and neighbours, each flagged with whether the read may see it.
`neighbourhood`, `rows` and `vectors` then answer from what the call has fetched, and query only for
what it has not. A slot's tenant is known once a statement returned it, and later lookups of it name
the tenant, so that a database distributed by tenant answers them from one node.

Each question is written once as steps (steps.py), run on a blocking connection by the controller's
calls, and on asyncio connections by `aprefetch`, which asks a read's first questions ahead for
`Memory.arecall`.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from agentmem.filters import Filter
from agentmem.storage.base import Namespace, ReadBatch, SlotReader, SlotRow, ns_key
from agentmem.storage.postgres.lexical import bm25_sql
from agentmem.storage.postgres.rows import OWN_COLUMNS, ROW_SQL, slot_row
from agentmem.storage.postgres.sql import visible_sql
from agentmem.storage.postgres.steps import Sql, Steps, drive
from agentmem.text import QUESTION_MARKS

if TYPE_CHECKING:
    from agentmem.storage.postgres.backend import PostgresBackend, Tx

Hits = list[tuple[int, float]]
_NAMES_AT_ONCE = 20_000  # a tenant up to this size has all its name phrases fetched at once (`naming`)
Scope = tuple[Namespace | None, Filter, bool]  # (namespace, filter, visible) of a question


class PostgresReader(SlotReader):
    """The PostgreSQL backend's answers to a read's candidate questions (module docstring)."""

    def __init__(self, backend: PostgresBackend) -> None:
        assert backend._dim is not None, "open_index first"
        self.backend = backend
        self.dim = backend._dim
        # What the call has fetched, shared by its two threads (controller/candidates.py).
        self._lock = threading.Lock()
        self._rows: dict[int, SlotRow] = {}  # whole rows, as `rows` answers
        self._cols: dict[int, SlotRow] = {}  # rows whose read columns are known (their neighbours' ids may not be)
        # What the server tells of each of _cols' texts (a neighbour's text stays there): whether it holds
        # a question, the time it names (start, end; nan: none) and its length in characters.
        self._told: dict[int, tuple[bool, float, float, int]] = {}
        self._keys: dict[int, np.ndarray] = {}
        self._seen: dict[str, dict[int, bool]] = {}  # per scope (`_key`): slot -> whether the read may see it
        self._tenant: dict[int, str] = {}
        self._named: dict[tuple[str | None, str], list[int]] = {}  # (tenant, phrase) -> slots naming it
        self._all_named: set[str | None] = set()  # tenants whose every name phrase is in _named
        self._lookups: dict[str | None, int] = {}  # name lookups that went to the database, per tenant
        # Searches made (a prefetch's, then the controller's): (scope, k, vector, hits) and
        # (scope, text) -> (k, hits).
        self._dense: list[tuple[str, int, np.ndarray, Hits]] = []
        self._lexed: dict[tuple[str, str], tuple[int, Hits]] = {}

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.backend.reading() as conn:
            return conn.execute(self.backend.sql(sql), params, binary=True).fetchall()

    def _tenant_sql(self, slots: Sequence[int], alias: str = "s") -> tuple[str, list[Any]]:
        """" AND tenant = ANY(...)" when the tenant of every one of `slots` is known."""
        with self._lock:
            tenants = {self._tenant.get(int(s)) for s in slots}
        if not tenants or None in tenants:
            return "", []
        return f" AND {alias}.tenant = ANY(%s::text[])", [sorted(tenants)]  # type: ignore[type-var]

    # -- fetching rows with their neighbours ------------------------------------------------------

    def _with_rows(
        self, head: str, head_params: Sequence[Any], strong: str, strong_params: Sequence[Any], scope: Scope
    ) -> Steps[list[tuple[int, float]]]:
        """Run `head` (a query of (slot, score) rows) and bring back, in the same statement, the row and
        key of each slot it names and of the temporal neighbours of the slots `strong` (a query of
        slots over `hits`, the head's rows) names, flagged with whether `scope` may see them; the
        caches take them in. The head's (slot, score) rows, in no order."""
        namespace, filter, visible = scope
        where, params = visible_sql(
            namespace, filter, time.time() if visible else None, indexed_only=visible, alias="s"
        )
        tenant = namespace[0] if namespace else None
        in_tenant = " AND {a}.tenant = %s" if tenant is not None else ""
        # Rows named by the head only as scores (searches) bring their text and metadata if hits;
        # rows the head names without a score (`neighbourhood`'s) always do.
        whole = "h.slot IS NOT NULL"
        sql = (
            f"WITH hits AS MATERIALIZED ({head}), "
            "want AS (SELECT slot FROM hits UNION SELECT unnest(ARRAY[x.prev_slot, x.next_slot]) "
            f"FROM {{s}}.slots x WHERE x.slot IN ({strong}){in_tenant.format(a='x')}) "
            f"SELECT h.score, {_HIT_COLUMNS}, s.vector, coalesce({where}, FALSE), {whole}, {_HAS_QUESTION}, "
            f"coalesce(s.named_start, 'NaN'), coalesce(s.named_end, 'NaN'), length(s.text) FROM want w "
            f"JOIN {{s}}.slots s ON s.slot = w.slot{in_tenant.format(a='s')} LEFT JOIN hits h ON h.slot = s.slot"
        )
        args = [*head_params, *strong_params, *([tenant] if tenant else []), *params, *([tenant] if tenant else [])]
        rows = yield Sql(self.backend.sql(sql), args)
        hits = []
        # A row's neighbours' ids come from the rows fetched with it (a strong hit's neighbours always
        # are). A row whose neighbour was not fetched, or that is not a hit (its text and metadata stay
        # on the server), serves the read's columns, and is fetched whole if asked for.
        ids = {r[1]: r[2] for r in rows}
        with self._lock:
            seen = self._seen.setdefault(_key(scope), {})
            for r in rows:
                prev, nxt = r[12], r[13]
                row = slot_row((*r[1:4], r[4] or "", r[5] or {}, *r[6:18], ids.get(prev), ids.get(nxt)))
                self._cols[row.slot] = row
                self._told[row.slot] = (bool(r[21]), r[22], r[23], r[24])
                whole = r[20]  # the head named it: its text and metadata came too
                if whole and (prev is None or prev in ids) and (nxt is None or nxt in ids):
                    self._rows[row.slot] = row
                self._tenant[row.slot] = row.namespace[0]
                if r[18] is not None:
                    self._keys[row.slot] = r[18]
                seen[row.slot] = bool(r[19])
                if r[0] is not None:
                    hits.append((row.slot, float(r[0])))
        return hits

    # -- dense ------------------------------------------------------------------------------------

    def search_many(
        self, vectors: np.ndarray, k: int, *, namespace: Namespace | None = None, filter: Filter = ()
    ) -> list[Hits]:
        queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if len(queries) == 0 or k <= 0:
            return [[] for _ in queries]
        if len(queries) == 1:
            held = self._searched(queries[0], k, (namespace, filter, True))
            if held is not None:
                return [held]
            with self.backend.reading() as conn:
                return [drive(conn, self.search_steps(queries[0], k, namespace, filter, self.backend.open_tx()))]
        b, c = self.backend, self.backend.config
        where, params = visible_sql(namespace, filter, time.time(), indexed_only=True, alias="s")
        with b.reading() as conn:
            size = None if namespace is None else drive(conn, b.tenant_size_steps(namespace[0], b.open_tx()))
            if size == 0:
                return [[] for _ in queries]
            approximate = b.kind == "hnsw" and (size is None or size > c.exact_scope_max)
            if not approximate and size is not None and size <= c.client_scan_max:
                return self._score_here(conn, queries, k, where, params)
            return self._each(conn, queries, k, where, params, approximate)

    def search_steps(
        self, vector: np.ndarray, k: int, namespace: Namespace | None, filter: Filter, tx: Tx | None = None
    ) -> Steps[Hits]:
        """One query's top k [(slot, cosine)], best first, with its hits' rows and neighbours; inside
        transaction `tx`, its own writes included."""
        b, c = self.backend, self.backend.config
        scope: Scope = (namespace, filter, True)
        size = None if namespace is None else (yield from b.tenant_size_steps(namespace[0], tx))
        if size == 0:
            return []
        approximate = b.kind == "hnsw" and (size is None or size > c.exact_scope_max)
        where, params = visible_sql(namespace, filter, time.time(), indexed_only=True, alias="s")
        head = _APPROXIMATE if approximate else _EXACT
        hits = yield from self._with_rows(head.format(where=where), [vector, *params, k], _STRONG_NEAR, [], scope)
        if approximate and len(hits) < k:
            # The beam (and its iterative scan) ran out before k visible hits: scan exactly.
            hits = yield from self._with_rows(
                _EXACT.format(where=where), [vector, *params, k], _STRONG_NEAR, [], scope
            )
        found = sorted(((s, -d) for s, d in hits), key=lambda h: (-h[1], h[0]))
        with self._lock:
            self._dense.append((_key(scope), k, np.array(vector, dtype=np.float32), found))
        return found

    def _searched(self, vector: np.ndarray, k: int, scope: Scope) -> Hits | None:
        """The top k of a search this call made already (a prefetch), for the same scope and vector
        and at least as many hits."""
        key = _key(scope)
        with self._lock:
            for held_key, held_k, held_vector, hits in self._dense:
                if held_key == key and held_k >= k and np.allclose(held_vector, vector, atol=1e-6):
                    return hits[:k]
        return None

    def _each(
        self, conn: Any, queries: np.ndarray, k: int, where: str, params: list[Any], approximate: bool
    ) -> list[Hits]:
        """One statement per query, pipelined: [(slot, cosine)] best first."""
        sql = self.backend.sql((_APPROXIMATE if approximate else _EXACT).format(where=where))
        with conn.pipeline():
            cursors = [conn.cursor(binary=True) for _ in queries]
            for cur, q in zip(cursors, queries, strict=True):
                cur.execute(sql, (q, *params, k))
        out = []
        for q, cur in zip(queries, cursors, strict=True):
            hits = sorted(((int(s), -float(d)) for s, d in cur.fetchall()), key=lambda h: (-h[1], h[0]))
            if approximate and len(hits) < k:
                exact = self.backend.sql(_EXACT.format(where=where))
                hits = [(int(s), -float(d)) for s, d in conn.execute(exact, (q, *params, k), binary=True).fetchall()]
            out.append(hits)
        return out

    def _score_here(self, conn: Any, queries: np.ndarray, k: int, where: str, params: list[Any]) -> list[Hits]:
        """Fetch the scope's keys once and rank them for every query here: `(B, d) x (d, n)`."""
        rows = conn.execute(
            self.backend.sql(f"SELECT s.slot, s.vector FROM {{s}}.slots s WHERE {where} ORDER BY s.slot"),
            params,
            binary=True,
        ).fetchall()
        if not rows:
            return [[] for _ in queries]
        slots = np.array([r[0] for r in rows], dtype=np.int64)
        keys = np.stack([r[1] for r in rows])
        scores = queries @ keys.T  # (B, n)
        k = min(k, len(slots))
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]  # ties: write order
        with self._lock:
            for at in top:
                self._keys.update(zip(slots[at].tolist(), keys[at], strict=True))
        return [
            [(int(s), float(v)) for s, v in zip(slots[at].tolist(), row[at].tolist(), strict=True)]
            for row, at in zip(scores, top, strict=True)
        ]

    # -- lexical ----------------------------------------------------------------------------------

    def lexical(
        self, text: str, k: int, *, namespace: Namespace | None = None, filter: Filter = ()
    ) -> Hits:
        key = (_key((namespace, filter, True)), text)
        with self._lock:
            held = self._lexed.get(key)
        if held is not None and held[0] >= k:
            return held[1][:k]
        with self.backend.reading() as conn:
            return drive(conn, self.lexical_steps(text, k, namespace, filter, self.backend.open_tx()))

    def lexical_steps(
        self, text: str, k: int, namespace: Namespace | None, filter: Filter, tx: Tx | None = None
    ) -> Steps[Hits]:
        """The BM25 top k [(slot, score)], best first, with its hits' rows and neighbours; inside
        transaction `tx`, its own writes counted."""
        b = self.backend
        terms = b.tokens.query(text)
        if not terms or k <= 0:
            return []
        head, params = bm25_sql(
            b.schema, b.config.lexical, terms, k, namespace=namespace, filter=filter, now=time.time(),
            own=None if tx is None else tx.delta,
        )
        hits = yield from self._with_rows(head, params, _STRONG_HIGH, [], (namespace, filter, True))
        found = sorted(hits, key=lambda h: (-h[1], h[0]))
        with self._lock:
            self._lexed[(_key((namespace, filter, True)), text)] = (k, found)
        return found

    def naming(self, phrases: Sequence[str], *, namespace: Namespace | None = None) -> np.ndarray:
        """From the GIN index on the terms, each phrase's memories fetched once per call. A bulk write
        asks for the names of each of its texts: from its second lookup on, a tenant of at most
        `_NAMES_AT_ONCE` memories has every name it holds fetched at once."""
        tenant = namespace[0] if namespace else None
        with self._lock:
            missing = tenant not in self._all_named and any((tenant, p) not in self._named for p in phrases)
        if missing:
            with self.backend.reading() as conn:
                return drive(conn, self.naming_steps(phrases, namespace))
        return drive(None, self.naming_steps(phrases, namespace))

    def naming_steps(self, phrases: Sequence[str], namespace: Namespace | None) -> Steps[np.ndarray]:
        if not phrases:
            return np.zeros(0, dtype=np.int64)
        tenant = namespace[0] if namespace else None
        with self._lock:
            missing = [] if tenant in self._all_named else sorted({p for p in phrases if (tenant, p) not in self._named})
            self._lookups[tenant] = self._lookups.get(tenant, 0) + bool(missing)
            again = self._lookups[tenant] > 1
        if missing and tenant is not None and again:
            size = yield from self.backend.tenant_size_steps(tenant)
            if size <= _NAMES_AT_ONCE:  # every name phrase the tenant holds (phrases hold a space)
                rows = yield Sql(
                    self.backend.sql(
                        "SELECT t, s.slot FROM {s}.slots s, unnest(s.terms) AS t WHERE s.tenant = %s "
                        "AND s.terms IS NOT NULL AND strpos(t, ' ') > 0"
                    ),
                    (tenant,),
                )
                with self._lock:
                    for phrase, slot in rows:
                        self._named.setdefault((tenant, phrase), []).append(slot)
                    self._all_named.add(tenant)
                missing = []
        if missing:
            # Within a tenant, its rows (`IS TRUE` keeps the planner on the tenant's range of the primary
            # key): the store-wide postings of a common name would cost what the store holds.
            match = "(s.terms && %s::text[]) IS TRUE AND s.tenant = %s" if tenant is not None else "s.terms && %s::text[]"
            sql = f"SELECT t, s.slot FROM {{s}}.slots s, unnest(s.terms) AS t WHERE {match} AND t = ANY(%s::text[])"
            params: list[Any] = [missing, *([tenant] if tenant is not None else []), missing]
            found: dict[str, list[int]] = {p: [] for p in missing}
            for phrase, slot in (yield Sql(self.backend.sql(sql), params)):
                found[phrase].append(slot)
            with self._lock:
                for phrase, slots in found.items():
                    self._named[(tenant, phrase)] = slots
        with self._lock:
            slots = {s for p in phrases for s in self._named.get((tenant, p), ())}
        return np.array(sorted(slots), dtype=np.int64)

    # -- asyncio ------------------------------------------------------------------------------------

    async def aprefetch(
        self, query: str, vector: np.ndarray, *, dense_k: int, lexical_k: int | None, phrases: Sequence[str],
        namespace: Namespace | None, filter: Filter,
    ) -> None:
        """Ask a read's first questions ahead, awaited, each on a connection of its own at once: the
        dense top `dense_k` of `vector` and the lexical top `lexical_k` of `query` (with their hits'
        rows and neighbours), and the memories naming `phrases`. The read then finds its answers here,
        and the controller asks the database nothing more for them."""
        b = self.backend
        key = vector / max(float(np.linalg.norm(vector)), 1e-12)
        work = [b.adrive(self.search_steps(key, dense_k, namespace, filter))]
        if lexical_k:
            work.append(b.adrive(self.lexical_steps(query, lexical_k, namespace, filter)))
        if phrases:
            work.append(b.adrive(self.naming_steps(phrases, namespace)))
        await asyncio.gather(*work)

    async def arows(self, slots: Sequence[int]) -> dict[int, SlotRow]:
        """`rows`, awaited: what the call fetched already, and the others in one statement."""
        with self._lock:
            missing = [int(s) for s in slots if s not in self._rows]
        if missing:
            found = await self.backend.arows(missing)
            with self._lock:
                self._rows.update(found)
        with self._lock:
            return {s: self._rows[s] for s in slots if s in self._rows}

    # -- rows -------------------------------------------------------------------------------------

    def neighbourhood(
        self,
        slots: Sequence[int],
        strong: Sequence[int],
        *,
        namespace: Namespace | None = None,
        filter: Filter = (),
        visible: bool = True,
    ) -> ReadBatch:
        if not visible:  # training's gold slots, wherever they are
            namespace, filter = None, ()
        scope: Scope = (namespace, filter, visible)
        slots, strong = [int(s) for s in slots], [int(s) for s in strong]
        if self._missing(scope, slots, strong):
            with self.backend.reading() as conn:
                drive(
                    conn,
                    self._with_rows(
                        "SELECT unnest(%s::int8[]) AS slot, NULL::float8 AS score",
                        [slots],
                        "SELECT unnest(%s::int8[])",
                        [strong],
                        scope,
                    ),
                )
        with self._lock:
            seen = self._seen.get(_key(scope), {})
            wanted = dict.fromkeys(slots)
            for s in strong:
                row = self._cols.get(s)
                if row is not None:
                    wanted.update(dict.fromkeys(n for n in (row.prev_slot, row.next_slot) if n is not None))
            rows = [self._cols[s] for s in wanted if seen.get(s)]
            told = [self._told[r.slot] for r in rows]
        return read_batch(rows, told)

    def _missing(self, scope: Scope, slots: list[int], strong: list[int]) -> bool:
        """Whether some of `slots`, or of the neighbours of `strong`, were never fetched for `scope`."""
        with self._lock:
            seen = self._seen.get(_key(scope), {})
            if any(s not in seen for s in slots):
                return True
            for s in strong:
                row = self._cols.get(s)
                if row is None or s not in seen:
                    return True
                if any(n is not None and n not in seen for n in (row.prev_slot, row.next_slot)):
                    return True
        return False

    def rows(self, slots: Sequence[int]) -> dict[int, SlotRow]:
        with self._lock:
            missing = [int(s) for s in slots if s not in self._rows]
        if missing:
            tenant, params = self._tenant_sql(missing)
            found = [
                slot_row(r)
                for r in self._query(f"SELECT {ROW_SQL} WHERE s.slot = ANY(%s::int8[]){tenant}", (missing, *params))
            ]
            with self._lock:
                self._rows.update((r.slot, r) for r in found)
        with self._lock:
            return {s: self._rows[s] for s in slots if s in self._rows}

    def vectors(self, slots: Sequence[int]) -> np.ndarray:
        out = np.zeros((len(slots), self.dim), dtype=np.float32)
        with self._lock:
            missing = [int(s) for s in slots if s not in self._keys]
        if missing:
            tenant, params = self._tenant_sql(missing)
            rows = self._query(
                f"SELECT s.slot, s.vector FROM {{s}}.slots s WHERE s.slot = ANY(%s::int8[]){tenant} "
                "AND s.vector IS NOT NULL",
                (missing, *params),
            )
            with self._lock:
                self._keys.update((r[0], r[1]) for r in rows)
        with self._lock:
            for i, s in enumerate(slots):
                key = self._keys.get(int(s))
                if key is not None:
                    out[i] = key
        return out


# The columns of a fetched row: its text and metadata only when it is one the head named.
_HIT_COLUMNS = OWN_COLUMNS.replace("s.text, s.metadata", "CASE WHEN h.slot IS NOT NULL THEN s.text END, "
                                   "CASE WHEN h.slot IS NOT NULL THEN s.metadata END")
# Whether a row's text holds a question (text.has_question), told by the server: a neighbour's text
# stays there.
_HAS_QUESTION = "(" + " OR ".join(f"strpos(s.text, '{m}') > 0" for m in QUESTION_MARKS) + ")"
# The hits whose temporal neighbours a search brings back: the learned controller's default
# (CandidateConfig.neighbours), best first; a read asking for more neighbours gets them in one more
# statement (`neighbourhood`).
_NEAR = 24
_STRONG_NEAR = f"SELECT slot FROM (SELECT slot FROM hits ORDER BY score, slot LIMIT {_NEAR}) n"
_STRONG_HIGH = f"SELECT slot FROM (SELECT slot FROM hits ORDER BY score DESC, slot LIMIT {_NEAR}) n"
# A scoped read's exact scan: the offset fence keeps the planner on the namespace's rows, where it
# could otherwise walk the whole store's HNSW index in distance order.
_EXACT = (
    "SELECT slot, d AS score FROM (SELECT s.slot, s.vector <#> %s AS d FROM {{s}}.slots s WHERE {where} OFFSET 0) t "
    "ORDER BY d, slot LIMIT %s"
)
# An HNSW scan; with an iterative scan its order is relaxed, so hits are sorted again.
_APPROXIMATE = "SELECT s.slot, s.vector <#> %s AS score FROM {{s}}.slots s WHERE {where} ORDER BY score LIMIT %s"


def _key(scope: Scope) -> str:
    """A scope as a dictionary key (a filter's values may be lists)."""
    return repr(scope)


def read_batch(rows: Sequence[SlotRow], told: Sequence[tuple[bool, float, float, int]]) -> ReadBatch:
    """A ReadBatch of rows and what the server told of each one's text: whether it holds a question, the
    time it names and its length in characters (storage.base.ReadBatch: codes for namespaces and speakers)."""
    names: dict[str, int] = {}
    speakers: dict[str, int] = {}
    n = len(rows)
    asks, start, end, length = zip(*told, strict=True) if told else ((), (), (), ())
    return ReadBatch(
        slot=np.fromiter((r.slot for r in rows), dtype=np.int64, count=n),
        prev=np.fromiter((-1 if r.prev_slot is None else r.prev_slot for r in rows), dtype=np.int64, count=n),
        next=np.fromiter((-1 if r.next_slot is None else r.next_slot for r in rows), dtype=np.int64, count=n),
        event_time=np.fromiter(
            (math.nan if r.event_time is None else r.event_time for r in rows), dtype=np.float64, count=n
        ),
        usage=np.fromiter((r.usage for r in rows), dtype=np.float32, count=n),
        ns=np.fromiter((names.setdefault(ns_key(r.namespace), len(names)) for r in rows), dtype=np.int64, count=n),
        speaker=np.fromiter((speakers.setdefault(r.speaker, len(speakers)) for r in rows), dtype=np.int64, count=n),
        asks=np.array(asks, dtype=bool),
        named_start=np.array(start, dtype=np.float64),
        named_end=np.array(end, dtype=np.float64),
        length=np.array(length, dtype=np.int64),
        ns_names=list(names),
        speakers=list(speakers),
    )
