"""How the CLI shows results: rich tables at a terminal, plain lines into a pipe, JSON for scripts.

Lists (`recall`, `inspect`) print a table when stdout is a terminal and one tab-separated line per
memory when it is a pipe or a file: whole ids and texts, nothing to strip, `grep`/`cut` ready, and no
rich to import (a recall through a warm server answers in under 100 ms). Notes and warnings go
to stderr, so `--json` output on stdout is exactly one JSON document. User text is wrapped in
`rich.text.Text` so brackets in a memory are never read as rich markup.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from agentmem.records import Explanation, MemoryRecord, MemoryVersion, RecallResult


# Tables written to a file or a pipe have no terminal to fit; this width keeps whole ids (two, in the
# links column) beside readable text. $COLUMNS, when set, wins.
PIPE_WIDTH = 160


def console() -> Console:
    """A console on the current stdout (looked up per call so click's test runner can capture it)."""
    from rich.console import Console

    out = Console(highlight=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out.width = PIPE_WIDTH
    return out


def to_terminal() -> bool:
    """Whether stdout is a terminal, decided as rich decides (TTY_COMPATIBLE, FORCE_COLOR, isatty)
    without importing it."""
    forced = os.environ.get("TTY_COMPATIBLE", "")
    if forced in ("0", "1"):
        return forced == "1"
    if (color := os.environ.get("FORCE_COLOR")) is not None:
        return color != ""
    try:
        return sys.stdout.isatty()
    except ValueError:  # stdout already closed
        return False


def _field(text: str) -> str:
    """Text as one tab-separated field: its whitespace runs (tabs, newlines) become single spaces."""
    return " ".join(text.split())


def emit_lines(rows: Iterable[Iterable[str]]) -> None:
    """Tab-separated lines on stdout, one per row."""
    click.echo("".join("\t".join(row) + "\n" for row in rows), nl=False)


def recall_lines(results: list[RecallResult]) -> Iterator[list[str]]:
    """rank, score, id, namespace, why, text."""
    for rank, r in enumerate(results, 1):
        yield [str(rank), f"{r.score:.3f}", r.id, ns_str(r.namespace), why_str(r.why), _field(r.text)]


def slot_lines(
    records: list[MemoryRecord], explained: Mapping[str, Explanation] | None = None
) -> Iterator[list[str]]:
    """slot, id, namespace, usage, created (UTC), prev id, next id, [rank: score = why,] text."""
    for r in records:
        row = [str(r.write_order), r.id, ns_str(r.namespace), f"{r.usage:.2f}", stamp(r.created_at)]
        row += [r.prev_id or "-", r.next_id or "-"]
        if explained is not None:
            row.append(explanation_str(explained[r.id]))
        yield [*row, _field(r.text)]


def note(message: str) -> None:
    """A human note on stderr: never mixed into the data on stdout."""
    click.echo(message, err=True)


@contextmanager
def progress(total: int, description: str, *, enabled: bool = True) -> Iterator[Any]:
    """A progress bar on stderr, shown only when `enabled` and stderr is a terminal; yields a function
    `advance(n, **fields)` (fields, e.g. a loss, are shown after the bar). What is printed on stdout
    meanwhile appears above the bar."""
    if not enabled:  # most commands write a few items: no bar, and no import of rich's progress
        yield lambda n=1, **fields: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    err = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(description, total=total, status="")

        def advance(n: int = 1, **fields: Any) -> None:
            status = " ".join(f"{k} {v}" for k, v in fields.items())
            bar.update(task, advance=n, **({"status": status} if fields else {}))

        yield advance


def plot(draw: Callable[[], None], what: str) -> None:
    """Run `draw`, which plots with matplotlib (the `train` extra); without it, say how to get the plot."""
    try:
        draw()
    except ModuleNotFoundError as e:
        if e.name is None or not e.name.startswith("matplotlib"):
            raise
        note(f"no plot of {what}: matplotlib is missing (pip install 'agentmem[train]')")


def emit_json(obj: Any) -> None:
    """One JSON document on stdout, UTF-8 as is, nothing else."""
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


def ns_str(namespace: Iterable[str]) -> str:
    """A namespace as the command line writes it: `user-42/notes`, or a JSON list when a segment holds
    a "/" (`["a/b", "notes"]`), so it reads back as the same namespace."""
    segments = list(namespace)
    if any("/" in s for s in segments):
        return json.dumps(segments, ensure_ascii=False)
    return "/".join(segments)


def stats_json(stats: Mapping[str, Any]) -> dict[str, Any]:
    """`Memory.stats()` as JSON: the per-namespace counts as a list of {"namespace", "memories"}."""
    counts = [{"namespace": list(ns), "memories": n} for ns, n in sorted(stats["namespaces"].items())]
    return {**stats, "namespaces": counts}


def preview(text: str, width: int = 70) -> str:
    """One line of at most `width` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def age(when: datetime | None, now: datetime | None = None) -> str:
    """Compact age like `42s`, `5m`, `3h`, `12d`, `2y`."""
    if when is None:
        return "-"
    seconds = max(0.0, ((now or datetime.now(timezone.utc)) - when).total_seconds())
    for unit, size in (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def stamp(when: datetime | None) -> str:
    """A UTC time to the second, e.g. `2026-05-04 18:15:00`."""
    return "-" if when is None else when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def why_str(why: Mapping[str, float]) -> str:
    """Signal contributions, largest first, those under 0.005 left out: `content 0.71 + recency 0.02`."""
    parts = sorted(((k, v) for k, v in why.items() if abs(v) >= 0.005), key=lambda kv: -abs(kv[1]))
    return " + ".join(f"{name} {value:.2f}" for name, value in parts) or "-"


def short(id_: str | None) -> str:
    """An id shortened for a terminal (11 characters: enough for `agentmem show`, which completes a
    unique prefix of 8 or more); whole when the output goes to a file or a pipe."""
    if id_ is None:
        return "-"
    if len(id_) <= 12 or not to_terminal():
        return id_
    return id_[:11] + "…"


def _id_width(ids: Iterable[str | None]) -> int:
    """A column width that keeps the longest id on one line: an id is never cut."""
    return min(max((len(i) for i in ids if i), default=0), 80)


def memory_cell(namespace: Iterable[str], text: str, id_: str, width: int = 70) -> Text:
    """Namespace and text preview, with the full id on its own line so narrow terminals keep it whole."""
    from rich.text import Text

    cell = Text(ns_str(namespace), style="cyan")
    cell.append("  " + preview(text, width))
    cell.append("\n" + id_, style="dim")
    return cell


def recall_table(results: list[RecallResult], *, title: str) -> Table:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("why")
    table.add_column("namespace, text, id", ratio=1, min_width=_id_width(r.id for r in results))
    for rank, r in enumerate(results, 1):
        table.add_row(str(rank), f"{r.score:.3f}", why_str(r.why), memory_cell(r.namespace, r.text, r.id))
    return table


def slots_table(
    records: list[MemoryRecord],
    *,
    title: str,
    caption: str | None = None,
    explained: Mapping[str, Explanation] | None = None,
) -> Table:
    """Slots in write order; with `explained`, each slot's rank and signal contributions for a query."""
    from rich.table import Table

    now = datetime.now(timezone.utc)
    table = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
    table.add_column("slot", justify="right")
    table.add_column("namespace, text, id", ratio=1, min_width=_id_width(r.id for r in records))
    table.add_column("usage", justify="right")
    table.add_column("age", justify="right")
    table.add_column("prev → next", no_wrap=True)
    if explained is not None:
        table.add_column("rank: score = why", ratio=1)
    for r in records:
        row = [
            str(r.write_order),
            memory_cell(r.namespace, r.text, r.id, 60),
            f"{r.usage:.2f}",
            age(r.created_at, now),
            f"{short(r.prev_id)} → {short(r.next_id)}",
        ]
        if explained is not None:
            row.append(explanation_str(explained[r.id]))
        table.add_row(*row)
    return table


def explanation_str(e: Explanation) -> str:
    """`#3: 2.41 = content 1.80 + link_forward 0.55 + ...`, or why the memory was not scored."""
    if e.rank is None:
        return "not a candidate for this query"
    return f"#{e.rank}: {e.result.score:.2f} = {why_str(e.result.why)}"


def record_table(record: MemoryRecord) -> Table:
    """Every field of one record as key/value rows."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"memory {record.id}", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", ratio=1)
    for key, value in record.to_dict().items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
        table.add_row(key, Text(shown))
    return table


def history_table(versions: list[MemoryVersion]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="history (oldest first)", title_justify="left")
    table.add_column("v", justify="right")
    table.add_column("updated (UTC)")
    table.add_column("event time (UTC)")
    table.add_column("text", ratio=2)
    table.add_column("metadata", ratio=1)
    for v in versions:
        table.add_row(
            str(v.version),
            stamp(v.updated_at),
            stamp(v.event_time),
            Text(v.text),
            Text(json.dumps(v.metadata, ensure_ascii=False)),
        )
    return table


def neighbours_table(prev: MemoryRecord | None, nxt: MemoryRecord | None) -> Table:
    from rich.table import Table

    table = Table(title="temporal neighbours (same namespace, write order)", title_justify="left")
    table.add_column("link")
    table.add_column("namespace, text, id", ratio=1, min_width=_id_width(r.id for r in (prev, nxt) if r))
    for label, rec in (("prev", prev), ("next", nxt)):
        table.add_row(label, memory_cell(rec.namespace, rec.text, rec.id) if rec else "-")
    return table


def stats_tables(stats: Mapping[str, Any]) -> list[Table]:
    """A summary table of scalar stats and a per-namespace count table."""
    from rich.table import Table
    from rich.text import Text

    summary = Table(title="store", title_justify="left", show_header=False)
    summary.add_column("key", style="bold")
    summary.add_column("value")
    for key, value in stats.items():
        if key == "namespaces":
            continue
        shown = f"{value:,}" if key == "bytes_on_disk" and isinstance(value, int) else value
        summary.add_row(key, Text(str(shown)))
    per_ns = Table(title="memories per namespace", title_justify="left")
    per_ns.add_column("namespace")
    per_ns.add_column("memories", justify="right")
    for ns, n in sorted(stats.get("namespaces", {}).items()):
        per_ns.add_row(Text(ns_str(ns)), str(n))
    return [summary, per_ns]
