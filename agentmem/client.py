"""A client of a running agentmem server (`agentmem serve`): the `Memory` calls the CLI makes, over HTTP.

`RemoteMemory(url)` answers `remember`, `recall`, `get`, `history`, `update`, `explain`, `list`,
`count`, `namespaces`, `forget`, `ids_with_prefix` and `stats` like a local `Memory`, with the same
records and the same errors (the server sends each error's type and one-line message, and they are
raised here as that type). It imports only the standard library and agentmem's light modules, so a
command that talks to a warm server answers in about 0.1 s instead of seconds of loading a model.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from agentmem import errors
from agentmem.errors import AgentMemError, InvalidInputError, NotFoundError, ServerError
from agentmem.records import Explanation, MemoryRecord, MemoryVersion, RecallResult

Namespace = tuple[str, ...]


def _time(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class RemoteMemory:
    """The HTTP API of an agentmem server at `url` (e.g. http://127.0.0.1:7733), as a `Memory`.

    token: sent as `Authorization: Bearer <token>` (default: $AGENTMEM_SERVER_TOKEN).
    timeout: seconds to wait for an answer.
    """

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 300.0) -> None:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInputError(f"server URL {url!r} is not http://HOST:PORT; e.g. http://127.0.0.1:7733")
        self.url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self._https = parts.scheme == "https"
        self._host, self._port, self._base = parts.hostname, parts.port, parts.path.rstrip("/")
        self._token = token if token is not None else os.environ.get("AGENTMEM_SERVER_TOKEN")
        if self._token is not None and not self._token.isascii():
            raise InvalidInputError("the server token holds characters an HTTP header cannot carry; use ASCII")
        self._timeout = timeout

    # -- transport -----------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        try:
            if self._https:
                status, raw = self._exchange_tls(method, self._base + path, data, headers)
            else:
                status, raw = self._exchange(method, self._base + path, data, headers)
        except OSError as e:
            reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
            raise ServerError(
                f"no agentmem server answers at {self.url} ({reason}); start one with `agentmem serve`, "
                "or unset AGENTMEM_SERVER to open the store directly"
            ) from None
        try:
            payload = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            payload = None
        if not isinstance(payload, dict) or not ("result" in payload or "error" in payload):
            raise ServerError(
                f"{self.url} answered HTTP {status} without the agentmem API; is AGENTMEM_SERVER "
                "the address `agentmem serve` printed?"
            )
        if "error" in payload:
            error = payload["error"]
            cls_ = getattr(errors, str(error.get("type")), None)
            if not (isinstance(cls_, type) and issubclass(cls_, AgentMemError)):
                cls_ = ServerError
            raise cls_(str(error.get("message")))
        return payload["result"]

    def _exchange(self, method: str, path: str, data: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """One HTTP/1.1 exchange on a fresh connection, the answer read to the server's close.

        A socket, not http.client: its imports (email, ssl) alone cost a CLI command 20 ms, a fifth of
        what a warm `agentmem recall` may take. The server's answers are one JSON body each, sized by
        Content-Length and followed by the close this request asks for.
        """
        host = f"[{self._host}]" if ":" in self._host else self._host
        lines = [f"{method} {path or '/'} HTTP/1.1", f"Host: {host}:{self._port or 80}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in {**headers, "Content-Length": str(len(data))}.items()]
        with socket.create_connection((self._host, self._port or 80), timeout=self._timeout) as conn:
            conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)
            chunks = []
            while chunk := conn.recv(1 << 16):
                chunks.append(chunk)
        head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].split()
        if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/") or not status_line[1].isdigit():
            return 0, b""
        return int(status_line[1]), body

    def _exchange_tls(self, method: str, path: str, data: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """The same exchange over TLS (a server behind an https proxy), through http.client."""
        import http.client

        conn = http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout)
        try:
            conn.request(method, path or "/", body=data, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def _call(self, operation: str, **arguments: Any) -> Any:
        return self._request("POST", f"/v1/{operation}", {k: v for k, v in arguments.items() if v is not None})

    def info(self) -> dict[str, Any]:
        """What the server is: {"agentmem": version, "store": path (None when scoped), "scope": [...], ...}."""
        return self._request("GET", "/v1")

    # -- the Memory API ------------------------------------------------------------------------

    def remember(
        self,
        texts: str | Sequence[str],
        *,
        namespace: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        event_time: Any = None,
        ids: Sequence[str] | None = None,
        ttl: float | None = None,
    ) -> list[str]:
        when = [_time(t) for t in event_time] if isinstance(event_time, (list, tuple)) else _time(event_time)
        result = self._call(
            "remember",
            texts=texts if isinstance(texts, str) else list(texts),
            namespace=None if namespace is None else list(namespace),
            metadata=metadata if metadata is None or isinstance(metadata, Mapping) else list(metadata),
            event_time=when,
            ids=None if ids is None else list(ids),
            ttl=ttl,
        )
        return result["ids"]

    def recall(
        self,
        query: str,
        k: int = 10,
        *,
        namespace: Sequence[str] | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> list[RecallResult]:
        result = self._call("recall", query=query, k=k, namespace=_ns(namespace), filter=filter)
        return [RecallResult.from_dict(r) for r in result["results"]]

    def get(self, id: str) -> MemoryRecord | None:
        try:
            return MemoryRecord.from_dict(self._call("get", id=id)["record"])
        except NotFoundError:
            return None

    def history(self, id: str) -> list[MemoryVersion]:
        return [MemoryVersion.from_dict(v) for v in self._call("get", id=id, history=True)["history"]]

    def update(
        self, id: str, *, text: str | None = None, metadata: Mapping[str, Any] | None = None, event_time: Any = None
    ) -> MemoryRecord:
        result = self._call("update", id=id, text=text, metadata=metadata, event_time=_time(event_time))
        return MemoryRecord.from_dict(result["record"])

    def explain(
        self, query: str, ids: Sequence[str], *, namespace: Sequence[str] | None = None
    ) -> dict[str, Explanation]:
        result = self._call("explain", query=query, ids=list(ids), namespace=_ns(namespace))
        return {i: Explanation.from_dict(e) for i, e in result["explanations"].items()}

    def list(
        self,
        *,
        namespace: Sequence[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[MemoryRecord]:
        result = self._call("list", namespace=_ns(namespace), filter=filter, limit=limit, offset=offset)
        return [MemoryRecord.from_dict(r) for r in result["items"]]

    def count(self, *, namespace: Sequence[str] | None = None, filter: Mapping[str, Any] | None = None) -> int:
        return self._call("list", namespace=_ns(namespace), filter=filter, limit=0)["total"]

    def namespaces(self) -> list[Namespace]:
        return [tuple(n["namespace"]) for n in self._call("namespaces")["namespaces"]]

    def forget(
        self,
        ids: str | Sequence[str] | None = None,
        *,
        namespace: Sequence[str] | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> int:
        ids = [ids] if isinstance(ids, str) else None if ids is None else list(ids)
        return self._call("forget", ids=ids, namespace=_ns(namespace), filter=filter)["forgotten"]

    def ids_with_prefix(self, prefix: str, *, limit: int = 2) -> list[str]:
        return self._call("ids_with_prefix", prefix=prefix, limit=limit)["ids"]

    def stats(self) -> dict[str, Any]:
        """As `Memory.stats()`: the per-namespace counts keyed by namespace tuple."""
        info = self._call("stats")
        return {**info, "namespaces": {tuple(n["namespace"]): n["memories"] for n in info["namespaces"]}}

    def __contains__(self, id: object) -> bool:
        return isinstance(id, str) and self.get(id) is not None

    def close(self) -> None:
        """Nothing to release: each call is its own connection."""

    def __enter__(self) -> RemoteMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RemoteMemory({self.url!r})"


def _ns(namespace: Sequence[str] | None) -> list[str] | None:
    return None if namespace is None else list(namespace)
