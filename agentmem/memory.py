"""Memory: the public API. remember / recall / explain / get / update / forget / history / list / stats.

Thin by design: it checks what a caller gives (validate.py, filters.py), encodes texts, asks the
controller what to write and how to read, and has the storage backend commit and answer. It owns
transactions and locking:

- Durability: `remember` returns only after its transaction committed (SQLite WAL with
  synchronous=FULL by default), so a returned id survives `kill -9` the moment after. Indexes are
  caches the backend keeps in step (storage/local/backend.py).
- Validation: every argument of every call is checked before anything is touched; a bad one raises an
  `InvalidInputError` naming it and the fix, and nothing is written. Failures of the store itself
  (damaged, gone, locked too long) raise the library's errors too, never a raw SQLite exception.
- Isolation: a call given a namespace reads, counts, explains and forgets only under that prefix.
- Concurrency: one `Memory` may be shared by threads: its lock serialises every call, except encoding,
  the slow part, which runs outside it; a call made after (or racing) `close` raises `ClosedError`.
  Several processes may open one store: a read first catches the caches up with what other processes
  committed, all in one snapshot of the database.
- Usage from reads is accumulated in memory and written with the next write transaction, on close, or
  every few seconds, so reads never wait on an fsync; a crash may lose a few seconds of usage, never a
  memory.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agentmem import validate
from agentmem.controller import (
    Controller,
    PendingWrite,
    ReadQuery,
    WriteDecision,
    controller_source,
    resolve_controller,
)
from agentmem.encoder import DEFAULT_MODEL, Encoder, EncoderConfig, LongTextPolicy, resolve_encoder
from agentmem.errors import (
    ClosedError,
    DuplicateIdError,
    EncoderMismatchError,
    IdInUseError,
    InvalidInputError,
    InvalidTypeError,
    NotFoundError,
    StorePathError,
)
from agentmem.filters import Filter, parse_filter
from agentmem.records import Explanation, MemoryRecord, MemoryVersion, RecallResult, to_datetime
from agentmem.storage import is_database_url, open_backend
from agentmem.storage.base import NewSlot, SlotRow
from agentmem.storage.local import LocalConfig
from agentmem.storage.postgres.config import PostgresConfig
from agentmem.text import speaker_of
from agentmem.validate import Namespace, TimeLike, parse_time

log = logging.getLogger("agentmem")


@dataclass
class MemoryConfig:
    """Everything a Memory is built from; keyword arguments of `Memory` override these.

    storage: the local backend's SQLite, dense index and lexical index settings.
    postgres: the PostgreSQL backend's settings, for a store opened by URL (docs/scale-out.md).
    default_namespace: where `remember` writes when no namespace is given.
    usage_flush_s: longest time read usage waits in memory before it is written.
    """

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    storage: LocalConfig = field(default_factory=LocalConfig)
    postgres: PostgresConfig = field(default_factory=PostgresConfig)
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
        if path is not None and not isinstance(path, (str, Path)):
            raise InvalidTypeError(
                f"path is a {type(path).__name__}; pass a directory path (str or Path) or a postgresql:// URL"
            )
        if index is not None and index not in ("auto", "flat", "hnsw"):
            raise InvalidInputError(f"unknown index kind {index!r}; use 'auto', 'flat' or 'hnsw'")
        create = validate.flag(create, "create")
        self.config = config or MemoryConfig()
        self._owns_dir = path is None
        # A store is a directory, or a database named by URL (kept as given, to open it again).
        self.path: Path | str
        try:
            if is_database_url(path):
                self.path, fresh = str(path), False
            else:
                self.path = Path(tempfile.mkdtemp(prefix="agentmem-")) if path is None else Path(path).expanduser()
                fresh = not self.path.exists()
        except (OSError, ValueError) as e:  # a NUL byte, a name too long, a path the system refuses
            raise StorePathError(f"cannot use {str(path)[:80]!r} as a store path ({e}); choose another path") from e
        self._lock = threading.RLock()
        self._closed = False
        self.backend = open_backend(
            self.path, local=self.config.storage, postgres=self.config.postgres, create=create
        )
        try:
            with self.backend.errors():
                self.encoder = self._open_encoder(encoder, device, long_text)
                self.backend.open_index(self.encoder.dim, index)
            # Checked now, loaded on first read or write: opening a store to list, count or refuse bad
            # input never pays for torch and the checkpoint.
            self._controller_source = controller_source(controller)
            self._controller: Controller | None = None
        except BaseException:
            self.backend.close(save=False)
            if fresh or self._owns_dir:  # a failed open leaves no empty store behind
                shutil.rmtree(self.path, ignore_errors=True)
            raise
        self._usage: dict[int, float] = {}
        self._last_flush = time.monotonic()

    @property
    def controller(self) -> Controller:
        """The controller deciding writes and reads; a learned one is loaded on first use."""
        if self._controller is None:
            with self._lock:
                if self._controller is None:
                    self._controller = resolve_controller(self._controller_source)
        return self._controller

    @controller.setter
    def controller(self, spec: Any) -> None:
        """Swap the controller of an open memory (a spec as `Memory(controller=...)` takes): what is
        stored does not change, only how later writes and reads are decided."""
        built = resolve_controller(spec)
        with self._lock:
            self._controller = built

    def _controller_name(self) -> str:
        if self._controller is not None:
            return self._controller.name
        source = self._controller_source
        return "learned" if isinstance(source, Path) else source.name

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
            self.backend.set_meta(encoder=encoder.name, dim=str(encoder.dim))
        elif recorded != encoder.name:  # told from the names alone: no model is loaded to refuse it
            raise EncoderMismatchError(
                f"store {self.backend.location()} was built with encoder {recorded} ({recorded_dim}-d) but this Memory uses "
                f"{encoder.name}; open it with encoder={recorded!r} or use another store"
            )
        elif int(recorded_dim or 0) != encoder.dim:
            raise EncoderMismatchError(
                f"store {self.backend.location()} was built with encoder {recorded} ({recorded_dim}-d) but {encoder.name} "
                f"gives {encoder.dim}-d vectors; open it with the encoder it was built with, or use another store"
            )
        return encoder

    @contextmanager
    def _call(self) -> Iterator[None]:
        """One call's hold on the memory: its lock, the check that it is open, and the store's failures
        as the library's errors."""
        with self._lock:
            self._check_open()
            with self.backend.errors():
                yield

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Memory]:
        """Group writes (`remember`, `update`, `forget`, `purge`, `restore`) into one atomic transaction:
        all of them are committed when the block ends, or none if it raises. The memory's lock is held
        throughout, so encode outside the block (pass `embeddings=`) to keep other threads waiting less.

        >>> with mem.transaction():                                              # doctest: +SKIP
        ...     mem.forget(["old-note"])
        ...     mem.remember("the new note", ids=["new-note"])
        """
        with self._call(), self.backend.transaction():
            yield self

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
        w = self._write_args(texts, namespace, metadata, event_time, ids, ttl, index)
        items, ns, ids = w.items, w.namespace, w.ids
        vectors: np.ndarray | None = None
        if w.index:
            vectors = (
                self.encoder.encode(items)
                if embeddings is None
                else validate.embeddings(embeddings, len(items), self.encoder.dim)
            )

        with self._call():
            existing = self.backend.rows_by_id(ids) if ids is not None else {}
            self._same_namespace(existing, ns, ids)
            pending = w.pending(vectors)
            decisions = self._plan(pending, ids, existing)
            now = time.time()
            with self.backend.transaction():
                out = self._apply(decisions, pending, ids, w.expiry, now)
                self._flush_usage(now)
        return out

    def _write_args(self, texts, namespace, metadata, event_time, ids, ttl, index) -> _WriteArgs:
        """`remember`'s arguments checked, all of them before anything is encoded or written."""
        items = validate.texts(texts)
        n = len(items)
        ns = validate.namespace(namespace) if namespace is not None else self.config.default_namespace
        metas = [
            validate.metadata(m, f"metadata[{i}]" if n > 1 else "metadata")
            for i, m in enumerate(validate.per_item(metadata, n, "metadata", default={}))
        ]
        times = [
            parse_time(t, "event_time") for t in validate.per_item(event_time, n, "event_time", default=None)
        ]
        expiry = validate.ttl(ttl, time.time())
        index = validate.flag(index, "index")
        if ids is not None:
            ids = validate.identifiers(ids)
            if len(ids) != n:
                raise InvalidInputError(f"got {len(ids)} ids for {n} texts; pass one id per text")
            if len(set(ids)) != n:
                dup = next(i for i in ids if ids.count(i) > 1)
                raise DuplicateIdError(f"id {dup!r} appears twice in one remember call; ids must be unique")
        return _WriteArgs(items, ns, metas, times, expiry, index, ids)

    @staticmethod
    def _same_namespace(existing: Mapping[str, SlotRow], ns: Namespace, ids: Sequence[str] | None) -> None:
        """Refuse a caller's id that already lives in another namespace: the first such id in the order
        given (a backend returns rows in an order of its own)."""
        for i in ids or ():
            row = existing.get(i)
            if row is not None and row.namespace != ns:
                raise IdInUseError(
                    f"id {i!r} exists in namespace {row.namespace}, not {ns}; forget it first to move it", i
                )

    @staticmethod
    def _forget_args(ids, namespace, filter, everything) -> tuple[list[str] | None, Namespace | None, Filter]:
        """`forget`'s arguments checked: (ids, namespace prefix, filter conditions)."""
        everything = validate.flag(everything, "everything")
        id_list = None if ids is None else validate.identifiers(ids)
        ns = validate.namespace_prefix(namespace)
        conditions = parse_filter(filter)
        if everything and (id_list is not None or ns is not None or conditions):
            raise InvalidInputError("everything=True forgets every memory; pass it without ids, namespace or filter")
        if not everything and id_list is None and ns is None and not conditions:
            raise InvalidInputError(
                "forget needs ids, a namespace or a non-empty filter; to empty the whole store pass everything=True"
            )
        return id_list, ns, conditions

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
        new_rows: list[tuple[int, NewSlot]] = []  # allocations not inserted yet: a run goes in as one

        def insert_new() -> None:
            slots = self.backend.insert([row for _, row in new_rows], now)
            slot_of.update(zip((i for i, _ in new_rows), slots, strict=True))
            new_rows.clear()

        for i, (d, p) in enumerate(zip(decisions, pending, strict=True)):
            speaker = speaker_of(p.text, p.metadata)
            if d.op == "new":
                new_id = ids[i] if ids is not None else uuid.uuid4().hex
                new_rows.append(
                    (i, NewSlot(new_id, p.namespace, p.text, dict(p.metadata), p.event_time, p.vector, speaker, ttl=ttl))
                )
                out.append(new_id)
                continue
            if new_rows:
                insert_new()  # an update relinks after them, or targets one of them
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
        if new_rows:
            insert_new()
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
        for i, entry in enumerate(entries):
            if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], MemoryRecord)):
                raise InvalidTypeError(f"entry {i} is not a (MemoryRecord, [MemoryVersion, ...]) pair")
            rec = entry[0]
            validate.identifier(rec.id, f"entry {i}'s id")
            validate.text(rec.text, f"entry {i}'s text")
            validate.metadata(rec.metadata, f"entry {i}'s metadata")
        indexed = [i for i, (r, _) in enumerate(entries) if r.indexed]
        vectors = self.encoder.encode([entries[i][0].text for i in indexed]) if indexed else None
        vec_of = {i: vectors[j] for j, i in enumerate(indexed)} if vectors is not None else {}
        ts = lambda d: None if d is None else parse_time(d)  # noqa: E731
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
        with self._call():
            clash = self.backend.rows_by_id([r.id for r, _ in entries])
            if clash:
                raise DuplicateIdError(
                    f"id {next(iter(clash))!r} is already in the store; restore into an empty store"
                )
            with self.backend.transaction():
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
        namespace: Sequence[str] | str | None = None,
    ) -> MemoryRecord:
        """Change a memory's text, metadata or event time; the previous version goes to `history`.
        With `namespace`, only a memory under that prefix is changed (others raise NotFoundError)."""
        self._check_open()
        id = validate.identifier(id)
        if text is None and metadata is None and event_time is None:  # a version that changes nothing
            raise InvalidInputError("update needs a new text, metadata or event_time; pass at least one")
        new_text = None if text is None else validate.text(text)
        meta = None if metadata is None else validate.metadata(metadata)
        when = parse_time(event_time, "event_time")
        ns = validate.namespace_prefix(namespace)
        with self._call():
            indexed = self._row(id, namespace=ns).indexed
        vector = self.encoder.encode([new_text])[0] if new_text is not None and indexed else None
        with self._call():
            row = self._row(id, namespace=ns)
            if vector is None and row.indexed:
                vector = self.backend.vectors([row.slot])[0]
            text_now = row.text if new_text is None else new_text
            meta_now = dict(row.metadata if meta is None else meta)
            with self.backend.transaction():
                self.backend.update(
                    row.slot,
                    text=text_now,
                    metadata=meta_now,
                    speaker=speaker_of(text_now, meta_now),
                    event_time=row.event_time if when is None else when,
                    vector=vector if row.indexed else None,
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
        everything: bool = False,
    ) -> int:
        """Delete memories (and their past versions): by id, or all matching a namespace prefix and/or a
        metadata filter; ids given with a namespace are deleted only if they are under it. Emptying the
        whole store takes `everything=True`. The forgotten texts are overwritten in the database and
        its log (docs/api-contract.md, Erasure). Returns how many memories went."""
        self._check_open()
        id_list, ns, conditions = self._forget_args(ids, namespace, filter, everything)
        with self._call():
            if id_list is not None:
                rows = self.backend.rows_by_id(id_list).values()
                slots = [r.slot for r in rows if self._in_scope(r, ns, conditions)]
            else:
                slots = self.backend.select_slots(namespace=ns, filter=conditions)
            with self.backend.transaction():
                return self.backend.delete(slots)

    def purge(
        self, ids: str | Sequence[str] | None = None, *, namespace: Sequence[str] | str | None = None
    ) -> int:
        """Delete the past versions (`history`) of memories, keeping their current ones: by id, or all
        under a namespace prefix (None: the whole store). Their texts are overwritten as `forget`'s are.
        Returns how many versions went."""
        self._check_open()
        id_list = None if ids is None else validate.identifiers(ids)
        ns = validate.namespace_prefix(namespace)
        with self._call():
            if id_list is not None:
                slots = [r.slot for r in self.backend.rows_by_id(id_list).values() if self._in_scope(r, ns, ())]
            else:
                slots = self.backend.select_slots(namespace=ns)
            with self.backend.transaction():
                return self.backend.purge_history(slots)

    def refresh_ttl(self, ids: Sequence[str]) -> None:
        """Restart the expiry clock of memories stored with a ttl."""
        self._check_open()
        id_list = validate.identifiers(ids)
        with self._call():
            slots = [r.slot for r in self.backend.rows_by_id(id_list).values()]
            with self.backend.transaction():
                self.backend.refresh_ttl(slots, time.time())

    def sweep_expired(self) -> int:
        """Delete every memory whose ttl ran out; returns how many."""
        with self._call():
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
        if embedding is not None:
            try:
                embedding = np.asarray(embedding, dtype=np.float32).reshape(1, -1)
            except (TypeError, ValueError):
                raise InvalidTypeError(f"embedding is not a vector of numbers; pass a ({self.encoder.dim},) array") from None
            embedding = validate.embeddings(embedding, 1, self.encoder.dim, "embedding")
        hits = self.recall_many(
            [validate.text(query, "query", stored=False)],
            k,
            namespace=namespace,
            filter=filter,
            query_time=query_time,
            embeddings=embedding,
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
        if isinstance(queries, str) or not isinstance(queries, Sequence):
            raise InvalidTypeError(f"queries is a {type(queries).__name__}; pass a list of strings")
        queries = [validate.text(q, f"query {i}", stored=False) for i, q in enumerate(queries)]
        k = validate.k(k)
        ns = validate.namespace_prefix(namespace)
        conditions = parse_filter(filter)
        qt = parse_time(query_time, "query_time") if query_time is not None else time.time()
        track_usage = validate.flag(track_usage, "track_usage")
        if ns is not None and not self._any_under(ns):
            # Nothing to find: skip encoding (and loading the encoder and controller) altogether.
            return [[] for _ in queries]
        if embeddings is None:
            vecs = (
                self.encoder.encode_queries(queries) if queries else np.zeros((0, self.encoder.dim), np.float32)
            )
        else:
            vecs = validate.embeddings(embeddings, len(queries), self.encoder.dim)
        with self._call():
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

    def _any_under(self, ns: Namespace) -> bool:
        """Whether any live memory is under the namespace prefix (an indexed probe, not a count)."""
        with self._call():
            return self.backend.any(namespace=ns, now=time.time())

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
        contribution, whether or not it would make a recall's top k. Only memories under the namespace
        and filter are explained (others raise NotFoundError, as missing ones do). Reads leave usage
        untouched."""
        self._check_open()
        query = validate.text(query, "query", stored=False)
        id_list = validate.identifiers(ids)
        ns = validate.namespace_prefix(namespace)
        conditions = parse_filter(filter)
        qt = parse_time(query_time, "query_time") if query_time is not None else time.time()
        explain = getattr(self.controller, "explain", None)
        if explain is None:
            raise InvalidInputError(
                f"controller {self.controller.name!r} cannot explain its reads; use 'learned' or 'cosine'"
            )
        with self._call():
            rows = {i: self._row(i, namespace=ns, filter=conditions) for i in id_list}
        vec = self.encoder.encode_queries([query])[0]
        with self._call():
            read = ReadQuery(query, vec, 1, ns, conditions, qt)
            found = explain(read, [r.slot for r in rows.values()], self.backend.reader())
            records = self._records(list(rows.values()))
        out = {}
        for i, row in rows.items():
            rank, hit = found.get(row.slot, (None, None))
            result = RecallResult(records[row.slot], hit.score, hit.weight, hit.why) if hit else None
            out[i] = Explanation(rank, result or RecallResult(records[row.slot], float("nan"), 0.0, {}))
        return out

    def get(self, id: str, *, namespace: Sequence[str] | str | None = None) -> MemoryRecord | None:
        """The memory with this id (None when there is none, it expired, or it is not under `namespace`)."""
        self._check_open()
        id = validate.identifier(id)
        ns = validate.namespace_prefix(namespace)
        with self._call():
            row = self.backend.rows_by_id([id]).get(id)
            return self._record(row) if row is not None and self._in_scope(row, ns, ()) else None

    def ids_with_prefix(
        self, prefix: str, *, namespace: Sequence[str] | str | None = None, limit: int = 2
    ) -> list[str]:
        """Up to `limit` ids (sorted) that start with `prefix`, under `namespace`: how a shortened id
        (`agentmem show 3f2a9c1b`) finds its memory, and tells when it is ambiguous."""
        self._check_open()
        prefix = validate.identifier(prefix, "prefix")
        ns = validate.namespace_prefix(namespace)
        limit = validate.count(limit, "limit", minimum=1, maximum=validate.MAX_K)
        with self._call():
            return self.backend.ids_with_prefix(prefix, namespace=ns, now=time.time(), limit=limit)

    def history(self, id: str) -> list[MemoryVersion]:
        """Every version of a memory, oldest first; the last is the current one."""
        self._check_open()
        id = validate.identifier(id)
        with self._call():
            row = self._row(id)
            versions = self.backend.history(row.slot)
        return [
            MemoryVersion(
                v["version"],
                v["text"],
                v["metadata"],
                to_datetime(v["event_time"]),
                to_datetime(v["updated_at"]),
            )
            for v in versions
        ]

    def list(
        self,
        *,
        namespace: Sequence[str] | str | None = None,
        filter: Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int | None = 0,
    ) -> list[MemoryRecord]:
        """Memories under a namespace prefix matching a metadata filter, in write order."""
        self._check_open()
        ns, conditions = validate.namespace_prefix(namespace), parse_filter(filter)
        limit, offset = validate.limit(limit), validate.offset(offset)
        with self._call():
            rows = self.backend.select(namespace=ns, filter=conditions, now=time.time(), limit=limit, offset=offset)
            recs = self._records(rows)
        return [recs[r.slot] for r in rows]

    def count(
        self, *, namespace: Sequence[str] | str | None = None, filter: Mapping[str, Any] | None = None
    ) -> int:
        """How many memories are under a namespace prefix and match a metadata filter."""
        self._check_open()
        ns, conditions = validate.namespace_prefix(namespace), parse_filter(filter)
        with self._call():
            return self.backend.count(namespace=ns, filter=conditions, now=time.time())

    def namespaces(
        self,
        *,
        prefix: Sequence[str] | None = None,
        suffix: Sequence[str] | None = None,
        max_depth: int | None = None,
        limit: int | None = None,
        offset: int | None = 0,
    ) -> list[Namespace]:
        """Distinct namespaces, sorted; prefix/suffix segments may be "*" (any one segment)."""
        self._check_open()
        prefix = None if prefix is None else validate.namespace(prefix)
        suffix = None if suffix is None else validate.namespace(suffix)
        max_depth = None if max_depth is None else validate.count(max_depth, "max_depth", minimum=1)
        limit, offset = validate.limit(limit), validate.offset(offset)
        with self._call():
            counts = self.backend.namespace_counts(now=time.time())
        found = []
        for ns in counts:
            if prefix and not validate.segments_match(ns[: len(prefix)], prefix):
                continue
            if suffix and (len(ns) < len(suffix) or not validate.segments_match(ns[len(ns) - len(suffix) :], suffix)):
                continue
            found.append(ns[:max_depth] if max_depth is not None else ns)
        found = sorted(set(found))
        return found[offset : None if limit is None else offset + limit]

    def stats(self) -> dict[str, Any]:
        """Counts per namespace (keyed by namespace tuple), encoder, index and disk use. Reads the
        database only: the indexes are not loaded for it."""
        with self._call():
            counts = self.backend.namespace_counts(now=time.time())
            storage = self.backend.describe()
        return {
            "path": self.backend.location(),
            "memories": sum(counts.values()),
            "namespaces": counts,
            "encoder": self.encoder.name,
            "dim": self.encoder.dim,
            "index": storage["index"],
            "indexed": storage["indexed"],
            "controller": self._controller_name(),
            "schema_version": storage["schema_version"],
            "bytes_on_disk": storage["bytes_on_disk"],
        }

    def compact(self) -> None:
        """Reclaim the space of deleted memories: rewrite the database and the caches without it."""
        with self._call():
            self.backend.compact()

    def check(self, *, repair: bool = False) -> list[str]:
        """Check the database's integrity and each cache against it; the problems found (empty: none).
        With `repair`, caches that cannot be trusted are rebuilt from the database."""
        repair = validate.flag(repair, "repair")
        with self._call():
            return self.backend.check(repair=repair)

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[MemoryRecord]:
        offset, page = 0, 1000
        while batch := self.list(limit=page, offset=offset):
            yield from batch
            offset += page

    def __contains__(self, id: object) -> bool:
        try:
            return self.get(id) is not None  # type: ignore[arg-type]
        except InvalidInputError:  # not a possible id: not in the store
            return False

    # -- asyncio (agentmem/aio.py: on a PostgreSQL store the database round trips are awaited) ----

    async def aremember(
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
        """`remember`, for asyncio."""
        from agentmem import aio

        return await aio.aremember(
            self, texts, namespace=namespace, metadata=metadata, event_time=event_time, ids=ids, ttl=ttl,
            index=index, embeddings=embeddings,
        )

    async def arecall(
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
        """`recall`, for asyncio."""
        from agentmem import aio

        return await aio.arecall(
            self, query, k, namespace=namespace, filter=filter, query_time=query_time, embedding=embedding,
            track_usage=track_usage,
        )

    async def aget(self, id: str, *, namespace: Sequence[str] | str | None = None) -> MemoryRecord | None:
        """`get`, for asyncio."""
        from agentmem import aio

        return await aio.aget(self, id, namespace=namespace)

    async def aforget(
        self,
        ids: str | Sequence[str] | None = None,
        *,
        namespace: Sequence[str] | str | None = None,
        filter: Mapping[str, Any] | None = None,
        everything: bool = False,
    ) -> int:
        """`forget`, for asyncio."""
        from agentmem import aio

        return await aio.aforget(self, ids, namespace=namespace, filter=filter, everything=everything)

    async def alist(
        self,
        *,
        namespace: Sequence[str] | str | None = None,
        filter: Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int | None = 0,
    ) -> list[MemoryRecord]:
        """`list`, for asyncio."""
        from agentmem import aio

        return await aio.alist(self, namespace=namespace, filter=filter, limit=limit, offset=offset)

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Write pending usage, save the indexes, close the store. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._usage:
                    with self.backend.errors(), self.backend.transaction():
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
            f"Memory({self.backend.location()!r}, encoder={self.encoder.name!r}, controller={self._controller_name()!r})"
        )

    # -- internals -----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError("this Memory is closed; open a new Memory(path)")

    def _flush_usage(self, now: float) -> None:
        if self._usage:
            self.backend.add_usage({s: min(w, 1.0) for s, w in self._usage.items()}, now)
            self._usage.clear()
        self._last_flush = time.monotonic()

    def _in_scope(self, row: SlotRow, namespace: Namespace | None, filter: Filter) -> bool:
        """Whether a row is unexpired, under the namespace prefix and matching the filter."""
        if _expired(row) or (namespace is not None and row.namespace[: len(namespace)] != namespace):
            return False
        return not filter or bool(self.backend.select_slots(filter=filter, slots=[row.slot]))

    def _row(self, id: str, *, namespace: Namespace | None = None, filter: Filter = ()) -> SlotRow:
        row = self.backend.rows_by_id([id]).get(id)
        if row is None or not self._in_scope(row, namespace, filter):
            where = " and".join(
                part for part, given in ((" under that namespace", namespace is not None), (" matching that filter", filter)) if given
            )
            raise NotFoundError(f"no memory with id {id!r}{where}; find ids with recall or list")
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


@dataclass
class _WriteArgs:
    """A `remember` call's checked arguments (Memory._write_args)."""

    items: list[str]
    namespace: Namespace
    metadata: list[dict[str, Any]]
    event_time: list[float | None]
    expiry: float | None
    index: bool
    ids: list[str] | None

    def pending(self, vectors: np.ndarray | None) -> list[PendingWrite]:
        """The writes, each with its key `(d,)` from `vectors (n, d)` (None: not indexed)."""
        return [
            PendingWrite(text, self.namespace, self.metadata[i], self.event_time[i], None if vectors is None else vectors[i])
            for i, text in enumerate(self.items)
        ]


def _expired(row: SlotRow) -> bool:
    return row.expires_at is not None and row.expires_at <= time.time()


__all__ = ["Memory", "MemoryConfig", "parse_time"]
