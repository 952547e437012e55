"""Memory's asyncio methods: `aremember`, `arecall`, `aget`, `aforget`, `alist` (memory.py names them).

On a PostgreSQL store the database round trips are awaited on asyncio connections (psycopg's
AsyncConnection), so an event loop serves other requests while the database works; the work of torch
(encoding, the controller's scoring and write decisions) runs in a worker thread (`asyncio.to_thread`):

    aget, alist     one awaited statement
    aforget         the slots to forget, then one awaited transaction (the writer locks, the delete, the
                    links bridged, the statistics)
    arecall         the emptiness probe awaited; the query encoded in a thread; the read's questions
                    asked ahead, awaited and at once (the dense and lexical searches with their hits'
                    rows and neighbours, the name lookup: PostgresReader.aprefetch); the controller then
                    scores in a thread from those answers, and the rows of its hits are awaited
    aremember       the texts encoded, and the controller's write decisions made, in a thread (its
                    reads of the store included, not awaited); a batch of new memories is then written
                    in one awaited transaction; a batch with updates of existing memories is written by
                    `remember`'s own blocking transaction in the thread

A local store answers each method with the blocking call in a worker thread: SQLite and FAISS release
the GIL, and the Memory's lock serialises them as it does any thread's calls.

The checks of every argument are those of the blocking methods, made before anything is awaited.
Each asyncio write is a transaction of its own, on a connection of its own: it does not join a
`Memory.transaction()` block, and concurrent ones proceed as concurrent processes' writes do.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from agentmem import validate
from agentmem.controller import ReadQuery
from agentmem.errors import InvalidTypeError
from agentmem.filters import parse_filter
from agentmem.storage.base import NewSlot
from agentmem.text import name_phrases, speaker_of
from agentmem.validate import TimeLike, parse_time

if TYPE_CHECKING:
    from agentmem.memory import Memory
    from agentmem.records import MemoryRecord, RecallResult


def _async_backend(mem: Memory) -> Any:
    """The backend when it has asyncio connections (PostgreSQL), else None."""
    return mem.backend if hasattr(mem.backend, "atransaction") else None


async def aremember(
    mem: Memory,
    texts: str | Sequence[str],
    *,
    namespace: Sequence[str] | str | None = None,
    metadata: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    event_time: TimeLike | Sequence[TimeLike] = None,
    ids: Sequence[str] | None = None,
    ttl: float | None = None,
    index: bool = True,
    embeddings: np.ndarray | None = None,
) -> list[str]:
    backend = _async_backend(mem)
    if backend is None:
        return await asyncio.to_thread(
            mem.remember, texts, namespace=namespace, metadata=metadata, event_time=event_time, ids=ids,
            ttl=ttl, index=index, embeddings=embeddings,
        )
    mem._check_open()
    w = mem._write_args(texts, namespace, metadata, event_time, ids, ttl, index)
    items, ns, ids, expiry, n = w.items, w.namespace, w.ids, w.expiry, len(w.items)
    vectors: np.ndarray | None = None
    if w.index:
        if embeddings is None:
            vectors = await asyncio.to_thread(mem.encoder.encode, items)
        else:
            vectors = validate.embeddings(embeddings, n, mem.encoder.dim)
    existing = await backend.arows_by_id(ids) if ids is not None else {}
    mem._same_namespace(existing, ns, ids)
    pending = w.pending(vectors)
    decisions = await asyncio.to_thread(mem._plan, pending, ids, existing)
    if any(d.op != "new" for d in decisions):
        # Updates move slots within their chains and keep history: `remember`'s own writes, in a thread.
        return await asyncio.to_thread(_apply, mem, decisions, pending, ids, expiry)
    out = [ids[i] if ids is not None else uuid.uuid4().hex for i in range(n)]
    rows = [
        NewSlot(out[i], ns, p.text, dict(p.metadata), p.event_time, p.vector, speaker_of(p.text, p.metadata), ttl=expiry)
        for i, p in enumerate(pending)
    ]
    now = time.time()
    async with backend.atransaction() as tx:
        await backend.ainsert(tx, rows, now)
        await _flush_usage(mem, backend, tx, now)
    return out


async def arecall(
    mem: Memory,
    query: str,
    k: int = 10,
    *,
    namespace: Sequence[str] | str | None = None,
    filter: Mapping[str, Any] | None = None,
    query_time: TimeLike = None,
    embedding: np.ndarray | None = None,
    track_usage: bool = True,
) -> list[RecallResult]:
    backend = _async_backend(mem)
    if backend is None:
        return await asyncio.to_thread(
            mem.recall, query, k, namespace=namespace, filter=filter, query_time=query_time, embedding=embedding,
            track_usage=track_usage,
        )
    from agentmem.records import RecallResult

    mem._check_open()
    # The checks of Memory.recall and recall_many, in their order.
    if embedding is not None:
        try:
            embedding = np.asarray(embedding, dtype=np.float32).reshape(1, -1)
        except (TypeError, ValueError):
            raise InvalidTypeError(f"embedding is not a vector of numbers; pass a ({mem.encoder.dim},) array") from None
        embedding = validate.embeddings(embedding, 1, mem.encoder.dim, "embedding")
    text = validate.text(query, "query", stored=False)
    k = validate.k(k)
    ns = validate.namespace_prefix(namespace)
    conditions = parse_filter(filter)
    qt = parse_time(query_time, "query_time") if query_time is not None else time.time()
    track_usage = validate.flag(track_usage, "track_usage")
    if ns is not None and not await backend.aany(namespace=ns, now=time.time()):
        return []
    if embedding is None:
        vector = (await asyncio.to_thread(mem.encoder.encode_queries, [text]))[0]
    else:
        vector = embedding[0]
    controller = mem._controller if mem._controller is not None else await asyncio.to_thread(lambda: mem.controller)
    read = ReadQuery(text, vector, k, ns, conditions, qt)
    reader = backend.reader()
    dense_k, lexical_k, naming = read_shape(controller, k)
    await reader.aprefetch(
        text, vector, dense_k=dense_k, lexical_k=lexical_k, phrases=name_phrases(text) if naming else (),
        namespace=ns, filter=conditions,
    )
    hits = (await asyncio.to_thread(controller.read, [read], reader))[0]
    rows = await reader.arows([h.slot for h in hits])
    records = mem._records(list(rows.values()))
    if track_usage:
        for h in hits:
            mem._usage[h.slot] = mem._usage.get(h.slot, 0.0) + h.weight
    if time.monotonic() - mem._last_flush > mem.config.usage_flush_s:
        async with backend.atransaction() as tx:
            await _flush_usage(mem, backend, tx, time.time())
    return [RecallResult(records[h.slot], h.score, h.weight, h.why) for h in hits[:k] if h.slot in records]


def read_shape(controller: Any, k: int) -> tuple[int, int | None, bool]:
    """The first questions `controller` asks of a read of k hits: (its dense top-k, its lexical top-k or
    None, whether it looks up whom the query names). The learned controller's come from its candidate
    config (controller/candidates.py, `gather`); any other is taken to search k densely, as the cosine
    baseline does. A question asked otherwise is still answered, by the database from the thread."""
    candidates = getattr(getattr(controller, "config", None), "candidates", None)
    if candidates is not None:
        return max(candidates.dense_k, k), candidates.lexical_k, bool(candidates.naming)
    return k, None, False


async def aget(mem: Memory, id: str, *, namespace: Sequence[str] | str | None = None) -> MemoryRecord | None:
    backend = _async_backend(mem)
    if backend is None:
        return await asyncio.to_thread(mem.get, id, namespace=namespace)
    mem._check_open()
    id = validate.identifier(id)
    ns = validate.namespace_prefix(namespace)
    row = (await backend.arows_by_id([id])).get(id)
    if row is None or _expired(row) or (ns is not None and row.namespace[: len(ns)] != ns):
        return None
    return mem._record(row)


async def alist(
    mem: Memory,
    *,
    namespace: Sequence[str] | str | None = None,
    filter: Mapping[str, Any] | None = None,
    limit: int | None = None,
    offset: int | None = 0,
) -> list[MemoryRecord]:
    backend = _async_backend(mem)
    if backend is None:
        return await asyncio.to_thread(mem.list, namespace=namespace, filter=filter, limit=limit, offset=offset)
    mem._check_open()
    ns, conditions = validate.namespace_prefix(namespace), parse_filter(filter)
    limit, offset = validate.limit(limit), validate.offset(offset)
    rows = await backend.aselect(namespace=ns, filter=conditions, now=time.time(), limit=limit, offset=offset)
    records = mem._records(rows)
    return [records[r.slot] for r in rows]


async def aforget(
    mem: Memory,
    ids: str | Sequence[str] | None = None,
    *,
    namespace: Sequence[str] | str | None = None,
    filter: Mapping[str, Any] | None = None,
    everything: bool = False,
) -> int:
    backend = _async_backend(mem)
    if backend is None:
        return await asyncio.to_thread(mem.forget, ids, namespace=namespace, filter=filter, everything=everything)
    mem._check_open()
    id_list, ns, conditions = mem._forget_args(ids, namespace, filter, everything)
    if id_list is not None:
        rows = [
            r for r in (await backend.arows_by_id(id_list)).values()
            if not _expired(r) and (ns is None or r.namespace[: len(ns)] == ns)
        ]
        slots = [r.slot for r in rows]
        if conditions and slots:
            slots = await backend.aselect_slots(filter=conditions, slots=slots)
    else:
        slots = await backend.aselect_slots(namespace=ns, filter=conditions)
    async with backend.atransaction() as tx:
        return await backend.adelete(tx, slots)


def _apply(mem: Memory, decisions: Any, pending: Any, ids: Any, expiry: float | None) -> list[str]:
    """Write planned decisions as `remember` does, in one blocking transaction."""
    with mem._call():
        now = time.time()
        with mem.backend.transaction():
            out = mem._apply(decisions, pending, ids, expiry, now)
            mem._flush_usage(now)
    return out


async def _flush_usage(mem: Memory, backend: Any, tx: Any, now: float) -> None:
    """Memory._flush_usage, awaited in an asyncio transaction."""
    if mem._usage:
        usage, mem._usage = {s: min(w, 1.0) for s, w in mem._usage.items()}, {}
        await backend.aadd_usage(tx, usage, now)
    mem._last_flush = time.monotonic()


def _expired(row: Any) -> bool:
    return row.expires_at is not None and row.expires_at <= time.time()
