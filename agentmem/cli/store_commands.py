"""`agentmem` commands that work on a store: init, add, recall, inspect, show, update, stats, forget,
export, import, purge, compact, check.

Heavy modules (the Memory, hence numpy, FAISS and torch) are imported inside the commands, so
`agentmem <command> --help` stays instant, and every argument (text, namespace, filter, time) is
checked before the store is opened: bad input fails in a fraction of a second. Errors are
`AgentMemError`s, printed by `agentmem.cli.main` as one `error: ...` line.

With a server configured (`--server` / $AGENTMEM_SERVER, see `agentmem serve`), add, recall, show,
update, inspect, stats and forget go through it (`open_store`) and never load a model here.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from agentmem.cli import inputs, render
from agentmem.errors import InvalidInputError, NotFoundError, StorePathError
from agentmem.storage.location import is_database_url, redact

if TYPE_CHECKING:
    from agentmem.client import RemoteMemory
    from agentmem.memory import Memory

    Store = Memory | RemoteMemory

DEFAULT_BATCH = 256
# The shortest id prefix `show`, `update` and `forget` complete: shorter ones match too much by chance.
MIN_ID_PREFIX = 8

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document (shapes: docs/cli-json.md), no table."
)
namespace_option = click.option(
    "-n",
    "--namespace",
    help="Namespace prefix, segments separated by '/', e.g. user-42 or user-42/notes; a JSON list for "
    "segments holding a '/', e.g. '[\"a/b\", \"notes\"]'.",
)
filter_option = click.option(
    "--filter",
    "filter_",
    metavar="JSON",
    help='Metadata filter, e.g. \'{"source": "chat"}\' or \'{"turn": {"$gte": 3}}\' ($eq $ne $gt $gte $lt $lte $in $nin).',
)
query_option = click.option(
    "--query", "-q", metavar="TEXT", help="Also show where each memory ranks for this query, and why."
)


def store_path(ctx: click.Context) -> Path | str:
    """--store, else $AGENTMEM_STORE, else `<user data dir>/agentmem/default`: a directory, or a
    postgresql:// URL (kept as given)."""
    chosen = (ctx.find_root().obj or {}).get("store")
    if chosen and is_database_url(chosen):
        return chosen
    if chosen:
        return Path(chosen).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("agentmem")) / "default"


def shown(path: Path | str) -> str:
    """A store location as messages show it: a URL without its password."""
    return redact(path) if isinstance(path, str) else str(path)


@contextmanager
def open_memory(
    path: Path | str, *, create: bool = False, missing_hint: str | None = None, **kwargs: Any
) -> Iterator[Memory]:
    """Open the store at `path`; read commands (`create=False`) refuse to conjure an empty one."""
    from agentmem.memory import Memory

    try:
        mem = Memory(path, create=create, **kwargs)
    except StorePathError as e:
        if missing_hint is None or "no store at" not in str(e):
            raise
        raise StorePathError(f"no store at {shown(path)}; {missing_hint}") from None
    with mem:
        yield mem


@contextmanager
def open_store(ctx: click.Context, *, create: bool = False) -> Iterator[Store]:
    """The configured server when there is one (`--server` / $AGENTMEM_SERVER), else the store itself.

    A store named explicitly (`--store` / $AGENTMEM_STORE) must be the one the server holds: a
    command never silently reads another store than the one it was given.
    """
    options = ctx.find_root().obj or {}
    if not options.get("server"):
        with open_memory(store_path(ctx), create=create) as mem:
            yield mem
        return
    from agentmem.client import RemoteMemory

    remote = RemoteMemory(options["server"])
    chosen = options.get("store")
    if chosen:
        served = remote.info().get("store")
        if served is not None and not _same_store(served, chosen):
            raise InvalidInputError(
                f"the server at {remote.url} holds the store {served}, not {chosen}; unset AGENTMEM_SERVER "
                "(or pass --server '') to open that store directly"
            )
    yield remote


def _same_store(served: str, chosen: str) -> bool:
    """Whether the store a server reports (a directory, or a URL without its password) is `chosen`."""
    if is_database_url(chosen):
        return served == redact(chosen)
    return Path(served).resolve() == Path(chosen).expanduser().resolve()


def resolve_id(mem: Store, value: str) -> str:
    """An id as given, or the one id it starts (at least 8 characters, e.g. a shortened id from a table)."""
    value = inputs.check_id(value)
    if value in mem:
        return value
    if len(value) >= MIN_ID_PREFIX:
        found = mem.ids_with_prefix(value, limit=2)
        if len(found) == 1:
            return found[0]
        if found:
            raise InvalidInputError(
                f"id prefix {value!r} starts several memories ({found[0]}, {found[1]}, ...); give more of the id"
            )
    fix = "" if len(value) >= MIN_ID_PREFIX else f" (a shortened id needs at least {MIN_ID_PREFIX} characters)"
    raise NotFoundError(f"no memory with id {value!r}{fix}; find ids with `agentmem inspect` or `agentmem recall`")


def warn_if_missing(mem: Store, ns: tuple[str, ...] | None) -> bool:
    """Say so on stderr when a namespace holds no memories, with the closest that do; whether it did."""
    if ns is None or mem.count(namespace=ns):
        return False
    import difflib

    known = {render.ns_str(n) for n in mem.namespaces()}
    close = difflib.get_close_matches(render.ns_str(ns), known, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    render.note(f"warning: namespace {render.ns_str(ns)} holds no memories; {hint}`agentmem stats` lists the namespaces")
    return True


def _stdin_bytes() -> bytes:
    """All of stdin as bytes: decoded strictly later, so bad UTF-8 is an error, never mojibake."""
    return sys.stdin.buffer.read()


def _namespace(value: str | None) -> tuple[str, ...] | None:
    return None if value is None else inputs.parse_namespace(value)


def _filter(value: str | None) -> dict[str, Any] | None:
    """--filter, checked whole (operators too) before any store is opened."""
    if value is None:
        return None
    from agentmem.filters import parse_filter

    flt = inputs.parse_json_object(value, where="--filter")
    try:
        parse_filter(flt)
    except InvalidInputError as e:
        raise type(e)(f"--filter: {e}") from None
    return flt


# -- init ----------------------------------------------------------------------------------------


@click.command()
@click.option(
    "--encoder", help="sentence-transformers model name or path. Default: packaged all-MiniLM-L6-v2."
)
@click.option(
    "--index",
    "index_kind",
    type=click.Choice(["auto", "flat", "hnsw"]),
    help="FAISS index over the whole store (default auto: exact, then an inverted file past 50,000 memories).",
)
@json_option
@click.pass_context
def init(ctx: click.Context, encoder: str | None, index_kind: str | None, as_json: bool) -> None:
    """Create a store, or check that an existing one opens.

    The store records its encoder and index type; later commands reuse them.

    \b
    Examples:
      agentmem init                       # per-user default store
      agentmem --store ./mem init --index hnsw
      AGENTMEM_STORE=./mem agentmem init --json
    """
    with open_memory(store_path(ctx), create=True, encoder=encoder, index=index_kind) as mem:
        stats = mem.stats()
    if as_json:
        render.emit_json(render.stats_json(stats))
    else:
        click.echo(
            f"store ready at {stats['path']} ({stats['memories']} memories, encoder {stats['encoder']}, "
            f"{stats['index']} index)"
        )


# -- add -----------------------------------------------------------------------------------------


@click.command()
@click.argument("texts", nargs=-1)
@click.option(
    "--jsonl",
    "jsonl",
    metavar="FILE",
    help='One JSON object per line: {"text", "namespace"?, "metadata"?, "event_time"?, "id"?}; - = stdin.',
)
@click.option(
    "-n", "--namespace", help="Namespace, segments separated by '/', e.g. user-42/notes. Default: default."
)
@click.option(
    "--metadata", metavar="JSON", help='JSON object stored with every text, e.g. \'{"source": "chat"}\'.'
)
@click.option("--event-time", help="When it happened: ISO 8601 (no offset = UTC) or unix seconds.")
@click.option("--whole", is_flag=True, help="Read all of stdin as one memory (default: one memory per line).")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH,
    show_default=True,
    help="Texts per encode-and-commit step (at most 1000 texts and 1,000,000 characters, what a server takes per call).",
)
@json_option
@click.pass_context
def add(
    ctx: click.Context,
    texts: tuple[str, ...],
    jsonl: str | None,
    namespace: str | None,
    metadata: str | None,
    event_time: str | None,
    whole: bool,
    batch_size: int,
    as_json: bool,
) -> None:
    """Remember texts: arguments, stdin (one per line), or a JSONL file. Prints the new ids.

    The whole input is checked before anything is written. Options give the defaults for JSONL
    lines that lack a key. An existing "id" in JSONL updates that memory (its history is kept).

    \b
    Examples:
      agentmem add "Alice moved to Lisbon in May." -n user-42 --event-time 2026-05-01
      printf 'likes tea\\nhas a beagle\\n' | agentmem add -n user-42 --metadata '{"source": "chat"}'
      agentmem add --jsonl notes.jsonl
    """
    template = inputs.Item(
        text="",
        namespace=inputs.parse_namespace(namespace) if namespace is not None else inputs.DEFAULT_NAMESPACE,
        metadata=inputs.parse_json_object(metadata, where="--metadata") if metadata is not None else {},
        event_time=inputs.parse_event_time(event_time),
    )
    from_stdin = not texts or texts == ("-",)
    if jsonl is not None:
        if texts:
            raise InvalidInputError("give texts or --jsonl FILE, not both")
        data = _stdin_bytes() if jsonl == "-" else inputs.read_bytes(jsonl)
        items = inputs.items_from_jsonl(data, source="stdin" if jsonl == "-" else jsonl, template=template)
    elif from_stdin:
        if sys.stdin is None or sys.stdin.isatty():
            raise InvalidInputError(
                "no text given; pass TEXT arguments, pipe text on stdin, or use --jsonl FILE"
            )
        items = inputs.texts_from_stdin(_stdin_bytes(), whole=whole, template=template)
    else:
        items = inputs.texts_from_args(texts, template=template)

    ids = _remember(ctx, items, batch_size, echo_ids=not as_json)
    if as_json:
        render.emit_json({"ids": ids})


def _remember(ctx: click.Context, items: list[inputs.Item], batch_size: int, *, echo_ids: bool) -> list[str]:
    """Write validated items in batches with a progress bar (on stderr, only for bulk on a terminal)."""
    ids: list[str] = []
    with (
        open_store(ctx, create=True) as mem,
        render.progress(len(items), "remember", enabled=len(items) > batch_size) as advance,
    ):
        # Memory refuses to move an id to another namespace; find that before batch 1 is written.
        for it in items:
            old = mem.get(it.id) if it.id is not None else None
            if old is not None and old.namespace != it.namespace:
                raise InvalidInputError(
                    f"id {it.id!r} exists in namespace {render.ns_str(old.namespace)}, not "
                    f"{render.ns_str(it.namespace)}; use its namespace, or `agentmem forget {it.id}` first"
                )
        for batch in inputs.batches(items, batch_size):
            got = mem.remember(
                [it.text for it in batch],
                namespace=batch[0].namespace,
                metadata=[it.metadata for it in batch],
                event_time=[it.event_time for it in batch],
                ids=[it.id for it in batch] if batch[0].id is not None else None,
            )
            ids.extend(got)
            if echo_ids:  # as each batch commits, so an interrupted run still lists what it wrote
                click.echo("\n".join(got))
            advance(len(batch))
    return ids


# -- recall --------------------------------------------------------------------------------------


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("-k", "k", type=click.IntRange(min=1), default=5, show_default=True, help="How many memories.")
@namespace_option
@filter_option
@json_option
@click.pass_context
def recall(
    ctx: click.Context,
    query: tuple[str, ...],
    k: int,
    namespace: str | None,
    filter_: str | None,
    as_json: bool,
) -> None:
    """Recall the K memories most relevant to QUERY, best first.

    "why" shows each addressing signal's contribution to the score (e.g. content similarity). At a
    terminal the results are a table; into a pipe or a file, one tab-separated line each: rank,
    score, id, namespace, why, text.

    \b
    Examples:
      agentmem recall "Where does Alice live?"
      agentmem recall where does alice live -k 3 -n user-42
      agentmem recall "tea" --filter '{"source": "chat"}' --json | jq '.results[0].text'
    """
    text = inputs.check_text(
        " ".join(query), where="the query", fix="ask a question, e.g. agentmem recall 'tea?'"
    )
    ns, flt = _namespace(namespace), _filter(filter_)
    with open_store(ctx) as mem:
        results = mem.recall(text, k=k, namespace=ns, filter=flt)
        warned = not results and warn_if_missing(mem, ns)
    if as_json:
        render.emit_json(
            {
                "query": text,
                "k": k,
                "namespace": list(ns) if ns else None,
                "filter": flt,
                "results": [r.to_dict() for r in results],
            }
        )
    elif results and render.to_terminal():
        render.console().print(render.recall_table(results, title=f"recall: {text}"))
    elif results:
        render.emit_lines(render.recall_lines(results))
    elif not warned:
        render.note("no memories recalled (the store or namespace is empty, or the filter matches nothing)")


# -- inspect -------------------------------------------------------------------------------------


@click.command()
@click.option(
    "--limit",
    "--page-size",
    "limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Slots per page.",
)
@click.option("--offset", type=click.IntRange(min=0), help="Skip this many slots (in write order).")
@click.option("--page", type=click.IntRange(min=1), help="Page number, 1-based (instead of --offset).")
@query_option
@namespace_option
@filter_option
@json_option
@click.pass_context
def inspect(
    ctx: click.Context,
    limit: int,
    offset: int | None,
    page: int | None,
    query: str | None,
    namespace: str | None,
    filter_: str | None,
    as_json: bool,
) -> None:
    """Page through the slots in write order: id, namespace, text, usage, age, temporal links.

    With --query, each slot also shows its rank for that query and why: every signal's contribution
    to its score (content, lexical, speaker, recency, time, usage, namespace, when, length, temporal
    links, session).
    Into a pipe or a file, one tab-separated line per slot: slot, id, namespace, usage, created
    (UTC), prev id, next id, [rank: score = why,] text; the page summary goes to stderr.

    \b
    Examples:
      agentmem inspect
      agentmem inspect --page 2 --page-size 50 -n user-42
      agentmem inspect --limit 100 --offset 200 --json
      agentmem inspect --query "Where does Alice live?"
    """
    if page is not None and offset is not None:
        raise InvalidInputError("give --page or --offset, not both")
    start = (page - 1) * limit if page is not None else offset or 0
    ns, flt = _namespace(namespace), _filter(filter_)
    with open_store(ctx) as mem:
        total = mem.count(namespace=ns, filter=flt)
        if not total:
            warn_if_missing(mem, ns)
        records = mem.list(namespace=ns, filter=flt, limit=limit, offset=start)
        explained = _explain(mem, query, [r.id for r in records], ns) if query else None
    if as_json:
        items = [
            {**r.to_dict(), **({"explain": explained[r.id].to_dict()} if explained else {})} for r in records
        ]
        render.emit_json({"total": total, "offset": start, "limit": limit, "query": query, "items": items})
        return
    shown = (
        f"slots {start + 1}-{start + len(records)} of {total}"
        if records
        else f"no slots here ({total} in all)"
    )
    more = start + len(records) < total
    same = (f" -n {render.ns_str(ns)}" if ns else "") + (" --filter ..." if flt else "")
    caption = shown + (
        f"; next: agentmem inspect --offset {start + limit} --limit {limit}{same}" if more else ""
    )
    if not render.to_terminal():
        render.emit_lines(render.slot_lines(records, explained))
        render.note(caption)
        return
    title = f"slots in {render.ns_str(ns)}" if ns else "slots (all namespaces)"
    render.console().print(render.slots_table(records, title=title, caption=caption, explained=explained))


# -- show ----------------------------------------------------------------------------------------


@click.command()
@click.argument("id_", metavar="ID")
@query_option
@json_option
@click.pass_context
def show(ctx: click.Context, id_: str, query: str | None, as_json: bool) -> None:
    """Show one memory: every field, its version history, and its temporal neighbours.

    With --query, also where it ranks for that query and why (each signal's contribution).

    \b
    Examples:
      agentmem show 3f2a9c...
      agentmem show note-1 --json | jq '.history | length'
      agentmem show note-1 --query "Where does Alice live?"
    """
    with open_store(ctx) as mem:
        id_ = resolve_id(mem, id_)
        record = mem.get(id_)
        if record is None:  # forgotten since
            raise NotFoundError(f"no memory with id {id_!r}; find ids with `agentmem inspect` or `agentmem recall`")
        history = mem.history(id_)
        prev = mem.get(record.prev_id) if record.prev_id else None
        nxt = mem.get(record.next_id) if record.next_id else None
        explained = _explain(mem, query, [id_], None)[id_] if query else None
    if as_json:
        render.emit_json(
            {
                "record": record.to_dict(),
                "explain": {"query": query, **explained.to_dict()} if explained else None,
                "history": [v.to_dict() for v in history],
                "neighbours": {
                    "prev": prev.to_dict() if prev else None,
                    "next": nxt.to_dict() if nxt else None,
                },
            }
        )
        return
    out = render.console()
    out.print(render.record_table(record))
    out.print(render.history_table(history))
    out.print(render.neighbours_table(prev, nxt))
    if explained:
        out.print(f"for {query!r}: {render.explanation_str(explained)}")


# -- update --------------------------------------------------------------------------------------


@click.command()
@click.argument("id_", metavar="ID")
@click.argument("text", required=False)
@click.option("--metadata", metavar="JSON", help="New metadata, replacing the old, e.g. '{\"source\": \"chat\"}'.")
@click.option("--event-time", help="When it happened: ISO 8601 (no offset = UTC) or unix seconds.")
@json_option
@click.pass_context
def update(
    ctx: click.Context, id_: str, text: str | None, metadata: str | None, event_time: str | None, as_json: bool
) -> None:
    """Change a memory's TEXT, metadata or event time; the old version stays in its history.

    ID may be shortened to any unique prefix of at least 8 characters.

    \b
    Examples:
      agentmem update 3f2a9c1b "Alice moved to Porto in June."
      agentmem update note-1 --metadata '{"source": "email"}' --event-time 2026-06-01
      agentmem show note-1                  # the history lists both versions
    """
    new_text = None if text is None else inputs.check_text(text, where="TEXT", fix="give the new text")
    meta = None if metadata is None else inputs.parse_json_object(metadata, where="--metadata")
    when = inputs.parse_event_time(event_time)
    if new_text is None and meta is None and when is None:
        raise InvalidInputError("say what changes: a new TEXT, --metadata or --event-time")
    with open_store(ctx) as mem:
        record = mem.update(resolve_id(mem, id_), text=new_text, metadata=meta, event_time=when)
    if as_json:
        render.emit_json({"record": record.to_dict()})
    else:
        click.echo(f"updated {record.id} (version {record.version}; `agentmem show {record.id}` has the history)")


def _explain(mem: Store, query: str, ids: list[str], ns: tuple[str, ...] | None) -> dict:
    text = inputs.check_text(query, where="--query", fix="ask a question, e.g. --query 'tea?'")
    return mem.explain(text, ids, namespace=ns)


# -- stats ---------------------------------------------------------------------------------------


@click.command()
@json_option
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Memories per namespace, encoder, index type, bytes on disk.

    \b
    Examples:
      agentmem stats
      agentmem stats --json | jq .memories
    """
    with open_store(ctx) as mem:
        info = mem.stats()
    if as_json:
        render.emit_json(render.stats_json(info))
        return
    out = render.console()
    for table in render.stats_tables(info):
        out.print(table)


# -- forget --------------------------------------------------------------------------------------


@click.command()
@click.argument("ids", nargs=-1)
@namespace_option
@filter_option
@click.option("--all", "all_", is_flag=True, help="Forget every memory in the store.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@click.pass_context
def forget(
    ctx: click.Context,
    ids: tuple[str, ...],
    namespace: str | None,
    filter_: str | None,
    all_: bool,
    yes: bool,
    as_json: bool,
) -> None:
    """Forget memories by ID, by namespace prefix and/or metadata filter, or --all of them.

    Deleting by namespace, filter or --all asks first unless --yes (--all without --yes is refused when
    no one can answer the question). The texts forgotten are overwritten in the database and its log,
    and the saved indexes are rewritten without them. Prints how many were forgotten.

    \b
    Examples:
      agentmem forget 3f2a9c... 8b1d07...
      agentmem forget -n user-42/scratch --yes
      agentmem forget --filter '{"source": "test"}'
      agentmem forget --all --yes --json
    """
    ns, flt = _namespace(namespace), _filter(filter_)
    by_query = ns is not None or bool(flt)
    if sum([bool(ids), by_query, all_]) != 1:
        raise InvalidInputError(
            "say what to forget: IDs, or --namespace and/or a non-empty --filter, or --all (one of these)"
        )
    if all_ and not yes and not sys.stdin.isatty():
        raise InvalidInputError("forgetting every memory of the store takes `agentmem forget --all --yes`")
    ids = tuple(inputs.check_id(i) for i in ids)
    not_found: list[str] = []
    # Emptying the whole store is done on the store itself: a server never forgets everything.
    with open_memory(store_path(ctx)) if all_ else open_store(ctx) as mem:
        if ids:
            resolved = []
            for i in dict.fromkeys(ids):
                try:
                    resolved.append(resolve_id(mem, i))
                except NotFoundError:
                    not_found.append(i)
            n = mem.forget(list(dict.fromkeys(resolved))) if resolved else 0
        else:
            matching = mem.count(namespace=ns, filter=flt)
            what = "in the store" if all_ else f"matching {_describe(ns, flt)}"
            if matching and not yes:
                click.confirm(f"forget {matching} memories {what}?", abort=True, err=True)
            n = 0
            if matching:
                n = mem.forget(everything=True) if all_ else mem.forget(namespace=ns, filter=flt)
    if as_json:
        render.emit_json({"forgotten": n, "not_found": not_found})
        return
    for i in not_found:
        render.note(f"warning: no memory with id {i!r}")
    click.echo(f"forgot {n} memor{'y' if n == 1 else 'ies'}")


def _describe(ns: tuple[str, ...] | None, flt: dict[str, Any] | None) -> str:
    parts = ([f"namespace {render.ns_str(ns)}"] if ns else []) + (
        [f"filter {json.dumps(flt)}"] if flt else []
    )
    return " and ".join(parts)


# -- export / import -----------------------------------------------------------------------------


@click.command()
@click.argument("file", default="-", metavar="[FILE]")
@click.pass_context
def export(ctx: click.Context, file: str) -> None:
    """Write every memory with its full history as JSONL to FILE (default: stdout).

    Lossless: `agentmem import` of the file into an empty store gives back the same ids,
    namespaces, texts, metadata, times, usage and version histories. A FILE is written to a
    temporary name first and renamed, so it is never left half-written.

    \b
    Examples:
      agentmem export backup.jsonl
      agentmem --store ./mem export | gzip > mem.jsonl.gz
    """
    from agentmem.cli import export_format

    with open_memory(store_path(ctx)) as mem, _output(file) as out:
        # Streamed a page at a time: an export of any size holds one page of memories in RAM.
        count = mem.count()
        out.write(json.dumps(export_format.header(encoder=mem.encoder.name, dim=mem.encoder.dim, count=count)) + "\n")
        written = 0
        for record in mem:
            out.write(export_format.line(record, mem.history(record.id)) + "\n")
            written += 1
    if file != "-":
        render.note(f"exported {written} memories to {file}")


class _Stdout:
    """stdout as a file to write lines to (through click, which test runners capture)."""

    def write(self, text: str) -> None:
        click.echo(text, nl=False)


@contextmanager
def _output(file: str) -> Iterator[Any]:
    """stdout for "-"; else a temporary file beside FILE, renamed over it once complete, so FILE is never
    left half-written."""
    if file == "-":
        yield _Stdout()
        return
    import tempfile

    path = Path(file)
    if not file.strip() or os.path.isdir(file):
        raise InvalidInputError(f"cannot write to {file!r}: give a file name, or - for stdout")
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except (OSError, ValueError) as e:
        raise InvalidInputError(f"cannot write {file!r} ({e}); choose a writable path") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yield f
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise InvalidInputError(f"cannot write {file!r} ({e.strerror or e}); choose a writable path") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command(name="import")
@click.argument("file", metavar="FILE")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH,
    show_default=True,
    help="Memories per encode-and-commit step.",
)
@json_option
@click.pass_context
def import_(ctx: click.Context, file: str, batch_size: int, as_json: bool) -> None:
    """Load memories from an `agentmem export` JSONL file (- for stdin), history included.

    The whole file is checked first, and ids already in the store are refused, so a bad file
    writes nothing. Texts are re-encoded with the store's encoder.

    \b
    Examples:
      agentmem --store ./copy import backup.jsonl
      agentmem --store ./a export | agentmem --store ./b import -
    """
    from agentmem.cli import export_format

    data = _stdin_bytes() if file == "-" else inputs.read_bytes(file)
    head, entries = export_format.parse(data, source="stdin" if file == "-" else file)
    with open_memory(store_path(ctx), create=True) as mem:
        clash = next((rec.id for rec, _ in entries if rec.id in mem), None)
        if clash is not None:
            raise InvalidInputError(
                f"id {clash!r} is already in the store; import into an empty store or `agentmem forget` it first"
            )
        if head.get("encoder") != mem.encoder.name:
            render.note(f"note: exported with {head.get('encoder')}, re-encoding with {mem.encoder.name}")
        with render.progress(len(entries), "import", enabled=len(entries) > batch_size) as advance:
            for start in range(0, len(entries), batch_size):
                chunk = entries[start : start + batch_size]
                mem.restore(chunk)
                advance(len(chunk))
    if as_json:
        render.emit_json({"imported": len(entries)})
    else:
        click.echo(f"imported {len(entries)} memories")


# -- upkeep: purge, compact, check ---------------------------------------------------------------


@click.command()
@click.argument("ids", nargs=-1)
@namespace_option
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@click.pass_context
def purge(ctx: click.Context, ids: tuple[str, ...], namespace: str | None, yes: bool, as_json: bool) -> None:
    """Delete the past versions of memories, keeping their current ones.

    `agentmem update` and the write gate keep each replaced version in a memory's history; purge erases
    them (by ID, under a namespace, or in the whole store), overwriting their texts as `forget` does.

    \b
    Examples:
      agentmem purge 3f2a9c...
      agentmem purge -n user-42 --yes
    """
    ns = _namespace(namespace)
    ids = tuple(inputs.check_id(i) for i in ids)
    if ids and ns is not None:
        raise InvalidInputError("give IDs or --namespace, not both")
    with open_memory(store_path(ctx)) as mem:
        if not ids and not yes:
            where = f"under {render.ns_str(ns)}" if ns else "in the whole store"
            click.confirm(f"erase the past versions of every memory {where}?", abort=True, err=True)
        n = mem.purge(list(ids)) if ids else mem.purge(namespace=ns)
    if as_json:
        render.emit_json({"purged_versions": n})
    else:
        click.echo(f"purged {n} past version{'' if n == 1 else 's'}")


@click.command()
@click.pass_context
def compact(ctx: click.Context) -> None:
    """Reclaim the space of forgotten memories: rewrite the database and its indexes without it.

    Needs free disk space about the size of the database while it runs.

    \b
    Examples:
      agentmem compact
      agentmem --store ./mem forget -n scratch --yes && agentmem --store ./mem compact
    """
    with open_memory(store_path(ctx)) as mem:
        before = mem.stats()["bytes_on_disk"]
        mem.compact()
        after = mem.stats()["bytes_on_disk"]
    click.echo(f"compacted {shown(store_path(ctx))}: {before:,} -> {after:,} bytes")


@click.command()
@click.option("--repair", is_flag=True, help="Rebuild the indexes from the database where they cannot be trusted.")
@json_option
@click.pass_context
def check(ctx: click.Context, repair: bool, as_json: bool) -> None:
    """Check the store: the database's integrity, and each index against the database.

    Exits 1 when a problem is found. With --repair, indexes that disagree with the database (or have
    seen commits it lost) are rebuilt from it; a damaged database itself is restored from a backup.

    \b
    Examples:
      agentmem check
      agentmem check --repair
    """
    with open_memory(store_path(ctx)) as mem:
        problems = mem.check(repair=repair)
    if as_json:
        render.emit_json({"ok": not problems, "problems": problems, "repaired": repair})
    elif problems:
        for p in problems:
            render.note(f"problem: {p}")
    else:
        click.echo(f"{shown(store_path(ctx))}: ok" + (" (indexes rebuilt and saved)" if repair else ""))
    if problems:
        ctx.exit(1)
