"""agentmem as a server: MCP tools and resources for agents, and an HTTP API for the `agentmem` CLI.

One process holds the store, the encoder and the controller open, so a call costs the work it asks
for (a recall: encoding the query and reading), not the seconds of loading a model. Built on the
official MCP Python SDK (`mcp`, the `agentmem[mcp]` extra):

- `agentmem mcp` serves MCP over stdio, for clients that start the server themselves.
- `agentmem serve` (also `agentmem mcp --http HOST:PORT`) serves over HTTP:
  - `/mcp`: MCP over streamable HTTP (stateless; each request stands alone, so clients and server
    processes come and go freely);
  - `GET /v1`: what the server is, `{"result": {"agentmem": version, "store", "scope", "operations"}}`;
  - `POST /v1/<operation>` with a JSON object of arguments: `{"result": ...}`, or an error status
    with `{"error": {"type": ..., "message": ...}}`; the CLI's client (client.py) speaks this.

Every tool is a `MemoryService` operation (service.py): arguments are checked by the library, and its
errors come back as MCP tool errors (or HTTP 4xx) with the library's one-line message, never a crash
of the server. Memory calls are blocking, so they run in worker threads and the event loop stays free
for other clients.

Access: the HTTP server binds the loopback interface by default. With a token (`--token` or
$AGENTMEM_SERVER_TOKEN) every request must carry `Authorization: Bearer <token>`; serving on any
other address without one is refused, since the memory would be open to the network.
"""

# No `from __future__ import annotations`: the SDK reads each tool's parameter types from its
# signature, and the types named inside `build_mcp` exist only there.
import hmac
import ipaddress
import json
import logging
import signal
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from agentmem.errors import AgentMemError, InputTooLargeError, InvalidInputError, NotFoundError, ServerError
from agentmem.service import MemoryService
from agentmem.validate import clipped

log = logging.getLogger("agentmem")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7733

INSTRUCTIONS = """\
agentmem is a persistent memory. Use `recall` before answering anything that may depend on what was
said or learned earlier (facts about the user, decisions, past events); use `remember` to store
durable facts, preferences and events as short self-contained sentences, one per text, with the
speaker in the text ("Alice moved to Lisbon in May 2023"). Keep each user or project in its own
namespace (a list of strings such as ["user-42", "memories"]). When a fact changes, `update` the
memory that holds it (its old version is kept); `forget` deletes. Results carry an id, a score and
`why` (each signal's share of the score)."""


@dataclass(frozen=True)
class ServerConfig:
    """host, port: where the HTTP server listens (port 0: any free port, printed when ready).
    token: the bearer token every HTTP request must carry (None: none is asked for; only allowed on
        a loopback address).
    mcp_path: where MCP is served over HTTP.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    mcp_path: str = "/mcp"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None) -> None:
    """Refuse to serve beyond this machine without a token."""
    if token is None and not is_loopback(host):
        raise InvalidInputError(
            f"serving on {host} opens the memory to the network; give a token (--token or "
            "$AGENTMEM_SERVER_TOKEN), or serve on 127.0.0.1"
        )


# -- MCP ---------------------------------------------------------------------------------------


def build_mcp(service: MemoryService) -> Any:
    """An `MCPServer` whose tools and resources are the service's operations."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
    from mcp.server.mcpserver.resources.templates import ResourceSecurity
    from mcp_types import ToolAnnotations
    from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

    from agentmem import __version__

    class Server(MCPServer):
        """The SDK's server, with a tool's arguments held to what the tool takes: an argument it does not
        take is refused (a misspelt "namespace" would otherwise write into the default namespace), and
        an argument of the wrong type gets one line naming it and the type wanted."""

        schemas: dict[str, dict[str, Any]] | None = None  # each tool's input schema, once all are registered

        async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
            if self.schemas is None:
                self.schemas = {t.name: t.input_schema for t in await self.list_tools()}
            schema = self.schemas.get(name)
            accepted = list((schema or {}).get("properties", {}))
            unknown = sorted(set(arguments) - set(accepted)) if schema is not None else []
            if unknown:
                raise ToolError(f"{name} has no argument {unknown[0]!r}; its arguments are {', '.join(accepted)}")
            try:
                return await super().call_tool(name, arguments, context)
            except ToolError as e:
                if not isinstance(e.__cause__, ValidationError) or schema is None:
                    raise
                arg = str(e.__cause__.errors()[0]["loc"][0])
                raise ToolError(_type_error(name, arg, arguments.get(arg), schema["properties"].get(arg, {}))) from None

    mcp = Server("agentmem", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")

    async def run(operation: str, **arguments: Any) -> dict[str, Any]:
        import anyio.to_thread

        given = {k: v for k, v in arguments.items() if v is not None}
        try:
            return await anyio.to_thread.run_sync(partial(service.call, operation, given))
        except AgentMemError as e:
            raise ToolError(str(e)) from None

    Namespace = Annotated[
        list[str] | str | None,
        Field(description='A namespace: a list of segments like ["user-42", "memories"], or "user-42/memories".'),
    ]
    Filter = Annotated[
        dict[str, Any] | None,
        Field(
            description='Metadata filter: {"speaker": "Alice"}, {"turn": {"$gte": 3}}; operators $eq $ne $gt '
            "$gte $lt $lte $in $nin; dotted keys reach nested fields."
        ),
    ]
    # Numeric ranges are left to the library, not the schemas, so a value out of range gets the library's
    # one-line message as every other bad argument does. Numbers and flags are strict: "3" is not a k
    # and true is not a time. A time may be an integer of any size, which the library then checks.
    reading = ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False)

    @mcp.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False, openWorldHint=False))
    async def remember(
        texts: Annotated[list[str] | str, Field(description="One text or a list; each becomes one memory.")],
        namespace: Annotated[
            list[str] | str | None, Field(description='Where to store, e.g. ["user-42", "memories"]; default ["default"].')
        ] = None,
        metadata: Annotated[
            dict[str, Any] | list[dict[str, Any]] | None,
            Field(description="JSON metadata for every text, or a list with one object per text."),
        ] = None,
        event_time: Annotated[
            StrictStr | StrictInt | StrictFloat | None,
            Field(description="When it happened: ISO 8601 (e.g. 2023-05-08T13:56:00Z) or unix seconds."),
        ] = None,
        ids: Annotated[
            list[str] | None, Field(description="Your own ids, one per text; an existing id is updated, its history kept.")
        ] = None,
        ttl: Annotated[
            StrictInt | StrictFloat | None,
            Field(description="Seconds until the memories expire: then no read returns them, and a sweep deletes them."),
        ] = None,
    ) -> dict[str, Any]:
        """Remember texts. Returns {"ids": [...]}: each id is durable once returned."""
        return await run(
            "remember", texts=texts, namespace=namespace, metadata=metadata, event_time=event_time, ids=ids, ttl=ttl
        )

    @mcp.tool(annotations=reading)
    async def recall(
        query: Annotated[str, Field(description="What to recall, e.g. a question: 'Where does Alice live?'")],
        k: Annotated[StrictInt, Field(description="How many memories to return (1 to 10000).")] = 5,
        namespace: Namespace = None,
        filter: Filter = None,
    ) -> dict[str, Any]:
        """Recall the k memories most relevant to a query, best first: each with its id, text, namespace,
        metadata, score and why (each addressing signal's share of the score). A namespace reads under that
        prefix only."""
        return await run("recall", query=query, k=k, namespace=namespace, filter=filter)

    @mcp.tool(annotations=reading)
    async def get(
        id: Annotated[str, Field(description="The memory's id.")],
        history: Annotated[StrictBool, Field(description="Also return every version of it, oldest first.")] = False,
    ) -> dict[str, Any]:
        """Get one memory by id (and, with history, its past versions)."""
        return await run("get", id=id, history=history)

    @mcp.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False, openWorldHint=False))
    async def update(
        id: Annotated[str, Field(description="The memory's id.")],
        text: Annotated[str | None, Field(description="Its new text.")] = None,
        metadata: Annotated[dict[str, Any] | None, Field(description="Its new metadata (replaces the old).")] = None,
        event_time: Annotated[
            StrictStr | StrictInt | StrictFloat | None, Field(description="When it happened: ISO 8601 or unix seconds.")
        ] = None,
    ) -> dict[str, Any]:
        """Change a memory's text, metadata or event time; the old version stays in its history."""
        return await run("update", id=id, text=text, metadata=metadata, event_time=event_time)

    @mcp.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True, openWorldHint=False))
    async def forget(
        ids: Annotated[list[str] | str | None, Field(description="Ids of the memories to delete.")] = None,
        namespace: Annotated[
            list[str] | str | None, Field(description="Delete every memory under this namespace prefix.")
        ] = None,
        filter: Filter = None,
    ) -> dict[str, Any]:
        """Delete memories by id, or all under a namespace and/or matching a metadata filter. A call naming
        none of these is refused. Returns {"forgotten": n, "not_found": [ids]}."""
        return await run("forget", ids=ids, namespace=namespace, filter=filter)

    @mcp.tool(name="list", annotations=reading)
    async def list_(
        namespace: Namespace = None,
        filter: Filter = None,
        limit: Annotated[StrictInt, Field(description="Memories per page.")] = 20,
        offset: Annotated[StrictInt, Field(description="Skip this many (write order).")] = 0,
    ) -> dict[str, Any]:
        """List memories in the order they were written, a page at a time, with the total that match."""
        return await run("list", namespace=namespace, filter=filter, limit=limit, offset=offset)

    @mcp.tool(annotations=reading)
    async def namespaces(
        prefix: Annotated[list[str] | str | None, Field(description="Only namespaces under this prefix.")] = None,
        max_depth: Annotated[
            StrictInt | None, Field(description="Fold deeper namespaces into their ancestor at this depth (1 or more).")
        ] = None,
    ) -> dict[str, Any]:
        """The namespaces that hold memories, each with how many."""
        return await run("namespaces", prefix=prefix, max_depth=max_depth)

    @mcp.tool(annotations=reading)
    async def explain(
        query: Annotated[str, Field(description="The query to explain the ranking for.")],
        ids: Annotated[list[str] | str, Field(description="The memories to explain.")],
        namespace: Namespace = None,
        filter: Filter = None,
    ) -> dict[str, Any]:
        """Why each memory ranks where it does for a query (rank, score, and each signal's share), whether
        or not it makes the top k."""
        return await run("explain", query=query, ids=ids, namespace=namespace, filter=filter)

    # Resources: the same data, addressable by URI. Ids and namespaces are not file paths, so the SDK's
    # path-traversal checks (which refuse "..") do not apply to them.
    anything = ResourceSecurity(exempt_params={"id", "namespace"})

    async def read(operation: str, **arguments: Any) -> str:
        import anyio.to_thread

        try:
            result = await anyio.to_thread.run_sync(partial(service.call, operation, arguments))
        except NotFoundError as e:
            raise ResourceNotFoundError(str(e)) from None
        except AgentMemError as e:
            raise ResourceError(str(e)) from None
        return json.dumps(result, ensure_ascii=False)

    @mcp.resource("agentmem://namespaces", mime_type="application/json")
    async def all_namespaces() -> str:
        """Every namespace holding memories, with its count."""
        return await read("namespaces")

    @mcp.resource("agentmem://namespace/{+namespace}", mime_type="application/json", security=anything)
    async def one_namespace(namespace: str) -> str:
        """The first 100 memories under a namespace (segments joined by "/"), in write order."""
        return await read("list", namespace=namespace, limit=100)

    @mcp.resource("agentmem://memory/{id}", mime_type="application/json", security=anything)
    async def one_memory(id: str) -> str:
        """One memory with its history."""
        return await read("get", id=id, history=True)

    return mcp


_JSON_TYPES = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
               "array": "a list", "object": "an object", "null": "null"}  # fmt: skip


def _type_error(tool: str, arg: str, value: Any, schema: dict[str, Any]) -> str:
    """One line for an MCP argument of the wrong type: the tool, the argument, what it got and the JSON
    types its schema allows."""
    wanted = [_JSON_TYPES.get(s.get("type", ""), s.get("type", "?")) for s in schema.get("anyOf", [schema])]
    shown = clipped(json.dumps(value, ensure_ascii=False), 40)
    return f"{tool}: argument {arg!r} is {shown}; pass {' or '.join(dict.fromkeys(wanted))}"


# -- HTTP --------------------------------------------------------------------------------------

_STATUS = {NotFoundError: 404, InvalidInputError: 400}
# A request's JSON is read whole before it is checked; this bounds what one request can make the
# server hold (a batch of texts at their length limit fits many times over).
MAX_BODY_BYTES = 64 << 20


def _status(error: AgentMemError) -> int:
    return next((code for cls, code in _STATUS.items() if isinstance(error, cls)), 409)


def add_http_api(mcp: Any, service: MemoryService, config: ServerConfig) -> None:
    """`GET /v1` and `POST /v1/<operation>` on the MCP server's HTTP app."""
    import anyio.to_thread
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import JSONResponse, Response

    from agentmem import __version__

    @mcp.custom_route("/v1", methods=["GET"])
    async def info(request: Request) -> Response:
        scope = list(service.config.scope)
        about = {
            "agentmem": __version__,
            "store": None if scope else service.memory.backend.location(),
            "scope": scope,
            "operations": list(service.OPERATIONS),
            "mcp": config.mcp_path,
        }
        return JSONResponse({"result": about})

    @mcp.custom_route("/v1/{operation}", methods=["POST"])
    async def call(request: Request) -> Response:
        operation = request.path_params["operation"]
        try:
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise InputTooLargeError(
                        f"the request body passes {MAX_BODY_BYTES >> 20} MiB; send fewer or shorter texts per call"
                    )
            try:
                arguments = json.loads(bytes(body) or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
                raise InvalidInputError(f"the request body is not a JSON object ({e}); send one like {{\"query\": \"tea\"}}") from None
            result = await anyio.to_thread.run_sync(partial(service.call, operation, arguments))
        except AgentMemError as e:
            return JSONResponse({"error": {"type": type(e).__name__, "message": str(e)}}, status_code=_status(e))
        except ClientDisconnect:  # the client left before sending its whole request: nobody to answer
            log.info("agentmem server: a client left during its %s request", operation)
            return Response(status_code=400)
        except Exception as e:  # noqa: BLE001 - a bug answers 500 with one line; the server stays up
            log.exception("agentmem server: %s failed", operation)
            message = f"unexpected {type(e).__name__} in {operation}; this is a bug in agentmem, see the server's log"
            return JSONResponse({"error": {"type": "InternalError", "message": message}}, status_code=500)
        return JSONResponse({"result": result})


def _json_routing_errors(app: Any, config: ServerConfig) -> None:
    """A request no route takes (an unknown path, a path with a trailing slash, a GET of an operation)
    gets the HTTP API's one-line JSON error, not Starlette's plain text or a redirect: a redirect has
    no JSON body, and a POST that follows it sends its body twice."""
    from starlette.responses import JSONResponse
    from starlette.routing import Match

    app.router.redirect_slashes = False
    routes = f"POST /v1/<operation> with a JSON object, GET /v1, or MCP at {config.mcp_path}"

    def routed(scope: dict[str, Any]) -> bool:
        return any(route.matches(scope)[0] is not Match.NONE for route in app.router.routes)

    async def not_found(request: Any, exc: Exception) -> Any:
        method, path = request.method, request.url.path
        bare = path.rstrip("/")
        if bare and bare != path and routed({**request.scope, "path": bare}):
            message = f"no route {method} {path}; paths take no trailing slash: {bare}"
        else:
            message = f"no route {method} {path}; use {routes}"
        return JSONResponse({"error": {"type": "NotFoundError", "message": message}}, status_code=404)

    async def wrong_method(request: Any, exc: Exception) -> Any:
        message = f"{request.url.path} does not take {request.method}; use {routes}"
        return JSONResponse({"error": {"type": "InvalidInputError", "message": message}}, status_code=405)

    app.add_exception_handler(404, not_found)
    app.add_exception_handler(405, wrong_method)


def _require_token(app: Any, token: str) -> Callable[..., Awaitable[None]]:
    """Wrap an ASGI app so that every HTTP request must carry `Authorization: Bearer <token>`."""
    expected = f"Bearer {token}".encode()

    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, expected):
                from starlette.responses import JSONResponse

                body = {"error": {"type": "ServerError", "message": "this server needs its token: Authorization: Bearer <token>"}}
                await JSONResponse(body, status_code=401)(scope, receive, send)
                return
        await app(scope, receive, send)

    return guarded


def warm_up(service: MemoryService) -> None:
    """Load the encoder and the controller, so the first call does not pay for them."""
    memory = service.memory
    memory.encoder.encode_queries(["warm up"])
    _ = memory.controller


def serve_http(service: MemoryService, config: ServerConfig, *, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve MCP and the HTTP API until interrupted (Ctrl-C or SIGTERM)."""
    import uvicorn

    check_exposure(config.host, config.token)
    sock = _bind(config.host, config.port)
    mcp = build_mcp(service)
    add_http_api(mcp, service, config)
    app = mcp.streamable_http_app(
        streamable_http_path=config.mcp_path, stateless_http=True, json_response=True, host=config.host
    )
    _json_routing_errors(app, config)
    if config.token is not None:
        app = _require_token(app, config.token)
    warm_up(service)
    host, port = sock.getsockname()[:2]
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    uv = _server_class()(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))
    if on_ready is not None:
        # uvicorn reports startup through this hook; the socket already accepts connections.
        started = uv.startup

        async def startup(sockets: Any = None) -> None:
            await started(sockets=sockets)
            on_ready(url)

        uv.startup = startup  # type: ignore[method-assign]
    uv.run(sockets=[sock])


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, stopping on SIGINT/SIGTERM without re-raising the signal afterwards: the
        caller still has the store to close (pending usage written, indexes saved)."""

        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so a taken port is one clear error (and port 0 works)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise InvalidInputError(f"cannot serve on {host!r} ({e.strerror}); give an address like 127.0.0.1") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as e:
        sock.close()
        raise ServerError(
            f"cannot listen on {host}:{port} ({e.strerror}); choose another --port, or stop what holds it"
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve_stdio(service: MemoryService) -> None:
    """Serve MCP over stdin/stdout until the client closes them. Nothing else may write to stdout."""
    import anyio

    mcp = build_mcp(service)
    # The client's first requests need no model; load it meanwhile so the first recall is quick.
    threading.Thread(target=_quiet_warm_up, args=(service,), daemon=True).start()
    anyio.run(mcp.run_stdio_async)


def _quiet_warm_up(service: MemoryService) -> None:
    try:
        warm_up(service)
    except Exception as e:  # noqa: BLE001 - the first call will report it properly
        print(f"agentmem: warm-up failed: {e}", file=sys.stderr)
