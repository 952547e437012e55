"""`agentmem demo`: the main job. Remember a conversation, then recall its evidence from a new process.

Phase 1 (this process) writes every turn of the packaged five-session sample conversation into a
store and closes it. Phase 2 runs in a fresh Python process (`python -m agentmem ... demo --phase
recall`), so the only thing the two share is the store on disk: if the evidence comes back, the
memory persisted. Phase 2 asks the conversation's questions and checks whether each question's gold
evidence turn is among the top-k recalled memories.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import click

from agentmem.cli import render
from agentmem.cli.store_commands import open_memory
from agentmem.errors import AgentMemError

SAMPLE = "sample_conversation.json"
RANK_DEPTH = 20  # how deep to look for the gold turn, so a miss still shows how far off it was


def load_conversation() -> dict[str, Any]:
    """The packaged sample conversation (agentmem/data/sample_conversation.json)."""
    return json.loads(resources.files("agentmem").joinpath("data", SAMPLE).read_text(encoding="utf-8"))


def memory_id(conversation: dict[str, Any], turn_id: str) -> str:
    """Turn id -> memory id; prefixed so the demo never collides with a user's own ids."""
    return f"demo-{conversation['id']}-{turn_id}"


def namespace(conversation: dict[str, Any]) -> tuple[str, ...]:
    return ("demo", conversation["id"])


def demo_store(ctx: click.Context, store: str | None) -> Path:
    """`demo --store`, else a `--store` typed before `demo`, else `<user data dir>/agentmem/demo`.

    $AGENTMEM_STORE alone is not used: the demo should not write into a user's working store
    unless asked to on the command line.
    """
    if store:
        return Path(store).expanduser()
    root = ctx.find_root()
    if (
        root.obj
        and root.obj.get("store")
        and root.get_parameter_source("store") == click.core.ParameterSource.COMMANDLINE
    ):
        return Path(root.obj["store"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("agentmem")) / "demo"


def ingest(path: Path, conversation: dict[str, Any], controller: Any = None) -> int:
    """Write every turn as a memory (replacing an earlier demo run's turns) through `controller` (what
    `Memory(controller=...)` takes; None: the packaged one); returns the turn count."""
    speakers = conversation["speakers"]
    ns = namespace(conversation)
    n = 0
    with open_memory(path, create=True, **_controller(controller)) as mem:
        mem.forget(namespace=ns)  # a re-run starts from the same state as the first run
        for session in conversation["sessions"]:
            start = datetime.fromisoformat(session["date"])
            turns = session["turns"]
            mem.remember(
                [f"{speakers[t['speaker']]}: {t['text']}" for t in turns],
                namespace=ns,
                ids=[memory_id(conversation, t["id"]) for t in turns],
                metadata=[
                    {"session": session["id"], "turn": t["id"], "speaker": t["speaker"]} for t in turns
                ],
                # Turns a minute apart: event_time orders them within a session.
                event_time=[start + timedelta(minutes=i) for i in range(len(turns))],
            )
            n += len(turns)
    return n


def recall_evidence(
    path: Path, conversation: dict[str, Any], k: int, controller: Any = None
) -> list[dict[str, Any]]:
    """Ask every question, read by `controller` (what `Memory(controller=...)` takes; None: the packaged
    one); report the top-k hits and the rank of the first gold evidence turn.

    The rank is looked up in the top max(k, RANK_DEPTH), so a miss at k still says how far off it was;
    `found` means within the top k.
    """
    questions = conversation["questions"]
    hint = f"run `agentmem demo --phase ingest --store {path}` first"
    with open_memory(path, missing_hint=hint, **_controller(controller)) as mem:
        if mem.count(namespace=namespace(conversation)) == 0:
            raise AgentMemError(f"store {path} holds no demo conversation; {hint}")
        hits = mem.recall_many(
            [q["question"] for q in questions], k=max(k, RANK_DEPTH), namespace=namespace(conversation)
        )
    rows = []
    for q, results in zip(questions, hits, strict=True):
        gold = {memory_id(conversation, e) for e in q["evidence"]}
        ranks = [rank for rank, r in enumerate(results, 1) if r.id in gold]
        rows.append(
            {
                "id": q["id"],
                "type": q["type"],
                "question": q["question"],
                "answer": q["answer"],
                "evidence": sorted(gold),
                "hits": [
                    {"id": r.id, "turn": r.metadata.get("turn"), "score": round(r.score, 4), "text": r.text}
                    for r in results[:k]
                ],
                "first_evidence_rank": ranks[0] if ranks else None,
                "found": bool(ranks) and ranks[0] <= k,
            }
        )
    return rows


def _controller(controller: Any) -> dict[str, Any]:
    """Memory's keyword for a controller given on the command line (none: the store's default)."""
    return {} if controller is None else {"controller": controller}


def _recall_in_new_process(path: Path, k: int, controller: str | None) -> dict[str, Any]:
    """Run phase 2 in a fresh interpreter and return its JSON report."""
    cmd = [
        sys.executable,
        "-m",
        "agentmem",
        "demo",
        "--phase",
        "recall",
        "--store",
        str(path),
        "-k",
        str(k),
        "--json",
        *(["--controller", controller] if controller else []),
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"}
    )
    if proc.stderr:
        sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no output"
        raise AgentMemError(f"the recall process failed (exit {proc.returncode}): {last}")
    return json.loads(proc.stdout)


def _table(report: dict[str, Any]) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=f"recalled by process {report['pid']}, top {report['k']} per question",
        title_justify="left",
    )
    table.add_column("question", ratio=2)
    table.add_column("top hit", ratio=3)
    table.add_column("top k turns\n(gold in green)")
    table.add_column("gold rank", justify="right")
    table.add_column("found")
    for q in report["questions"]:
        top = Text(render.preview(q["hits"][0]["text"], 90)) if q["hits"] else Text("-")
        turns = Text()
        for h in q["hits"]:
            turns.append(f"{h['turn']} ", style="bold green" if h["id"] in q["evidence"] else "")
        rank = q["first_evidence_rank"]
        table.add_row(
            Text(f"{q['question']}\n", style="bold").append(
                f"({q['type']}; answer: {q['answer']})", style="dim"
            ),
            top,
            turns,
            f">{max(report['k'], RANK_DEPTH)}" if rank is None else str(rank),
            Text("yes", style="green") if q["found"] else Text("no", style="red"),
        )
    return table


@click.command()
@click.option(
    "--store", type=click.Path(), help="Store to use. Default: a demo store in the user data directory."
)
@click.option(
    "-k",
    "k",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Memories recalled per question.",
)
@click.option(
    "--phase",
    type=click.Choice(["all", "ingest", "recall"]),
    default="all",
    show_default=True,
    help="ingest: only write the conversation; recall: only ask the questions (the store must hold the demo).",
)
@click.option(
    "--controller",
    type=click.Path(exists=True, dir_okay=False),
    help="Controller checkpoint that writes and reads (a file `agentmem train controller` wrote). "
    "Default: the packaged one.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON report (docs/cli-json.md) instead of tables."
)
@click.pass_context
def demo(ctx: click.Context, store: str | None, k: int, phase: str, controller: str | None, as_json: bool) -> None:
    """Remember a five-session sample conversation, then recall its evidence from a new process.

    The conversation (90 turns between a user, Maya, and her assistant, March to June 2026) has
    facts, distractors and facts that change later (she moves city, changes tutor). Each of its
    8 questions names the turn that answers it; the table shows whether that turn is recalled in
    the top k. The store persists; inspect it afterwards with `agentmem --store PATH inspect`.

    \b
    Examples:
      agentmem demo
      agentmem demo --store ./demo-store -k 3
      agentmem demo --json | jq '.found'
      agentmem demo --controller mine.safetensors    # a checkpoint you trained
    """
    path = demo_store(ctx, store)
    conversation = load_conversation()
    loaded = None
    if controller is not None:  # a file that is no checkpoint fails here, before the store is touched
        from agentmem.controller.learned import LearnedController

        loaded = LearnedController.load(controller)
    report: dict[str, Any] = {"store": str(path), "k": k}
    if phase in ("all", "ingest"):
        n = ingest(path, conversation, loaded)
        report["ingested"] = n
        report["ingest_pid"] = os.getpid()
        if not as_json:
            render.note(
                f"remembered {n} turns of {len(conversation['sessions'])} sessions in {path} (pid {os.getpid()})"
            )
        if phase == "ingest":
            if as_json:
                render.emit_json(report)
            return
    if phase == "recall":
        rows = recall_evidence(path, conversation, k, loaded)
        report.update(pid=os.getpid(), questions=rows)
    else:
        if not as_json:
            render.note("recalling the evidence in a new process...")
        child = _recall_in_new_process(path, k, controller)
        report.update(pid=child["pid"], questions=child["questions"])
    found = sum(q["found"] for q in report["questions"])
    report.update(found=found, total=len(report["questions"]))
    if as_json:
        render.emit_json(report)
        return
    render.console().print(_table(report))
    written = f"written by pid {report['ingest_pid']}, " if "ingest_pid" in report else ""
    click.echo(
        f"evidence found for {found}/{report['total']} questions at k={k} "
        f"({written}recalled by pid {report['pid']}; store: {path})"
    )
