"""The `agentmem` command.

Subcommands live in their own modules and are imported only when invoked, so `agentmem --help` never
pays for torch or sentence-transformers. Errors agentmem raises on purpose print as one line on
stderr and exit 1.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

# name -> "module:attribute" of a click command; imported on first use.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("agentmem.cli.store_commands:init", "Create a store (or check an existing one)."),
    "add": ("agentmem.cli.store_commands:add", "Remember texts from arguments, stdin, or a JSONL file."),
    "recall": ("agentmem.cli.store_commands:recall", "Recall the memories most relevant to a query."),
    "inspect": ("agentmem.cli.store_commands:inspect", "Page through slots: text, usage, age, links."),
    "show": ("agentmem.cli.store_commands:show", "One memory: record, history, temporal neighbours."),
    "update": ("agentmem.cli.store_commands:update", "Change a memory's text or metadata, keeping its history."),
    "stats": ("agentmem.cli.store_commands:stats", "Counts per namespace, encoder, index, bytes on disk."),
    "forget": ("agentmem.cli.store_commands:forget", "Forget memories by id, namespace, or metadata filter."),
    "export": ("agentmem.cli.store_commands:export", "Write every memory (with history) as JSONL."),
    "import": ("agentmem.cli.store_commands:import_", "Load memories from an `agentmem export` JSONL file."),
    "purge": ("agentmem.cli.store_commands:purge", "Erase the past versions of memories, keeping the current."),
    "compact": ("agentmem.cli.store_commands:compact", "Reclaim the space of forgotten memories."),
    "check": ("agentmem.cli.store_commands:check", "Check the database and its indexes; --repair rebuilds them."),
    "serve": ("agentmem.cli.serve:serve", "Keep the store and model warm: MCP and the CLI's API over HTTP."),
    "mcp": ("agentmem.cli.serve:mcp", "An MCP server for agents, over stdio (or --http)."),
    "demo": ("agentmem.cli.demo:demo", "Ingest a sample conversation, then recall its evidence."),
    "train": ("agentmem.cli.train:train", "Train memory models on classic tasks or the memory controller."),
    "bench": ("agentmem.cli.bench:bench", "Benchmarks: memory-size scaling of DNC vs SAM."),
    "eval": (
        "agentmem_eval.cli:eval_cli",
        "Evaluate long-horizon recall on LoCoMo, LongMemEval, bAbI, synthetic.",
    ),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            import difflib

            close = difflib.get_close_matches(name, COMMANDS, n=2, cutoff=0.6)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint} `agentmem --help` lists the commands.")
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        target, _ = COMMANDS[name]
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name and module_name.startswith(e.name):
                pkg = "agentmem-eval (pip install 'agentmem[eval]')" if name == "eval" else module_name
                raise click.UsageError(f"'agentmem {name}' is not available: install {pkg}") from e
            raise
        return getattr(module, attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help comes from the table above so --help imports nothing.
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, help_) in COMMANDS.items()])


@click.group(
    cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.option(
    "--store",
    envvar="AGENTMEM_STORE",
    type=click.Path(),
    help="Store directory, or a PostgreSQL database (postgresql://user@host:port/db; needs "
    "pip install 'agentmem[postgres]'). Default: $AGENTMEM_STORE, else a per-user data directory.",
)
@click.option(
    "--server",
    envvar="AGENTMEM_SERVER",
    metavar="URL",
    help="A running `agentmem serve` (e.g. http://127.0.0.1:7733) that add, recall, show, update, inspect, "
    "stats and forget go through, answering in about 0.1 s. Default: $AGENTMEM_SERVER.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log progress and warnings to stderr.")
@click.version_option(package_name="agentmem")
@click.pass_context
def cli(ctx: click.Context, store: str | None, server: str | None, verbose: bool) -> None:
    """agentmem: persistent, trainable memory for LLM agents.

    \b
    Quick start:
      agentmem demo                       # remember a sample conversation, recall it
      agentmem add "Alice moved to Lisbon in May." --namespace user-42
      agentmem recall "Where does Alice live?"
      agentmem inspect
      agentmem serve                      # keep the model warm; then export AGENTMEM_SERVER=...
    """
    # -v is agentmem's own progress; other libraries stay at warnings (faiss logs its CPU probing at INFO).
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    logging.getLogger("agentmem").setLevel(logging.INFO if verbose else logging.WARNING)
    ctx.obj = {"store": store, "server": server or None}


def main() -> None:
    from agentmem.errors import AgentMemError

    try:
        cli.main(prog_name="agentmem", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except AgentMemError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    except BrokenPipeError:  # the reader of stdout went away (`agentmem export | head`)
        sys.stderr.close()
        sys.exit(1)
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001 - a bug still gets one line, and -v the traceback
        if isinstance(e, ValueError) and "null byte" in str(e):
            # A NUL byte in an argument (only an in-process caller can pass one: exec refuses them)
            # reaches the OS through a path, click's own checks included, which refuses it.
            click.echo("error: an argument holds a NUL byte, which no path can; remove it", err=True)
            sys.exit(2)
        if logging.getLogger("agentmem").isEnabledFor(logging.INFO):  # -v
            import traceback

            traceback.print_exc()
        click.echo(
            f"error: unexpected {type(e).__name__}: {e}; this is a bug in agentmem, rerun with -v for the "
            "traceback and report it",
            err=True,
        )
        sys.exit(3)
