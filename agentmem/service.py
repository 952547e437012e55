"""The memory as a service: each operation takes JSON arguments and returns one JSON document.

The MCP server's tools and the HTTP API that the `agentmem` CLI uses when a server runs
(`agentmem serve`, server.py) are both this class, so they share one set of checks and the shapes of
docs/cli-json.md (Record, Result, Version, Explanation). Arguments are checked by `Memory` itself;
what arrives as text is read as the command line reads it (notation.py): a namespace is
`"user-42/notes"` or `["user-42", "notes"]`, a time is ISO 8601 or unix seconds.

Scope: a service may be confined to a namespace prefix (`agentmem serve --scope user-42`). Every
namespace a client names is then taken under that prefix and every namespace it is shown is written
without it, so a client cannot name, read, change or forget a memory outside the scope, and no answer
names a namespace outside it. Ids are one per store: an id a memory in another namespace holds is
refused by `remember` with one message, whether that memory is inside the scope or outside it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentmem import notation, validate
from agentmem.errors import (
    IdInUseError,
    InputTooLargeError,
    InvalidInputError,
    InvalidTypeError,
    NotFoundError,
)
from agentmem.records import MemoryRecord

if TYPE_CHECKING:
    from agentmem.memory import Memory

Namespace = tuple[str, ...]

# What one call may ask of a service. Encoding is the cost of a write (a short text or a 256-token
# window of a long one each costs a model pass), so a call is bounded by its texts and their
# characters: at these limits a call takes seconds on a laptop's CPU, and about a minute at worst on
# two busy cores, instead of holding the server for as long as a 64 MiB request takes to encode. A
# client with more sends several calls (the CLI's `add` does).
MAX_CALL_TEXTS = 1_000
MAX_CALL_CHARS = 1_000_000
MAX_CALL_IDS = 10_000


@dataclass(frozen=True)
class ServiceConfig:
    """scope: the namespace prefix every call is confined to (empty: the whole store).
    default_namespace: where `remember` writes when the client names no namespace (under the scope).
    default_k: how many memories `recall` returns when the client does not say.
    default_limit: the page size of `list` when the client does not say.
    max_texts, max_chars: the most texts, and characters of text in all, one `remember` takes.
    max_ids: the most ids one `forget` or `explain` takes.
    """

    scope: Namespace = ()
    default_namespace: Namespace = ("default",)
    default_k: int = 5
    default_limit: int = 20
    max_texts: int = MAX_CALL_TEXTS
    max_chars: int = MAX_CALL_CHARS
    max_ids: int = MAX_CALL_IDS


class MemoryService:
    """JSON operations over one open `Memory`; see the module docstring. Thread-safe as `Memory` is."""

    OPERATIONS = (
        "remember",
        "recall",
        "get",
        "update",
        "forget",
        "list",
        "namespaces",
        "explain",
        "stats",
        "ids_with_prefix",
    )

    def __init__(self, memory: Memory, config: ServiceConfig | None = None) -> None:
        self.memory = memory
        self.config = config or ServiceConfig()
        if self.config.scope:
            validate.namespace(self.config.scope)

    # -- dispatch ------------------------------------------------------------------------------

    def call(self, operation: str, arguments: Any) -> dict[str, Any]:
        """Run one operation by name with a JSON object of arguments (the HTTP API's entry)."""
        if operation not in self.OPERATIONS:
            raise NotFoundError(f"no operation {operation!r}; the operations are {', '.join(self.OPERATIONS)}")
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise InvalidTypeError(f"the arguments of {operation} are a JSON object, not {type(arguments).__name__}")
        method: Callable[..., dict[str, Any]] = getattr(self, operation)
        params = inspect.signature(method).parameters
        unknown = sorted(set(arguments) - set(params))
        if unknown:
            raise InvalidInputError(
                f"{operation} has no argument {unknown[0]!r}; its arguments are {', '.join(params) or 'none'}"
            )
        missing = [n for n, p in params.items() if p.default is inspect.Parameter.empty and n not in arguments]
        if missing:
            raise InvalidInputError(f"{operation} needs the argument {missing[0]!r}")
        return method(**arguments)

    # -- scope ---------------------------------------------------------------------------------

    def _inside(self, value: Any, where: str) -> Namespace | None:
        """A namespace a client named -> the store's namespace (under the scope); None stays None."""
        if value is None:
            return None
        ns = notation.parse_namespace(value, where=where)
        room = validate.MAX_NAMESPACE_DEPTH - len(self.config.scope)
        if len(ns) > room:  # said in the client's terms: the scope is not theirs to see
            raise InvalidInputError(f"{where}: a namespace here has at most {room} segments, got {len(ns)}; use fewer")
        return self.config.scope + ns

    def _prefix(self, value: Any, where: str = "namespace") -> Namespace | None:
        """A namespace prefix to read under: the client's, or the scope itself when it names none."""
        ns = self._inside(value, where)
        return ns if ns is not None else (self.config.scope or None)

    def _shown(self, namespace: Namespace) -> list[str]:
        return list(namespace[len(self.config.scope) :])

    def _record(self, record: MemoryRecord) -> dict[str, Any]:
        return {**record.to_dict(), "namespace": self._shown(record.namespace)}

    def _few_ids(self, operation: str, ids: Any) -> None:
        if isinstance(ids, list) and len(ids) > self.config.max_ids:
            raise InputTooLargeError(
                f"{operation} got {len(ids):,} ids, over this server's {self.config.max_ids:,} per call; "
                "send them in several calls"
            )

    # -- operations ----------------------------------------------------------------------------

    def remember(
        self,
        texts: Any,
        namespace: Any = None,
        metadata: Any = None,
        event_time: Any = None,
        ids: Any = None,
        ttl: Any = None,
    ) -> dict[str, Any]:
        """Store texts; `{"ids": [...]}` in input order, each durable when returned."""
        if isinstance(texts, list):
            if len(texts) > self.config.max_texts:
                raise InputTooLargeError(
                    f"remember got {len(texts):,} texts, over this server's {self.config.max_texts:,} per call; "
                    "send them in several calls"
                )
            chars = sum(len(t) for t in texts if isinstance(t, str))
            if chars > self.config.max_chars:
                raise InputTooLargeError(
                    f"remember got {chars:,} characters of text, over this server's {self.config.max_chars:,} "
                    "per call; send them in several calls"
                )
        ns = self._inside(namespace, "namespace")
        if ns is None:
            ns = self.config.scope + self.config.default_namespace
        if isinstance(event_time, list):
            when: Any = [notation.parse_event_time(t, where=f"event_time {i}") for i, t in enumerate(event_time)]
        else:
            when = notation.parse_event_time(event_time, where="event_time")
        try:
            written = self.memory.remember(texts, namespace=ns, metadata=metadata, event_time=when, ids=ids, ttl=ttl)
        except IdInUseError as e:
            if not self.config.scope:
                raise
            # The library's message names the namespace holding the id, which may lie outside the
            # scope. Ids are one per store, so a refusal cannot be avoided, but it is the same
            # whether the id is held in another of the client's namespaces or outside them.
            raise IdInUseError(f"id {e.id!r} is taken by a memory in another namespace; choose another id", e.id) from None
        return {"ids": written}

    def recall(self, query: Any, k: Any = None, namespace: Any = None, filter: Any = None) -> dict[str, Any]:
        """The k memories most relevant to `query`, best first, with score, weight and why."""
        k = self.config.default_k if k is None else k
        results = self.memory.recall(query, k=k, namespace=self._prefix(namespace), filter=filter)
        return {
            "query": query,
            "k": k,
            "namespace": None if namespace is None else list(notation.parse_namespace(namespace, where="namespace")),
            "filter": filter,
            "results": [
                {"score": r.score, "weight": r.weight, "why": r.why, **self._record(r.record)} for r in results
            ],
        }

    def get(self, id: Any, history: Any = False) -> dict[str, Any]:
        """One memory, and with `history` every version of it (oldest first)."""
        record = self.memory.get(id, namespace=self.config.scope or None)
        if record is None:
            raise NotFoundError(f"no memory with id {id!r}; find ids with recall or list")
        out: dict[str, Any] = {"record": self._record(record)}
        if validate.flag(history, "history"):
            out["history"] = [v.to_dict() for v in self.memory.history(record.id)]
        return out

    def update(self, id: Any, text: Any = None, metadata: Any = None, event_time: Any = None) -> dict[str, Any]:
        """Change a memory's text, metadata or event time, keeping the old version in its history."""
        when = notation.parse_event_time(event_time, where="event_time")
        record = self.memory.update(
            id, text=text, metadata=metadata, event_time=when, namespace=self.config.scope or None
        )
        return {"record": self._record(record)}

    def forget(self, ids: Any = None, namespace: Any = None, filter: Any = None) -> dict[str, Any]:
        """Delete memories by id, or every memory under a namespace and/or matching a filter. A call
        naming none of them is refused: a service never empties the whole store."""
        self._few_ids("forget", ids)
        if ids is None and namespace is None and not filter:
            raise InvalidInputError(
                "forget needs ids, a namespace or a non-empty filter; a server never forgets everything at once"
            )
        prefix = self._prefix(namespace)
        if ids is not None:
            wanted = list(dict.fromkeys(validate.identifiers(ids)))
            found = {i for i in wanted if self.memory.get(i, namespace=prefix) is not None}
            n = self.memory.forget([i for i in wanted if i in found], namespace=prefix, filter=filter) if found else 0
            return {"forgotten": n, "not_found": [i for i in wanted if i not in found]}
        return {"forgotten": self.memory.forget(namespace=prefix, filter=filter), "not_found": []}

    def list(self, namespace: Any = None, filter: Any = None, limit: Any = None, offset: Any = 0) -> dict[str, Any]:
        """A page of memories in write order, with how many match in all."""
        prefix = self._prefix(namespace)
        limit = self.config.default_limit if limit is None else limit
        records = self.memory.list(namespace=prefix, filter=filter, limit=limit, offset=offset)
        total = self.memory.count(namespace=prefix, filter=filter)
        return {"total": total, "offset": offset, "limit": limit, "items": [self._record(r) for r in records]}

    def namespaces(self, prefix: Any = None, max_depth: Any = None) -> dict[str, Any]:
        """The namespaces holding memories, each with its count; `max_depth` folds deeper ones into
        their ancestor at that depth."""
        under = self._prefix(prefix, "prefix") or ()
        if max_depth is not None:
            max_depth = validate.count(max_depth, "max_depth", minimum=1)
        counts: dict[Namespace, int] = {}
        for ns, n in self.memory.stats()["namespaces"].items():
            if ns[: len(under)] != under:
                continue
            shown = tuple(self._shown(ns))
            key = shown[:max_depth] if max_depth is not None else shown
            counts[key] = counts.get(key, 0) + n
        return {"namespaces": [{"namespace": list(ns), "memories": n} for ns, n in sorted(counts.items())]}

    def explain(self, query: Any, ids: Any, namespace: Any = None, filter: Any = None) -> dict[str, Any]:
        """Why each memory ranks where it does for `query`, whether or not it makes the top k."""
        self._few_ids("explain", ids)
        found = self.memory.explain(query, ids, namespace=self._prefix(namespace), filter=filter)
        explanations = {}
        for i, e in found.items():
            d = e.to_dict()
            explanations[i] = {**d, "namespace": self._shown(e.result.record.namespace)}
        return {"query": query, "explanations": explanations}

    def stats(self) -> dict[str, Any]:
        """Counts per namespace, encoder, index and controller (and, unscoped, the store's path and size)."""
        info = self.memory.stats()
        scope = self.config.scope
        counts = {ns: n for ns, n in info["namespaces"].items() if ns[: len(scope)] == scope}
        out = {
            **info,
            "memories": sum(counts.values()),
            "namespaces": [{"namespace": self._shown(ns), "memories": n} for ns, n in sorted(counts.items())],
            "scope": list(scope),
        }
        if scope:  # the store beyond the scope is none of the client's business
            for key in ("path", "indexed", "bytes_on_disk"):
                out.pop(key, None)
        return out

    def ids_with_prefix(self, prefix: Any, limit: Any = 2) -> dict[str, Any]:
        """Ids starting with `prefix` (at most `limit`): how a shortened id is completed."""
        return {"ids": self.memory.ids_with_prefix(prefix, namespace=self.config.scope or None, limit=limit)}
