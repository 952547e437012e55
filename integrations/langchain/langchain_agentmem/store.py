"""AgentMemStore: LangGraph's `BaseStore` backed by `agentmem.Memory`.

A drop-in replacement for `InMemoryStore` / `SqliteStore`: what an agent puts is a memory that
`agentmem inspect` shows, that survives the process, and that a search recalls through agentmem's
controller (cosine today, the learned one when configured). How items map onto memories is in
`items.py`; LangGraph's filter semantics are in `filters.py`.

Semantics follow LangGraph's stores: in one batch, reads see the state before the batch and puts
apply afterwards, the last put of a key winning. Searches with a query rank by the score agentmem
gives (cosine for the cosine controller) and then fill up with unindexed items, unscored, as
`InMemoryStore` does. TTLs are minutes, as in LangGraph; an expired item is invisible at once (as
with `omit_expired=True`) and `sweep_ttl` deletes it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    ensure_embeddings,
    validate_op_namespace,
)

from agentmem import Memory
from agentmem.encoder import EmbeddingsEncoder
from agentmem.records import MemoryRecord
from agentmem.validate import MAX_K, MAX_TEXT_CHARS
from langchain_agentmem import items
from langchain_agentmem.embedding import Embedder
from langchain_agentmem.filters import matches, pushdown


@dataclass
class _Plan:
    """What a batch needs embedded before it runs, and the puts it will apply (last one per key)."""

    puts: dict[tuple[tuple[str, ...], str], PutOp] = field(default_factory=dict)
    writes: dict[tuple[tuple[str, ...], str], list[items.PlannedMemory]] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)


class AgentMemStore(BaseStore):
    """LangGraph store whose items are agentmem memories.

    Args:
        path: directory of the agentmem store; `None` makes a private temporary one (deleted on
            `close()`). Several processes may open the same path.
        index: LangGraph's `IndexConfig`: `embed` (a LangChain `Embeddings`, a sync or async
            function `list[str] -> vectors`, or a provider string), `dims`, and `fields` (JSON
            paths whose text is embedded; default `["$"]`, the whole value). Unlike LangGraph's
            stores, leaving it out does not turn semantic search off: agentmem's default local
            encoder (all-MiniLM-L6-v2) embeds the whole value.
        ttl: LangGraph's `TTLConfig` (`default_ttl` and `sweep_interval_minutes` in minutes,
            `refresh_on_read`).
        memory: an open `agentmem.Memory` to use instead of opening `path` (then `index` may only
            name `fields`); it stays open when the store closes.
        controller: agentmem controller for a memory the store opens ("cosine" or a Controller).
    """

    supports_ttl = True

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        memory: Memory | None = None,
        controller: Any = "cosine",
    ) -> None:
        self.index_config: IndexConfig | None = dict(index) if index else None  # type: ignore[assignment]
        self.ttl_config = ttl
        embed = (index or {}).get("embed")
        self.embeddings = ensure_embeddings(embed) if embed is not None else None
        if memory is not None and (path is not None or self.embeddings is not None):
            raise ValueError("pass either memory= or path=/index['embed'], not both")
        if memory is None:
            encoder = None
            if self.embeddings is not None:
                encoder = EmbeddingsEncoder(self.embeddings, dim=(index or {}).get("dims"))
            memory = Memory(path, encoder=encoder, controller=controller)
            self._owns_memory = True
        else:
            self._owns_memory = False
        self.memory = memory
        self._embedder = Embedder(memory.encoder, self.embeddings)
        self._paths = items.tokenized((index or {}).get("fields") or ["$"])
        self._sweeper: threading.Thread | None = None
        self._stop_sweeping = threading.Event()

    # -- BaseStore -----------------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        plan = self._plan(ops)
        vectors = self._embedder.documents(plan.texts)
        queries = self._embedder.queries(plan.queries)
        return self._run(ops, plan, vectors, queries)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        plan = self._plan(ops)
        vectors, queries = await asyncio.gather(
            self._embedder.adocuments(plan.texts), self._embedder.aqueries(plan.queries)
        )
        # agentmem is synchronous (SQLite, FAISS): keep it off the event loop.
        return await asyncio.to_thread(self._run, ops, plan, vectors, queries)

    # -- TTL -----------------------------------------------------------------------------------

    def sweep_ttl(self) -> int:
        """Delete expired memories now; returns how many were deleted."""
        return self.memory.sweep_expired()

    def start_ttl_sweeper(self, sweep_interval_minutes: float | None = None) -> None:
        """Sweep expired items every `sweep_interval_minutes` (default: the TTL config's) in a thread."""
        minutes = sweep_interval_minutes or (self.ttl_config or {}).get("sweep_interval_minutes")
        if not minutes:
            raise ValueError(
                "no sweep interval: pass sweep_interval_minutes or set ttl['sweep_interval_minutes']"
            )
        if self._sweeper is not None:
            return
        self._stop_sweeping.clear()

        def sweep() -> None:
            while not self._stop_sweeping.wait(minutes * 60):
                self.sweep_ttl()

        self._sweeper = threading.Thread(target=sweep, name="agentmem-ttl-sweeper", daemon=True)
        self._sweeper.start()

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper thread; True when it has stopped."""
        if self._sweeper is None:
            return True
        self._stop_sweeping.set()
        self._sweeper.join(timeout)
        stopped = not self._sweeper.is_alive()
        if stopped:
            self._sweeper = None
        return stopped

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the sweeper and close the memory if this store opened it."""
        self.stop_ttl_sweeper()
        if self._owns_memory:
            self.memory.close()

    def __enter__(self) -> AgentMemStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- planning: everything that needs embedding -----------------------------------------------

    def _plan(self, ops: Sequence[Op]) -> _Plan:
        plan = _Plan()
        for op in ops:
            if not isinstance(op, (GetOp, PutOp, SearchOp, ListNamespacesOp)):
                raise ValueError(f"unknown operation type: {type(op).__name__}")
            validate_op_namespace(op)
            # Checked before anything is applied, so a bad op leaves the whole batch unapplied.
            if isinstance(op, PutOp):
                ttl = op.ttl
                if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl > 0):
                    raise ValueError(f"put {op.key!r}: ttl must be a positive number of minutes, got {ttl!r}")
                plan.puts[(op.namespace, op.key)] = op
            elif isinstance(op, SearchOp):
                if op.query is not None and not isinstance(op.query, str):
                    raise ValueError(f"search query must be a string, got a {type(op.query).__name__}")
                if _has_query(op):
                    plan.queries.append(op.query)
        for (namespace, key), op in plan.puts.items():
            if op.value is None:
                continue
            value = items.storable(op.value)
            paths = self._paths if op.index is None else items.tokenized(op.index or [])
            texts = items.texts_to_embed(value, paths) if op.index is not False else []
            planned = items.plan_item(namespace, key, value, texts)
            plan.writes[(namespace, key)] = planned
            plan.texts += [m.source for m in planned if m.indexed]
        return plan

    # -- running a batch against the memory --------------------------------------------------

    def _run(self, ops: Sequence[Op], plan: _Plan, vectors: np.ndarray, queries: np.ndarray) -> list[Result]:
        results: list[Result] = []
        query_vectors = iter(queries)
        for op in ops:
            if isinstance(op, GetOp):
                results.append(self._get(op))
            elif isinstance(op, SearchOp):
                results.append(self._search(op, next(query_vectors) if _has_query(op) else None))
            elif isinstance(op, ListNamespacesOp):
                results.append(self._list_namespaces(op))
            else:
                results.append(None)
        self._apply_puts(plan, vectors)
        return results

    def _get(self, op: GetOp) -> Item | None:
        record = self.memory.get(items.item_id(op.namespace, op.key))
        if record is None or record.metadata.get(items.ROLE) != items.ITEM:
            return None
        if op.refresh_ttl:
            self._refresh([record])
        return items.to_item(record)

    def _search(self, op: SearchOp, query_vector: np.ndarray | None) -> list[SearchItem]:
        if query_vector is None:
            if op.offset < 0 or op.limit < 0:
                # A negative bound counts from the end, as a Python slice (and InMemoryStore) does: the
                # window is cut from every match.
                every = self.memory.count(namespace=items.to_namespace(op.namespace_prefix) or None)
                found = self._search(op._replace(offset=0, limit=max(every, 1)), None)
                return found[op.offset : op.offset + op.limit]
            found = [(record, None) for record in self._scan(op, op.offset, op.limit)]
        else:
            # InMemoryStore walks the ranking keeping ranks in [offset, offset + limit), so a negative
            # bound does not count from the end here: a negative offset starts at the top, and an end
            # at or below zero keeps nothing.
            start = max(op.offset, 0)
            found = self._ranked(op, query_vector, start, max(op.offset + op.limit, 0) - start)
            if len(found) < op.limit:
                # Corner case LangGraph's stores share: fewer scored hits than asked for are
                # topped up with unindexed items, unscored.
                unindexed = self._scan(op, 0, op.limit - len(found), indexed=False)
                found += [(r, None) for r in unindexed]
        if op.refresh_ttl:
            self._refresh([record for record, _ in found])
        return [items.to_search_item(record, score) for record, score in found]

    def _scan(
        self, op: SearchOp, offset: int, limit: int | None, *, indexed: bool | None = None
    ) -> list[MemoryRecord]:
        """Items under the prefix that pass the filter, in write order, a page at a time; only the
        indexed ones (`indexed` True), only the others (False), or both (None)."""
        pushed, complete = pushdown(op.filter)
        where = {**pushed, **items.ITEMS_ONLY}
        namespace = items.to_namespace(op.namespace_prefix) or None
        if complete and indexed is None:
            return self.memory.list(namespace=namespace, filter=where, limit=limit, offset=offset)
        wanted = None if limit is None else offset + limit
        page = max(100, 2 * (wanted or 0))
        kept: list[MemoryRecord] = []
        start = 0
        while wanted is None or len(kept) < wanted:
            records = self.memory.list(namespace=namespace, filter=where, limit=page, offset=start)
            kept += [
                r
                for r in records
                if matches(items.value_of(r), op.filter)
                # a zero-vector item is scored (0.0), so it is neither an indexed nor an unindexed one
                and (indexed is None or (r.indexed is indexed and items.ZERO not in r.metadata))
            ]
            if len(records) < page:
                break
            start += page
        return kept[offset:wanted]

    def _ranked(
        self, op: SearchOp, query_vector: np.ndarray, offset: int, limit: int
    ) -> list[tuple[MemoryRecord, float | None]]:
        """The page `[offset, offset + limit)` of items ranked by their best memory (item record or
        facet) for the query; past the MAX_K memories a recall ranks, the filter's other matches follow
        unscored, in write order."""
        pushed, _ = pushdown(op.filter)
        where = {**pushed, **items.STORE_RECORDS}
        wanted = offset + limit
        if limit <= 0:
            return []
        k = wanted
        zero: dict[str, MemoryRecord] | None = None  # items with a zero vector: scored 0.0, read once
        while True:
            hits = self.memory.recall(
                # the query's vector is the embedder's; its text serves the lexical match, which needs
                # it storable (no lone surrogate) and within agentmem's text limit
                items.searchable(op.query)[:MAX_TEXT_CHARS],
                k=min(k, MAX_K),
                namespace=items.to_namespace(op.namespace_prefix) or None,
                filter=where,
                embedding=query_vector,
            )
            best: dict[str, tuple[MemoryRecord, float | None]] = {}
            for hit in hits:
                parent = items.parent_of(hit.record)
                if parent not in best and matches(items.value_of(hit.record), op.filter):
                    best[parent] = (hit.record, hit.score)
            complete = len(hits) < k  # every memory the filter lets through is ranked
            above = [(p, rs) for p, rs in best.items() if (rs[1] or 0.0) > 0]
            merged = above
            if len(above) < wanted and (complete or not hits or (hits[-1].score or 0.0) <= 0):
                # The page reaches score 0.0, where the zero-vector items rank (an item scores its
                # best vector, so one with a zero vector scores at least 0.0). Only then are they read.
                if zero is None:
                    zero = self._zero_scored(op, pushed)
                lifted = dict(above)
                merged = (
                    above
                    + [(p, (rec, 0.0)) for p, rec in zero.items() if p not in lifted]
                    + [(p, rs) for p, rs in best.items() if (rs[1] or 0.0) <= 0 and p not in zero]
                )
            # Facets and filtered-out hits can leave fewer items than asked for: widen and retry
            # while the memory may hold more.
            if len(merged) >= wanted or complete or k >= MAX_K:
                break
            k *= 4
        best = dict(merged)
        if len(best) < wanted and len(hits) >= MAX_K:
            # The ranking stopped at MAX_K memories with matches to spare (a filter SQL could not
            # pre-select, or an offset past them): the other items are not dropped: the zero-vector
            # ones follow at 0.0, the other indexed ones unscored (unindexed ones come after, from
            # `_search`'s top-up). At most len(best) of the scanned are ranked already.
            for parent, record in (self._zero_scored(op, pushed) if zero is None else zero).items():
                best.setdefault(parent, (record, 0.0))
            for record in self._scan(op, 0, wanted + len(best), indexed=True):
                best.setdefault(record.id, (record, None))
                if len(best) >= wanted:
                    break
        page = list(best.items())[offset:wanted]
        # A facet stands in for its item: report the item record's value and times.
        parents = {pid: self.memory.get(pid) for pid, (rec, _) in page if rec.id != pid}
        return [(parents.get(pid) or rec, score) for pid, (rec, score) in page]

    def _zero_scored(self, op: SearchOp, pushed: dict[str, Any]) -> dict[str, MemoryRecord]:
        """Items under the prefix passing the filter with a zero-vector memory (item record or
        facet), each by its first such memory, in write order."""
        where = {**pushed, **items.STORE_RECORDS, items.ZERO: True}
        namespace = items.to_namespace(op.namespace_prefix) or None
        found: dict[str, MemoryRecord] = {}
        for record in self.memory.list(namespace=namespace, filter=where, limit=None):
            if matches(items.value_of(record), op.filter):
                found.setdefault(items.parent_of(record), record)
        return found

    def _refresh(self, records: Sequence[MemoryRecord]) -> None:
        ids = [i for r in records if r.expires_at is not None for i in (r.id, *items.facets_of(r))]
        if ids:
            self.memory.refresh_ttl(ids)

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        # agentmem's namespace listing has LangGraph's semantics: "*" matches any one label, depth
        # truncates and dedupes. It sorts the stored (escaped) segments, whose order differs from
        # the labels' wherever a label holds an escaped character, so the labels are sorted here
        # and the page cut after. agentmem reads every namespace's count for a listing anyway, so
        # this costs one decode and one sort of the matching namespaces per call (O(n log n)).
        paths: dict[str, list[tuple[str, ...]]] = {"prefix": [], "suffix": []}
        for condition in op.match_conditions or ():
            if condition.match_type not in paths:
                raise ValueError(f"unsupported match type {condition.match_type!r}")
            paths[condition.match_type].append(tuple(p if p == "*" else items.to_segment(p) for p in condition.path))
        if len(paths["prefix"]) > 1 or len(paths["suffix"]) > 1:
            raise ValueError("list_namespaces takes at most one prefix and one suffix condition")
        found = self.memory.namespaces(
            prefix=next(iter(paths["prefix"]), None) or None,
            suffix=next(iter(paths["suffix"]), None) or None,
            max_depth=op.max_depth,
            limit=None,
        )
        # Decoding is one-to-one, so the decoded namespaces are as distinct as the stored ones.
        namespaces = sorted(items.from_namespace(ns) for ns in found)
        return namespaces[op.offset : op.offset + op.limit]  # a Python slice, as InMemoryStore cuts

    def _apply_puts(self, plan: _Plan, vectors: np.ndarray) -> None:
        """Every put of the batch, in one transaction of the memory: all of them, or none."""
        if plan.puts:
            with self.memory.transaction():
                self._write_puts(plan, vectors)

    def _write_puts(self, plan: _Plan, vectors: np.ndarray) -> None:
        next_vector = 0
        for (namespace, key), op in plan.puts.items():
            parent = items.item_id(namespace, key)
            old = self.memory.get(parent)
            old_facets = set(items.facets_of(old)) if old is not None else set()
            planned = plan.writes.get((namespace, key), [])
            stale = ({parent} if old is not None and not planned else set()) | (
                old_facets - {m.id for m in planned}
            )
            if stale:
                self.memory.forget(ids=sorted(stale))
            ttl = None if op.ttl is None else op.ttl * 60  # LangGraph counts minutes, agentmem seconds
            indexed = [m for m in planned if m.indexed]
            own = vectors[next_vector : next_vector + len(indexed)]
            next_vector += len(indexed)
            # A text whose embedding is the zero vector (an empty text, for some embeddings) points
            # nowhere, so agentmem cannot index it; InMemoryStore scores it 0.0 for every query, and
            # so does `_ranked`, from the memory's ZERO mark.
            pointing = [bool(n > 0) for n in np.linalg.norm(own, axis=1)] if indexed else []
            marks = list(zip(indexed, pointing, strict=True))
            zero = [replace(m, metadata={**m.metadata, items.ZERO: True}) for m, ok in marks if not ok]
            for group, index, embeddings in (
                ([m for m, ok in marks if ok], True, own[np.asarray(pointing, dtype=bool)] if indexed else None),
                ([m for m in planned if not m.indexed] + zero, False, None),
            ):
                if not group:
                    continue
                self.memory.remember(
                    [m.text for m in group],
                    namespace=items.to_namespace(namespace),
                    metadata=[m.metadata for m in group],
                    ids=[m.id for m in group],
                    ttl=ttl,
                    index=index,
                    embeddings=embeddings,
                )


def _has_query(op: SearchOp) -> bool:
    """Whether a search ranks: as in InMemoryStore, any non-empty query does, a blank one too (its
    vector is the embedder's; the text agentmem is given is `items.searchable`'s)."""
    return bool(op.query)
