"""Memory: the public API. remember / recall / explain / get / update / forget / history / list / stats.

Thin by design: it checks what a caller gives (validate.py, filters.py), encodes texts, asks the
controller what to write and how to read, and has the storage backend commit and answer. It owns
transactions and locking:

- Durability: `remember` returns only after its transaction committed (SQLite WAL with
  synchronous=FULL by default), so a returned id survives `kill -9` the moment after. Indexes are
  caches the backend keeps in step (storage/local/backend.py).
- Concurrency: one `Memory` may be shared by threads: its lock serialises every call, except encoding,
  the slow part, which runs outside it. Several processes may open one store: a read first catches the
  caches up with what other processes committed.
- Usage from reads is accumulated in memory and written with the next write transaction, on close, or
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
from pathlib import Path
from typing import Any

import numpy as np

from agentmem import validate
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
from agentmem.filters import parse_filter
from agentmem.records import Explanation, MemoryRecord, MemoryVersion, RecallResult, to_datetime
from agentmem.storage.base import Backend, NewSlot, SlotRow
from agentmem.storage.local import LocalBackend, LocalConfig
from agentmem.text import speaker_of
from agentmem.validate import TimeLike, parse_time

log = logging.getLogger("agentmem")


@dataclass
class MemoryConfig:
    """Everything a Memory is built from; keyword arguments of `Memory` override these.

    storage: the local backend's SQLite, dense index and lexical index settings.
    default_namespace: where `remember` writes when no namespace is given.
    usage_flush_s: longest time read usage waits in memory before it is written.
    """

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    storage: LocalConfig = field(default_factory=LocalConfig)
    default_namespace: tuple[str, ...] = ("default",)
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
        self.backend: Backend = LocalBackend(self.path, self.config.storage, create=create)
        try:
            self.encoder = self._open_encoder(encoder, device, long_text)
            self.backend.open_index(self.encoder.dim, index)
        except BaseException:
            self.backend.close(save=False)
            if fresh or self._owns_dir:  # a failed open leaves no empty store behind
                shutil.rmtree(self.path, ignore_errors=True)
            raise
        self.controller: Controller = resolve_controller(controller)
        self._usage: dict[int, float] = {}
        self._last_flush = time.monotonic()

    def _open_encoder(self, spec: Any, device: str, long_text: LongTextPolicy) -> Encoder:
        """Use the store's recorded encoder when none is given; refuse a different one."""
        recorded, recorded_dim = self.backend.get_meta("encoder"), self.backend.get_meta("dim")
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
            with self.backend.transaction():
                self.backend.set_meta("encoder", encoder.name)
                self.backend.set_meta("dim", str(encoder.dim))
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
        ns = validate.namespace(namespace) if namespace is not None else self.config.default_namespace
        for i, t in enumerate(items):
            if not isinstance(t, str):
                raise InvalidInputError(f"text {i} is a {type(t).__name__}, not a str; pass strings")
            if not t.strip():
                where = f" (item {i} of {n})" if n > 1 else ""
                raise EmptyTextError(f"memory text is empty or whitespace{where}; pass non-empty text")
        metas = validate.per_item(metadata, n, "metadata", default={})
        for i, m in enumerate(metas):
            if not isinstance(m, Mapping):
                raise InvalidInputError(
                    f"metadata {i} is a {type(m).__name__}, not a dict; pass a dict per text"
                )
        times = [parse_time(t) for t in validate.per_item(event_time, n, "event_time", default=None)]
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
            existing = self.backend.rows_by_id(ids) if ids is not None else {}
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
            with self.backend.transaction():
                out = self._apply(decisions, pending, ids, ttl, now)
                self._flush_usage(now)
        return out

    def _plan(self, pending: list[PendingWrite], ids, existing) -> list[WriteDecision]:
        """Caller-chosen ids decide for themselves (an explicit id means "store under this id": new,
        or an update of that memory); the controller decides where the caller chose no ids."""
        if ids is not None:
            return [
                WriteDecision("update", existing[i].slot) if i in existing else WriteDecision("new")
                for i in ids
            ]
        return list(self.controller.plan_writes(pending, self.backend.reader()))

    def _apply(self, decisions, pending, ids, ttl, now) -> list[str]:
        """Write the batch in order. A slot the controller updates is a write of the new observation,
        so, as in the DNC's temporal link matrix, it moves to that observation's place in the write
        order (after the batch's previous write); an update of a caller-chosen id stays where it is."""
        out: list[str] = []
        slot_of: dict[int, int] = {}  # batch position -> the slot it wrote
        for i, (d, p) in enumerate(zip(decisions, pending, strict=True)):
            speaker = speaker_of(p.text, p.metadata)
            if d.op == "new":
                new_id = ids[i] if ids is not None else uuid.uuid4().hex
                row = NewSlot(
                    new_id, p.namespace, p.text, dict(p.metadata), p.event_time, p.vector, speaker, ttl=ttl
                )
                slot_of[i] = self.backend.insert([row], now)[0]
                out.append(new_id)
                continue
            target = d.slot if d.pending is None else slot_of.get(d.pending)
            held = self.backend.rows([target]) if target is not None else {}
            if target not in held:
                what = f"slot {d.slot}" if d.pending is None else f"earlier write {d.pending} of the batch"
                raise InvalidInputError(f"controller chose {what}, which holds no memory")
            slot_of[i] = target
            if d.op == "update":
                self.backend.update(
                    target,
                    text=p.text,
                    metadata=dict(p.metadata),
                    speaker=speaker,
                    event_time=p.event_time,
                    vector=p.vector if d.vector is None or p.vector is None else d.vector,
                    now=now,
                    ttl=ttl,
                    relink=ids is None,
                )
            out.append(held[target].id)
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
        clash = self.backend.rows_by_id([r.id for r, _ in entries])
        if clash:
            raise DuplicateIdError(
                f"id {next(iter(clash))!r} is already in the store; restore into an empty store"
            )
        indexed = [i for i, (r, _) in enumerate(entries) if r.indexed]
        vectors = self._encode_docs([entries[i][0].text for i in indexed]) if indexed else None
        vec_of = {i: vectors[j] for j, i in enumerate(indexed)} if vectors is not None else {}
        ts = lambda d: None if d is None else d.timestamp()  # noqa: E731
        rows = [
            NewSlot(
                r.id,
                validate.namespace(r.namespace),
                r.text,
                dict(r.metadata),
                ts(r.event_time),
                vec_of.get(i),
                speaker_of(r.text, r.metadata),
                created_at=ts(r.created_at),
            )
            for i, (r, _) in enumerate(entries)
        ]
        with self._lock, self.backend.transaction():
            slots = self.backend.insert(rows, now=time.time())
            for slot, (r, versions) in zip(slots, entries, strict=True):
                self.backend.set_fields(
                    slot,
                    version=r.version,
                    created_at=ts(r.created_at),
                    updated_at=ts(r.updated_at),
                    usage=r.usage,
                    last_read_at=ts(r.last_read_at),
                    expires_at=ts(r.expires_at),
                )
                past = [v for v in versions if v.version < r.version]
                self.backend.restore_history(
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
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise EmptyTextError("memory text is empty or whitespace; pass non-empty text")
        when = None if event_time is None else parse_time(event_time)
        row = self._row(id)
        new_text = row.text if text is None else text
        vector = self._encode_docs([new_text])[0] if text is not None and row.indexed else None
        with self._lock:
            row = self._row(id)
            if vector is None and row.indexed:
                vector = self.backend.vectors([row.slot])[0]
            meta = dict(row.metadata if metadata is None else metadata)
            with self.backend.transaction():
                self.backend.update(
                    row.slot,
                    text=new_text,
                    metadata=meta,
                    speaker=speaker_of(new_text, meta),
                    event_time=row.event_time if when is None else when,
                    vector=vector,
                    now=time.time(),
                    ttl=row.ttl,
                )
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
        conditions = parse_filter(filter)
        ns = validate.namespace_prefix(namespace)
        with self._lock:
            if ids is not None:
                ids = [ids] if isinstance(ids, str) else list(ids)
                slots = [r.slot for r in self.backend.rows_by_id(ids).values()]
            else:
                slots = self.backend.select_slots(namespace=ns, filter=conditions)
            with self.backend.transaction():
                return self.backend.delete(slots)

    def refresh_ttl(self, ids: Sequence[str]) -> None:
        """Restart the expiry clock of memories stored with a ttl."""
        self._check_open()
        with self._lock:
            slots = [r.slot for r in self.backend.rows_by_id(list(ids)).values()]
            with self.backend.transaction():
                self.backend.refresh_ttl(slots, time.time())

    def sweep_expired(self) -> int:
        """Delete every memory whose ttl ran out; returns how many."""
        self._check_open()
        with self._lock:
            slots = self.backend.expired_slots(time.time())
            if not slots:
                return 0
            with self.backend.transaction():
                return self.backend.delete(slots)

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
        ns = validate.namespace_prefix(namespace)
        conditions = parse_filter(filter)
        qt = parse_time(query_time) if query_time is not None else time.time()
        if embeddings is None:
            vecs = (
                self.encoder.encode_queries(queries)
                if queries
                else np.zeros((0, self.encoder.dim), np.float32)
            )
        else:
            vecs = self._check_embeddings(embeddings, len(queries))
        with self._lock:
            reads = [ReadQuery(q, vecs[i], k, ns, conditions, qt) for i, q in enumerate(queries)]
            reader = self.backend.reader()
            hits = self.controller.read(reads, reader)
            # Through the reader: a controller may have fetched the rows it expected to return already.
            rows = reader.rows([h.slot for hs in hits for h in hs])
            records = self._records(list(rows.values()))
            for hs in hits if track_usage else ():
                for h in hs:
                    self._usage[h.slot] = self._usage.get(h.slot, 0.0) + h.weight
            if time.monotonic() - self._last_flush > self.config.usage_flush_s:
                with self.backend.transaction():
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
        explain = getattr(self.controller, "explain", None)
        if explain is None:
            raise InvalidInputError(
                f"controller {self.controller.name!r} cannot explain its reads; use 'learned' or 'cosine'"
            )
        ns = validate.namespace_prefix(namespace)
        conditions = parse_filter(filter)
        qt = parse_time(query_time) if query_time is not None else time.time()
        rows = {i: self._row(i) for i in ids}
        vec = self.encoder.encode_queries([query])[0]
        with self._lock:
            read = ReadQuery(query, vec, 1, ns, conditions, qt)
            found = explain(read, [r.slot for r in rows.values()], self.backend.reader())
            records = self._records(list(rows.values()))
        out = {}
        for i, row in rows.items():
            rank, hit = found.get(row.slot, (None, None))
            result = RecallResult(records[row.slot], hit.score, hit.weight, hit.why) if hit else None
            out[i] = Explanation(rank, result or RecallResult(records[row.slot], float("nan"), 0.0, {}))
        return out

    def get(self, id: str) -> MemoryRecord | None:
        self._check_open()
        row = self.backend.rows_by_id([id]).get(id)
        return None if row is None or _expired(row) else self._record(row)

    def history(self, id: str) -> list[MemoryVersion]:
        """Every version of a memory, oldest first; the last is the current one."""
        self._check_open()
        row = self._row(id)
        return [
            MemoryVersion(
                v["version"],
                v["text"],
                v["metadata"],
                to_datetime(v["event_time"]),
                to_datetime(v["updated_at"]),
            )
            for v in self.backend.history(row.slot)
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
        ns, conditions = validate.namespace_prefix(namespace), parse_filter(filter)
        rows = self.backend.select(
            namespace=ns, filter=conditions, now=time.time(), limit=limit, offset=offset
        )
        recs = self._records(rows)
        return [recs[r.slot] for r in rows]

    def count(
        self, *, namespace: Sequence[str] | str | None = None, filter: Mapping[str, Any] | None = None
    ) -> int:
        self._check_open()
        ns, conditions = validate.namespace_prefix(namespace), parse_filter(filter)
        return self.backend.count(namespace=ns, filter=conditions, now=time.time())

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
        self._check_open()
        found = []
        for ns in self.backend.namespace_counts(now=time.time()):
            if prefix and not validate.segments_match(ns[: len(prefix)], prefix):
                continue
            if suffix and (
                len(ns) < len(suffix) or not validate.segments_match(ns[len(ns) - len(suffix) :], suffix)
            ):
                continue
            found.append(ns[:max_depth] if max_depth is not None else ns)
        found = sorted(set(found))
        return found[offset : None if limit is None else offset + limit]

    def stats(self) -> dict[str, Any]:
        """Counts per namespace, encoder, index and disk use."""
        self._check_open()
        counts = self.backend.namespace_counts(now=time.time())
        storage = self.backend.describe()
        return {
            "path": str(self.path),
            "memories": sum(counts.values()),
            "namespaces": {"/".join(ns): n for ns, n in counts.items()},
            "encoder": self.encoder.name,
            "dim": self.encoder.dim,
            "index": storage["index"],
            "indexed": storage["indexed"],
            "controller": self.controller.name,
            "schema_version": storage["schema_version"],
            "bytes_on_disk": storage["bytes_on_disk"],
        }

    def __len__(self) -> int:
        self._check_open()
        return self.backend.count(now=time.time())

    def __iter__(self) -> Iterator[MemoryRecord]:
        offset, page = 0, 1000
        while batch := self.list(limit=page, offset=offset):
            yield from batch
            offset += page

    def __contains__(self, id: object) -> bool:
        return isinstance(id, str) and self.get(id) is not None

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Write pending usage, save the indexes, close the store. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._usage:
                    with self.backend.transaction():
                        self._flush_usage(time.time())
            finally:
                self.backend.close(save=not self._owns_dir)
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

    def _flush_usage(self, now: float) -> None:
        if self._usage:
            self.backend.add_usage({s: min(w, 1.0) for s, w in self._usage.items()}, now)
            self._usage.clear()
        self._last_flush = time.monotonic()

    def _row(self, id: str) -> SlotRow:
        row = self.backend.rows_by_id([id]).get(id)
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


def _expired(row: SlotRow) -> bool:
    return row.expires_at is not None and row.expires_at <= time.time()


__all__ = ["Memory", "MemoryConfig", "parse_time"]
