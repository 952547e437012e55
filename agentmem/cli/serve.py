"""`agentmem serve` and `agentmem mcp`: one process keeps the store, encoder and controller warm.

`serve` listens on HTTP (MCP at /mcp, the CLI's API at /v1); `mcp` speaks MCP over stdio for clients
that start the server themselves, or over HTTP with `--http HOST:PORT`. Both need the `mcp` extra.
"""

from __future__ import annotations

import os

import click

from agentmem.cli import inputs, render
from agentmem.cli.store_commands import open_memory, shown, store_path
from agentmem.errors import InvalidInputError
from agentmem.server import DEFAULT_HOST, DEFAULT_PORT

scope_option = click.option(
    "--scope",
    metavar="NAMESPACE",
    help="Confine every client to this namespace prefix (e.g. user-42): the namespaces they name are "
    "under it, and nothing outside it can be read, changed or forgotten.",
)
token_option = click.option(
    "--token",
    envvar="AGENTMEM_SERVER_TOKEN",
    help="Require `Authorization: Bearer TOKEN` on every HTTP request (default: $AGENTMEM_SERVER_TOKEN). "
    "Needed to serve on an address other than loopback.",
)


def _need_mcp() -> None:
    try:
        import mcp  # noqa: F401
    except ModuleNotFoundError:
        raise click.UsageError("the MCP server needs the mcp extra: pip install 'agentmem[mcp]'") from None


def _parse_address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise InvalidInputError(f"--http {value!r} is not HOST:PORT; e.g. --http 127.0.0.1:7733")
    return (host.strip("[]") or DEFAULT_HOST), int(port)


def _run(ctx: click.Context, scope: str | None, *, http: tuple[str, int] | None, token: str | None) -> None:
    from agentmem.server import ServerConfig, check_exposure, serve_http, serve_stdio
    from agentmem.service import MemoryService, ServiceConfig

    config = ServiceConfig(scope=inputs.parse_namespace(scope, where="--scope") if scope else ())
    if http is not None:  # before the store and the model load
        check_exposure(http[0], token)
    path = store_path(ctx)
    with open_memory(path, create=True) as mem:
        service = MemoryService(mem, config)
        if http is None:
            serve_stdio(service)
            return

        def ready(url: str) -> None:
            where = f", scope {render.ns_str(config.scope)}" if config.scope else ""
            render.note(f"agentmem server at {url} (store {shown(path)}{where}); MCP at {url}/mcp")
            render.note(f"use it from the CLI: export AGENTMEM_SERVER={url}")

        serve_http(service, ServerConfig(host=http[0], port=http[1], token=token), on_ready=ready)


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True, help="0: any free port."
)
@scope_option
@token_option
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, scope: str | None, token: str | None) -> None:
    """Serve the store over HTTP: MCP at /mcp, and the API the CLI uses at /v1.

    The store, the encoder and the controller stay loaded, so with AGENTMEM_SERVER set to the
    printed address `agentmem add`, `recall`, `show`, `update`, `inspect`, `stats` and `forget`
    answer in about 0.1 s instead of seconds. Several servers (and CLI commands) may share one store. Stop it with Ctrl-C.

    \b
    Examples:
      agentmem --store ./mem serve                  # http://127.0.0.1:7733
      export AGENTMEM_SERVER=http://127.0.0.1:7733
      agentmem recall "Where does Alice live?"
      agentmem serve --port 0 --scope user-42       # any free port; clients see only user-42
    """
    _need_mcp()
    _run(ctx, scope, http=(host, port), token=token)


@click.command()
@click.option("--http", "http", metavar="HOST:PORT", help="Serve MCP over streamable HTTP instead of stdio.")
@scope_option
@token_option
@click.pass_context
def mcp(ctx: click.Context, http: str | None, scope: str | None, token: str | None) -> None:
    """An MCP server over stdio (or streamable HTTP with --http) for MCP clients.

    Tools: remember, recall, get, update, forget, list, namespaces, explain. Resources:
    agentmem://namespaces, agentmem://namespace/{namespace}, agentmem://memory/{id}.
    An MCP client starts it with, e.g.:

    \b
      {"mcpServers": {"agentmem": {"command": "agentmem",
        "args": ["mcp"], "env": {"AGENTMEM_STORE": "/home/me/agent-memory"}}}}

    \b
    Examples:
      agentmem --store ./mem mcp
      agentmem --store ./mem mcp --http 127.0.0.1:7733
    """
    _need_mcp()
    if http is None and os.environ.get("AGENTMEM_SERVER"):
        render.note("note: AGENTMEM_SERVER is ignored here; the MCP server opens the store itself")
    _run(ctx, scope, http=_parse_address(http) if http else None, token=token)
