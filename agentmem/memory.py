"""Memory: the public API. remember / recall / get / update / forget / history / list / stats.

Thin by design: it wires encoder -> controller -> store + index and owns transactions and locking.

Durability: `remember` returns only after its SQLite transaction committed (WAL, synchronous=FULL by
default), so a returned id survives `kill -9` the moment after. The FAISS index and the BM25 index
(lexical.py, loaded on a learned controller's first read) are caches saved on `close()`; a crash costs
at most a replay of the change log at the next open.

Concurrency: one `Memory` may be shared by threads (a lock serialises index and store access;
encoding, the slow part, runs outside it). Several processes may open one store: each recall first
replays what other processes committed (cheap `PRAGMA data_version` check when nothing changed).

Usage from reads is accumulated in memory and written with the next write transaction, on close, or
every few seconds, so reads never wait on an fsync; a crash may lose a few seconds of usage, never a
memory.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from agentmem.controller import Controller, PendingWrite, ReadQuery, WriteDecision, resolve_controller
from agentmem.encoder import DEFAULT_MODEL, Encoder, EncoderConfig, LongTextPolicy, resolve_encoder
from agentmem.errors import (
    ClosedError,
    DuplicateIdError,
    EmptyTextError,
    EncoderMismatchError,
    InvalidInputError,
    NotFoundError,
)
from agentmem.index import INDEX_FILE, IndexConfig, SlotIndex
from agentmem.lexical import LEXICAL_FILE, LexicalIndex
from agentmem.records import Explanation, MemoryRecord, MemoryVersion, RecallResult, to_datetime
from agentmem.store import NewSlot, SlotRow, SlotStore, StoreConfig, validate_namespace

log = logging.getLogger("agentmem")

TimeLike = datetime | str | float | int | None


@dataclass
class MemoryConfig:
    """Everything a Memory is built from; keyword arguments of `Memory` override these.

    default_namespace: where `remember` writes when no namespace is given.
    overfetch: index candidates fetched per requested hit before namespace/filter/expiry checks.
    usage_flush_s: longest time read usage waits in memory before it is written.
    """

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    default_namespace: tuple[str, ...] = ("default",)
    overfetch: int = 4
    usage_flush_s: float = 5.0


class Memory:
    """A persistent memory store for an agent. See docs/api-contract.md for the whole API.

    >>> with Memory("./agent-memory") as mem:                                   # doctest: +SKIP
    ...     mem.remember("Alice moved to Lisbon in May.", namespace=("user-42",))
    ...     mem.recall("Where does Alice live?", k=3)
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        encoder: Any = None,
        controller: Any = "learned",
        index: str | None = None,
        device: str = "auto",
        long_text: LongTextPolicy = "chunk",
        config: MemoryConfig | None = None,
        create: bool = True,
    ) -> None:
        self.config = config or MemoryConfig()
        self._owns_dir = path is None
        self.path = Path(tempfile.mkdtemp(prefix="agentmem-")) if path is None else Path(path).expanduser()
        self._lock = threading.RLock()
        self._closed = False
        fresh = not self.path.exists()
        self.store = SlotStore(self.path, config=self.config.store, create=create)
        try:
            self.encoder = self._open_encoder(encoder, device, long_text)
            kind = index or self.store.get_meta("index_kind") or self.config.index.kind
            self.config.index.kind = kind  # type: ignore[assignment]
            self.index = SlotIndex.open(self.path, self.store, self.encoder.dim, self.config.index)
            if self.store.get_meta("index_kind") != kind:
                self.store.set_meta("index_kind", kind)
        except BaseException:
            self.store.close()
            if fresh or self._owns_dir:  # a failed open leaves no empty store behind
                shutil.rmtree(self.path, ignore_errors=True)
            raise
        self.controller: Controller = resolve_controller(controller)
        if hasattr(self.controller, "check_dim"):
            self.controller.check_dim(self.encoder.dim)
        self._saved_seq = self.index.seq if (self.path / INDEX_FILE).exists() else -1
        self._lexical: LexicalIndex | None = None  # loaded by the first lexical read (see `lexical`)
        # Its own lock, not the memory's: a learned read searches it from a worker thread while the
        # reading thread holds the memory's lock (memory_controller.gather).
        self._lexical_lock = threading.Lock()
        # When the first memory expires (store.earliest_expiry), read once after each change: until
        # then a read needs no expiry probe. None: not read since the last change.
        self._earliest_expiry: float | None = None
        self._lexical_saved_seq = -1
        self._data_version = self.store.data_version()
        self._usage: dict[int, float] = {}
        self._last_flush = time.monotonic()

    def _open_encoder(self, spec: Any, device: str, long_text: LongTextPolicy) -> Encoder:
        """Use the store's recorded encoder when none is given; refuse a different one."""
        recorded, recorded_dim = self.store.get_meta("encoder"), self.store.get_meta("dim")
        if (
            spec is None
            and recorded
            and recorded != DEFAULT_MODEL
            and not recorded.startswith(("langchain:", "function:"))
        ):
            spec = recorded
        if spec is None:
            spec = EncoderConfig(**{**self.config.encoder.__dict__, "device": device, "long_text": long_text})
        encoder = resolve_encoder(spec, device=device, long_text=long_text)
        if recorded is None:
            with self.store.transaction():
                self.store.set_meta("encoder", encoder.name)
                self.store.set_meta("dim", str(encoder.dim))
        elif recorded != encoder.name or int(recorded_dim or 0) != encoder.dim:
            raise EncoderMismatchError(
                f"store {self.path} was built with encoder {recorded} ({recorded_dim}-d) but this Memory uses "
                f"{encoder.name} ({encoder.dim}-d); open it with encoder={recorded!r} or use another store"
            )
        return encoder

    # -- writing -------------------------------------------------------------------------------

    def remember(
        self,
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
        """Store observations; returns their ids, in order, once durable.

        An id in `ids` that already exists is updated in place (its old version kept in history).
        The whole batch is validated before anything is written: one bad item writes nothing.
        """
        self._check_open()
        items = [texts] if isinstance(texts, str) else list(texts)
        n = len(items)
        ns = validate_namespace(namespace) if namespace is not None else self.config.default_namespace
        for i, t in enumerate(items):
            if not isinstance(t, str):
                raise InvalidInputError(f"text {i} is a {type(t).__name__}, not a str; pass strings")
            if not t.strip():
                where = f" (item {i} of {n})" if n > 1 else ""
                raise EmptyTextError(f"memory text is empty or whitespace{where}; pass non-empty text")
        metas = _per_item(metadata, n, "metadata", default={})
        for i, m in enumerate(metas):
            if not isinstance(m, Mapping):
                raise InvalidInputError(
                    f"metadata {i} is a {type(m).__name__}, not a dict; pass a dict per text"
                )
        times = [parse_time(t) for t in _per_item(event_time, n, "event_time", default=None)]
        if ttl is not None and not (isinstance(ttl, (int, float)) and ttl > 0 and math.isfinite(ttl)):
            raise InvalidInputError(f"ttl must be a positive number of seconds, got {ttl!r}")
        if ids is not None:
            ids = [str(i) for i in ids]
            if len(ids) != n:
                raise InvalidInputError(f"got {len(ids)} ids for {n} texts; pass one id per text")
            if len(set(ids)) != n:
                dup = next(i for i in ids if ids.count(i) > 1)
                raise DuplicateIdError(f"id {dup!r} appears twice in one remember call; ids must be unique")
        vectors: np.ndarray | None = None
        if index:
            vectors = (
                self._encode_docs(items) if embeddings is None else self._check_embeddings(embeddings, n)
            )

        with self._lock:
            self._sync()
            existing = self.store.by_ids(ids) if ids is not None else {}
            for i, row in existing.items():
                if row.namespace != ns:
                    raise InvalidInputError(
                        f"id {i!r} exists in namespace {row.namespace}, not {ns}; forget it first to move it"
                    )
            pending = [
                PendingWrite(items[i], ns, dict(metas[i]), times[i], None if vectors is None else vectors[i])
                for i in range(n)
            ]
            decisions = self._plan(pending, ids, existing)
            now = time.time()
            with self.store.transaction():
                out = self._apply(decisions, pending, ids, existing, ttl, now)
                self._flush_usage(now)
            self._after_commit()
        return out

    def _plan(self, pending: list[PendingWrite], ids, existing) -> list[WriteDecision]:
        """Caller-chosen ids decide for themselves (an explicit id means "store under this id": new,
        or an update of that memory); the controller decides where the caller chose no ids."""
        if ids is not None:
            return [
                WriteDecision("update", existing[i].slot) if i in existing else WriteDecision("new")
                for i in ids
            ]
        return list(self.controller.plan_writes(pending, self._view()))

    def _apply(self, decisions, pending, ids, existing, ttl, now) -> list[str]:
        """Write the batch in order. A slot the controller updates is a write of the new observation,
        so, as in the DNC's temporal link matrix, it moves to that observation's place in the write
        order (after the batch's previous write); an update of a caller-chosen id stays where it is."""
        out: list[str] = []
        slot_of: dict[int, int] = {}  # batch position -> the slot it wrote
        for i, (d, p) in enumerate(zip(decisions, pending, strict=True)):
            if d.op == "new":
                new_id = ids[i] if ids is not None else uuid.uuid4().hex
                row = NewSlot(new_id, p.namespace, p.text, dict(p.metadata), p.event_time, p.vector, ttl=ttl)
                slot_of[i] = self.store.insert([row], now)[0]
                out.append(new_id)
                continue
            target = d.slot if d.pending is None else slot_of.get(d.pending)
            held = self.store.ids_of([target]) if target is not None else {}
            if target not in held:
                what = f"slot {d.slot}" if d.pending is None else f"earlier write {d.pending} of the batch"
                raise InvalidInputError(f"controller chose {what}, which holds no memory")
            slot_of[i] = target
            if d.op == "update":
                self.store.update(
                    target,
                    text=p.text,
                    metadata=dict(p.metadata),
                    event_time=p.event_time,
                    vector=p.vector if d.vector is None or p.vector is None else d.vector,
                    now=now,
                    ttl=ttl,
                    relink=ids is None,
                )
            out.append(held[target])
        return out

    def restore(self, entries: Sequence[tuple[MemoryRecord, Sequence[MemoryVersion]]]) -> list[str]:
        """Write exported memories back verbatim: ids, namespaces, times, usage and version history.

        The controller is bypassed (a restore is not an observation). Entries are written in the
        order given, so importing an export in write order rebuilds the same temporal links. Current
        texts are re-encoded with this store's encoder. Ids already present are refused, and the
        whole batch is one transaction.
        """
        self._check_open()
        entries = list(entries)
        if not entries:
            return []
        clash = self.store.by_ids([r.id for r, _ in entries])
        if clash:
            raise DuplicateIdError(
                f"id {next(iter(clash))!r} is already in the store; restore into an empty store"
            )
        indexed = [i for i, (r, _) in enumerate(entries) if r.indexed]
        vectors = self._encode_docs([entries[i][0].text for i in indexed]) if indexed else None
        vec_of = {i: vectors[j] for j, i in enumerate(indexed)} if vectors is not None else {}
        ts = lambda d: None if d is None else d.timestamp()  # noqa: E731
        with self._lock:
            with self.store.transaction():
                slots = self.store.insert(
                    [
                        NewSlot(
                            r.id,
                            validate_namespace(r.namespace),
                            r.text,
                            dict(r.metadata),
                            ts(r.event_time),
                            vec_of.get(i),
                            created_at=ts(r.created_at),
                        )
                        for i, (r, _) in enumerate(entries)
                    ],
                    now=time.time(),
                )
                for slot, (r, versions) in zip(slots, entries, strict=True):
                    self.store.set_slot_fields(
                        slot,
                        version=r.version,
                        created_at=ts(r.created_at),
                        updated_at=ts(r.updated_at),
                        usage=r.usage,
                        last_read_at=ts(r.last_read_at),
                        expires_at=ts(r.expires_at),
                    )
                    past = [v for v in versions if v.version < r.version]
                    self.store.restore_history(
                        slot,
                        [
                            {
                                "version": v.version,
                                "text": v.text,
                                "metadata": v.metadata,
                                "event_time": ts(v.event_time),
                                "updated_at": ts(v.updated_at),
                            }
                            for v in past
                        ],
                    )
            self._after_commit()
        return [r.id for r, _ in entries]

    def update(
        self,
        id: str,
        *,
        text: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        event_time: TimeLike = None,
    ) -> MemoryRecord:
        """Change a memory's text, metadata or event time; the previous version goes to `history`."""
        self._check_open()
        row = self._row(id)
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise EmptyTextError("memory text is empty or whitespace; pass non-empty text")
        new_text = row.text if text is None else text
        if text is not None and row.indexed:
            vector = self._encode_docs([new_text])[0]
        else:
            vector = self.store.vectors([row.slot], self.encoder.dim)[0] if row.indexed else None
        with self._lock, self.store.transaction():
            self.store.update(
                row.slot,
                text=new_text,
                metadata=dict(row.metadata if metadata is None else metadata),
                event_time=row.event_time if event_time is None else parse_time(event_time),
                vector=vector,
                now=time.time(),
                ttl=row.ttl,
            )
        self._after_commit()
        return self._record(self._row(id))

    def forget(
        self,
        ids: str | Sequence[str] | None = None,
        *,
        namespace: Sequence[str] | str | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> int:
        """Delete memories by id, or all matching a namespace prefix and/or metadata filter."""
        self._check_open()
        if ids is None and namespace is None and filter is None:
            raise InvalidInputError(
                "forget needs ids, a namespace or a filter; to empty the store pass namespace=()"
            )
        with self._lock:
            if ids is not None:
                ids = [ids] if isinstance(ids, str) else list(ids)
                slots = [r.slot for r in self.store.by_ids(ids).values()]
            else:
                ns = _prefix(namespace)
                slots = [r[0] for r in self.store.select(namespace=ns, filter=filter, columns="slot")]
            with self.store.transaction():
                n = self.store.delete(slots)
                self.store.prune_changes()
            self._after_commit()
        return n

    def refresh_ttl(self, ids: Sequence[str]) -> None:
        """Restart the expiry clock of memories stored with a ttl."""
        with self._lock:
            slots = [r.slot for r in self.store.by_ids(list(ids)).values()]
            with self.store.transaction():
                self.store.refresh_ttl(slots, time.time())
            self._earliest_expiry = None

    def sweep_expired(self) -> int:
        """Delete every memory whose ttl ran out; returns how many."""
        with self._lock:
            slots = self.store.expired_slots(time.time())
            if not slots:
                return 0
            with self.store.transaction():
                n = self.store.delete(slots)
            self._after_commit()
        return n

    # -- reading -------------------------------------------------------------------------------

    def recall(
        self,
        query: str,
        k: int = 10,
        *,
        namespace: Sequence[str] | str | None = None,
        filter: Mapping[str, Any] | None = None,
        query_time: TimeLike = None,
        embedding: np.ndarray | None = None,
        track_usage: bool = True,
    ) -> list[RecallResult]:
        """The k memories most relevant to `query`, best first, each with its score and why.

        track_usage=False reads without growing the usage of what was read (evaluations use it so
        results do not depend on the order questions are asked).
        """
        emb = None if embedding is None else np.asarray(embedding, dtype=np.float32).reshape(1, -1)
        hits = self.recall_many(
            [query],
            k,
            namespace=namespace,
            filter=filter,
            query_time=query_time,
            embeddings=emb,
            track_usage=track_usage,
        )
        return hits[0]

    def recall_many(
        self,
        queries: Sequence[str],
        k: int = 10,
        *,
        namespace: Sequence[str] | str | None = None,
        filter: Mapping[str, Any] | None = None,
        query_time: TimeLike = None,
        embeddings: np.ndarray | None = None,
        track_usage: bool = True,
    ) -> list[list[RecallResult]]:
        """`recall` for a batch of queries (one encoder call for all of them)."""
        self._check_open()
        queries = list(queries)
        if not isinstance(k, int) or k < 1:
            raise InvalidInputError(f"k must be a positive integer, got {k!r}")
        for i, q in enumerate(queries):
            if not isinstance(q, str) or not q.strip():
                raise EmptyTextError(f"query {i} is empty or not a string; pass a non-empty question")
        ns = _prefix(namespace)
        if embeddings is None:
            vecs = (
                self.encoder.encode_queries(queries)
                if queries
                else np.zeros((0, self.encoder.dim), np.float32)
            )
        else:
            vecs = self._check_embeddings(embeddings, len(queries))
        qt = parse_time(query_time) if query_time is not None else time.time()
        with self._lock:
            self._sync()
            reads = [ReadQuery(q, vecs[i], k, ns, filter, qt) for i, q in enumerate(queries)]
            view = self._view()
            hits = self.controller.read(reads, view)
            # Through the view: a controller may have fetched the rows it expected to return already.
            rows = view.rows([h.slot for hs in hits for h in hs])
            records = self._records(list(rows.values()))
            for hs in hits if track_usage else ():
                for h in hs:
                    self._usage[h.slot] = self._usage.get(h.slot, 0.0) + h.weight
            if time.monotonic() - self._last_flush > self.config.usage_flush_s:
                with self.store.transaction():
                    self._flush_usage(time.time())
        return [
            [RecallResult(records[h.slot], h.score, h.weight, h.why) for h in hs[:k] if h.slot in records]
            for hs in hits
        ]

    def explain(
        self,
        query: str,
        ids: Sequence[str],
        *,
        namespace: Sequence[str] | str | None = None,
        filter: Mapping[str, Any] | None = None,
        query_time: TimeLike = None,
    ) -> dict[str, Explanation]:
        """Why each of `ids` ranks where it does for `query`: rank, score, weight and every signal's
        contribution, whether or not it would make a recall's top k. Reads leave usage untouched."""
        self._check_open()
        if not isinstance(query, str) or not query.strip():
            raise EmptyTextError("the query is empty; pass a non-empty question")
        rows = {i: self._row(i) for i in ids}
        explain = getattr(self.controller, "explain", None)
        if explain is None:
            raise InvalidInputError(
                f"controller {self.controller.name!r} cannot explain its reads; use 'learned' or 'cosine'"
            )
        vec = self.encoder.encode_queries([query])[0]
        qt = parse_time(query_time) if query_time is not None else time.time()
        with self._lock:
            self._sync()
            read = ReadQuery(query, vec, 1, _prefix(namespace), filter, qt)
            found = explain(read, [r.slot for r in rows.values()], self._view())
            records = self._records(list(rows.values()))
        out = {}
        for i, row in rows.items():
            rank, hit = found.get(row.slot, (None, None))
            result = RecallResult(records[row.slot], hit.score, hit.weight, hit.why) if hit else None
            out[i] = Explanation(rank, result or RecallResult(records[row.slot], float("nan"), 0.0, {}))
        return out

    def get(self, id: str) -> MemoryRecord | None:
        self._check_open()
        row = self.store.by_ids([id]).get(id)
        return None if row is None or _expired(row) else self._record(row)

    def history(self, id: str) -> list[MemoryVersion]:
        """Every version of a memory, oldest first; the last is the current one."""
        row = self._row(id)
        return [
            MemoryVersion(
                v["version"],
                v["text"],
                v["metadata"],
                to_datetime(v["event_time"]),
                to_datetime(v["updated_at"]),
            )
            for v in self.store.history(row.slot)
        ]

    def list(
        self,
        *,
        namespace: Sequence[str] | str | None = None,
        filter: Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[MemoryRecord]:
        """Memories under a namespace prefix matching a metadata filter, in write order."""
        self._check_open()
        ns = _prefix(namespace)
        rows = self.store.select(namespace=ns, filter=filter, now=time.time(), limit=limit, offset=offset)
        recs = self._records(rows)
        return [recs[r.slot] for r in rows]

    def count(
        self, *, namespace: Sequence[str] | str | None = None, filter: Mapping[str, Any] | None = None
    ) -> int:
        ns = _prefix(namespace)
        return self.store.count(namespace=ns, filter=filter, now=time.time())

    def namespaces(
        self,
        *,
        prefix: Sequence[str] | None = None,
        suffix: Sequence[str] | None = None,
        max_depth: int | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """Distinct namespaces, sorted; prefix/suffix segments may be "*" (any one segment)."""
        found = []
        for ns in self.store.namespace_counts(now=time.time()):
            if prefix and not _segments_match(ns[: len(prefix)], prefix):
                continue
            if suffix and (len(ns) < len(suffix) or not _segments_match(ns[len(ns) - len(suffix) :], suffix)):
                continue
            found.append(ns[:max_depth] if max_depth is not None else ns)
        found = sorted(set(found))
        return found[offset : None if limit is None else offset + limit]

    def stats(self) -> dict[str, Any]:
        """Counts per namespace, encoder, index and disk use."""
        self._check_open()
        counts = self.store.namespace_counts(now=time.time())
        return {
            "path": str(self.path),
            "memories": sum(counts.values()),
            "namespaces": {"/".join(ns): n for ns, n in counts.items()},
            "encoder": self.encoder.name,
            "dim": self.encoder.dim,
            "index": self.index.config.kind,
            "indexed": self.index.size,
            "controller": self.controller.name,
            "schema_version": int(self.store.get_meta("schema_version") or 0),
            "bytes_on_disk": self.store.bytes_on_disk(),
        }

    def __len__(self) -> int:
        return self.store.count(now=time.time())

    def __iter__(self) -> Iterator[MemoryRecord]:
        offset, page = 0, 1000
        while batch := self.list(limit=page, offset=offset):
            yield from batch
            offset += page

    def __contains__(self, id: object) -> bool:
        return isinstance(id, str) and self.get(id) is not None

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Write pending usage, save the index, close the database. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._usage:
                    with self.store.transaction():
                        self._flush_usage(time.time())
                if not self._owns_dir and self.index.seq != self._saved_seq:
                    self.index.save(self.path, self.store.get_meta("store_id") or "")
                if not self._owns_dir and self._lexical and self._lexical.seq != self._lexical_saved_seq:
                    self._lexical.save(self.path, self.store.get_meta("store_id") or "")
            finally:
                self.store.close()
                if self._owns_dir:
                    shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Memory({str(self.path)!r}, encoder={self.encoder.name!r}, controller={self.controller.name!r})"
        )

    # -- internals -----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError("this Memory is closed; open a new Memory(path)")

    def _encode_docs(self, texts: list[str]) -> np.ndarray:
        return self.encoder.encode(texts)

    def _check_embeddings(self, embeddings: np.ndarray, n: int) -> np.ndarray:
        e = np.asarray(embeddings, dtype=np.float32)
        if e.shape != (n, self.encoder.dim):
            raise InvalidInputError(
                f"embeddings have shape {e.shape}, expected ({n}, {self.encoder.dim}) for {self.encoder.name}"
            )
        return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)

    def _sync(self) -> None:
        """Catch the indexes up with commits made by other processes."""
        version = self.store.data_version()
        if version != self._data_version:
            self._sync_indexes()
            self._data_version = version

    def _after_commit(self) -> None:
        self._sync_indexes()
        self._data_version = self.store.data_version()

    def _sync_indexes(self) -> None:
        self._earliest_expiry = None  # every commit that can change an expiry time passes here
        self.index.sync(self.store)
        if self._lexical is not None:
            self._lexical.sync(self.store)

    @property
    def lexical(self) -> LexicalIndex:
        """The BM25 index over the memories' texts, loaded (or built) on first use: the cosine
        controller never needs it, so a store read only through it never pays for it."""
        with self._lexical_lock:
            if self._lexical is None:
                self._lexical = LexicalIndex.open(self.path, self.store)
                self._lexical_saved_seq = self._lexical.seq if (self.path / LEXICAL_FILE).exists() else -1
            return self._lexical

    def _flush_usage(self, now: float) -> None:
        if self._usage:
            self.store.add_usage({s: min(w, 1.0) for s, w in self._usage.items()}, now)
            self._usage.clear()
        self._last_flush = time.monotonic()

    def _row(self, id: str) -> SlotRow:
        row = self.store.by_ids([id]).get(id)
        if row is None or _expired(row):
            raise NotFoundError(f"no memory with id {id!r}; list ids with `agentmem inspect`")
        return row

    def _record(self, row: SlotRow) -> MemoryRecord:
        return self._records([row])[row.slot]

    def _records(self, rows: Sequence[SlotRow]) -> dict[int, MemoryRecord]:
        return {
            r.slot: MemoryRecord(
                id=r.id,
                namespace=r.namespace,
                text=r.text,
                metadata=r.metadata,
                created_at=to_datetime(r.created_at),
                updated_at=to_datetime(r.updated_at),  # type: ignore[arg-type]
                event_time=to_datetime(r.event_time),
                usage=r.usage,
                write_order=r.slot,
                prev_id=r.prev_id,
                next_id=r.next_id,
                version=r.version,
                expires_at=to_datetime(r.expires_at),
                indexed=r.indexed,
                last_read_at=to_datetime(r.last_read_at),
            )
            for r in rows
        }

    def _view(self) -> _SlotView:
        return _SlotView(self)


_LEXICAL_OVERFETCH_CAP = 4096  # lexical hits checked for visibility before scoring the allowed set only


class _SlotView:
    """The controller's window on the memory (see controller.SlotAccess), for one controller call: no
    write may come between its lookups."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self.dim = memory.encoder.dim
        self._columns_synced = False  # its first neighbourhood lookup catches the read columns up
        self._rows: dict[int, SlotRow] = {}  # every row `rows` fetched, for the call's later asks

    def search(self, vector, k, *, namespace=None, filter=None) -> list[tuple[int, float]]:
        return self.search_many(vector[None, :], k, namespace=namespace, filter=filter)[0]

    def search_many(self, vectors, k, *, namespace=None, filter=None) -> list[list[tuple[int, float]]]:
        m = self.memory
        index, store, now = m.index, m.store, time.time()
        allowed = None
        if namespace is not None:
            # A small namespace is searched exactly through an id selector; a large one by overfetching.
            n_ns = store.count(namespace=namespace, indexed_only=True)
            if n_ns == 0:
                return [[] for _ in vectors]
            if n_ns * 4 <= index.size:
                allowed = np.array(
                    [r[0] for r in store.select(namespace=namespace, columns="slot", indexed_only=True)]
                )
        if namespace is None and not filter and index.config.kind == "flat" and self._none_expired(now):
            # Nothing can hide a hit, so an exact index's top k is the answer: no overfetch, no visibility
            # check (an HNSW search keeps its overfetch, which also widens its beam).
            return _hit_lists(*index.search(vectors, k))
        fetch = k * m.config.overfetch
        limit = index.size if allowed is None else len(allowed)
        while True:
            # One FAISS call for every query: batched, the flat scan runs as one matrix product.
            cand = _hit_lists(*index.search(vectors, fetch, allowed=allowed))
            visible = self.visible(
                sorted({s for row in cand for s, _ in row}), namespace=namespace, filter=filter, now=now
            )
            hits = [[(s, c) for s, c in row if s in visible][:k] for row in cand]
            if all(len(h) >= k for h in hits) or fetch >= limit:
                return hits
            fetch = min(fetch * 4, limit)

    def lexical(self, text, k, *, namespace=None, filter=None):
        m = self.memory
        index, store = m.lexical, m.store
        fetch = k * m.config.overfetch
        while fetch <= _LEXICAL_OVERFETCH_CAP:
            got = index.search(text, fetch)
            visible = self.visible([s for s, _ in got], namespace=namespace, filter=filter)
            hits = [(s, b) for s, b in got if s in visible]
            if len(hits) >= k or len(got) < fetch:
                return hits[:k]
            fetch *= 8
        # The namespace or filter is too rare among the matches: score only the memories it allows.
        allowed = store.select(
            namespace=namespace, filter=filter, now=time.time(), columns="slot", indexed_only=True
        )
        return index.search(text, k, allowed=[r[0] for r in allowed])

    def naming(self, text):
        return self.memory.lexical.naming(text)

    def visible(self, slots, *, namespace=None, filter=None, now=None) -> set[int]:
        """Those of the indexed `slots` a read under this namespace prefix and filter may return."""
        store, now = self.memory.store, time.time() if now is None else now
        if namespace is None and not filter:
            # Unscoped, every indexed memory is visible but an expired one not yet swept: none before
            # the earliest expiry, else one probe of the expiry index instead of looking up every hit.
            if self._none_expired(now):
                return set(slots)
            return set(slots).difference(store.expired_slots(now))
        rows = store.select(
            namespace=namespace, filter=filter, slots=slots, now=now, columns="slot", indexed_only=True
        )
        return {r[0] for r in rows}

    def _none_expired(self, now: float) -> bool:
        """Whether `now` is before the earliest expiry in the store (read once per change)."""
        m = self.memory
        if m._earliest_expiry is None:
            m._earliest_expiry = m.store.earliest_expiry()
        return now < m._earliest_expiry

    def neighbourhood(self, slots, strong, *, namespace=None, filter=None, visible=True):
        sync, self._columns_synced = not self._columns_synced, True
        if not visible:
            return self.memory.store.neighbourhood(slots, strong, sync=sync)
        return self.memory.store.neighbourhood(
            slots, strong, namespace=namespace, filter=filter, now=time.time(), indexed_only=True, sync=sync
        )

    def rows(self, slots):
        missing = [s for s in slots if s not in self._rows]
        if missing:
            self._rows.update(self.memory.store.by_slots(missing))
        return {s: self._rows[s] for s in slots if s in self._rows}

    def vectors(self, slots):
        if len(slots) == 0:
            return np.zeros((0, self.dim), np.float32)
        return self.memory.index.vectors(np.asarray(slots))


def _hit_lists(scores: np.ndarray, slots: np.ndarray) -> list[list[tuple[int, float]]]:
    """An index search's (scores (B, k), slots (B, k)) as one [(slot, score)] list per query, without
    the missing entries (slot -1)."""
    return [
        [(s, c) for s, c in zip(row_s, row_c, strict=True) if s >= 0]
        for row_s, row_c in zip(slots.tolist(), scores.tolist(), strict=True)
    ]


def parse_time(t: TimeLike) -> float | None:
    """datetime (naive = UTC), ISO 8601 string, or unix seconds -> unix seconds."""
    if t is None:
        return None
    if isinstance(t, bool):
        raise InvalidInputError(f"invalid time {t!r}; pass a datetime, an ISO 8601 string or unix seconds")
    if isinstance(t, (int, float)):
        if not math.isfinite(t):
            raise InvalidInputError(f"invalid time {t!r}; pass a finite number of unix seconds")
        return float(t)
    if isinstance(t, str):
        try:
            t = datetime.fromisoformat(t.strip().replace("Z", "+00:00"))
        except ValueError as e:
            raise InvalidInputError(f"invalid time {t!r}; use ISO 8601, e.g. 2024-05-08T13:56:00") from e
    if isinstance(t, datetime):
        return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()
    raise InvalidInputError(f"invalid time {t!r}; pass a datetime, an ISO 8601 string or unix seconds")


def _prefix(namespace: Sequence[str] | str | None) -> tuple[str, ...] | None:
    """A namespace prefix for reads: None or () means the whole store."""
    return None if namespace in (None, ()) else validate_namespace(namespace)


def _per_item(value: Any, n: int, name: str, *, default: Any) -> list[Any]:
    """Broadcast a single value to n items, or check a per-item list has n entries."""
    if value is None:
        return [default] * n
    if isinstance(value, (list, tuple)) and not (name == "event_time" and isinstance(value, str)):
        if len(value) != n:
            raise InvalidInputError(
                f"got {len(value)} {name} values for {n} texts; pass one per text or a single one"
            )
        return list(value)
    return [value] * n


def _segments_match(segs: Sequence[str], pattern: Sequence[str]) -> bool:
    return len(segs) == len(pattern) and all(p == "*" or p == s for s, p in zip(segs, pattern, strict=True))


def _expired(row: SlotRow) -> bool:
    return row.expires_at is not None and row.expires_at <= time.time()


__all__ = ["Memory", "MemoryConfig", "parse_time"]
