"""`agentmem train controller`: the flags of `agentmem.controller.train.train_controller`.

Episodes come from the project's generators (`--data shapes`, the default: conversations of many shapes;
`dialogue`, `synthetic`; nothing to download) or from a LoCoMo- or LongMemEval-format file the user
gives. The epoch kept is the one that reads best the shapes training never sees (`--select held-out`). The packaged
checkpoint (`agentmem/checkpoints/controller.safetensors`) is this command with its defaults. Writes the
checkpoint (safetensors, config in its metadata), a JSON report with the curves, and a PNG of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("controller")
@click.option(
    "--data",
    default="shapes",
    show_default=True,
    help="'shapes' (generated conversations of the shapes not held out for validation: what the packaged "
    "checkpoint is trained on), 'dialogue' (generated two-person chats), 'synthetic' (generated agent "
    "histories), several joined by '+', or a LoCoMo (locomo10.json layout) or LongMemEval (S/M/oracle) file.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "locomo", "longmemeval"]),
    default="auto",
    show_default=True,
    help="Format of --data when it is a file.",
)
@click.option(
    "--observations",
    type=click.IntRange(min=100),
    default=20_000,
    show_default=True,
    help="Synthetic observations in all (with --data synthetic).",
)
@click.option(
    "--episodes",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Generated episodes (with --data shapes: per shape; dialogue or synthetic: in all).",
)
@click.option(
    "--select",
    type=click.Choice(["held-out", "split"]),
    default="held-out",
    show_default=True,
    help="Keep the epoch that reads best the generated shapes training never sees ('held-out'), or a "
    "held-out fifth of the training questions ('split').",
)
@click.option("--epochs", type=click.IntRange(min=1), default=12, show_default=True)
@click.option("--lr", type=float, default=0.03, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--read-modes/--no-read-modes",
    default=False,
    show_default=True,
    help="Let the read's coefficients follow the query's features (scoring.py, read modes).",
)
@click.option(
    "--link-asks/--no-link-asks",
    default=False,
    show_default=True,
    help="Give the links a weight for a reply to a question apart from a reply to a statement (scoring.py, links).",
)
@click.option(
    "--link-machines/--no-link-machines",
    default=True,
    show_default=True,
    help="Give the links a weight for a machine's reply to a person (an assistant, a tool) apart from any "
    "other reply (scoring.py, links).",
)
@click.option(
    "--context",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Width of the attention layer across the candidates (0: none).",
)
@click.option(
    "--gate-data",
    default="dialogue+synthetic",
    show_default=True,
    help="Episodes whose superseding statements train the write gate ('+'-joined generators, or 'same' "
    "for --data). Only their writes are used, not their questions.",
)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Checkpoint path (.safetensors).")
def controller(
    data: str,
    fmt: str,
    observations: int,
    episodes: int,
    epochs: int,
    lr: float,
    seed: int,
    select: str,
    read_modes: bool,
    link_asks: bool,
    link_machines: bool,
    context: int,
    gate_data: str,
    out: str,
) -> None:
    """Train the learned memory controller and write a checkpoint usable as Memory(controller=PATH).

    \b
    Examples:
      agentmem train controller --out controller.safetensors     # the packaged checkpoint's recipe
      agentmem train controller --data longmemeval_s.json --epochs 20 --out lme.safetensors
    """
    from agentmem.cli import render
    from agentmem.controller.learned import LearnedConfig
    from agentmem.controller.scoring import ScoringConfig
    from agentmem.controller.train import (
        GENERATORS,
        ControllerTrainingConfig,
        plot_report,
        selection_episodes,
        train_controller,
        training_episodes,
    )
    from agentmem.encoder import resolve_encoder

    # A misspelt generator name would otherwise be read as a missing LongMemEval file.
    for option, source in (("--data", data), ("--gate-data", gate_data)):
        generated = all(part in GENERATORS for part in source.split("+"))
        if source != "same" and not generated and not Path(source).exists():
            raise click.BadParameter(
                f"{source!r} is neither a generator ({', '.join(GENERATORS)}, or several joined by '+') nor "
                "an existing file; give one of those, or the path of a LoCoMo or LongMemEval file",
                param_hint=option,
            )

    def load(source: str):
        return training_episodes(source, fmt=fmt, observations=observations, episodes=episodes, seed=seed)

    episodes_ = load(data)
    # The gate is fitted first, so the reads are trained on stores written as they will be at use.
    gate_episodes = episodes_ if gate_data in ("same", data) else load(gate_data)
    try:
        result = train_controller(
            episodes_,
            resolve_encoder(),
            gate_episodes=gate_episodes,
            selection_episodes=selection_episodes(seed=seed) if select == "held-out" else None,
            config=LearnedConfig(
                scoring=ScoringConfig(
                    read_modes=read_modes, link_asks=link_asks, link_machines=link_machines, hidden=context
                )
            ),
            training=ControllerTrainingConfig(epochs=epochs, lr=lr, seed=seed),
            progress=True,
        )
    except ValueError as e:
        raise click.UsageError(f"{data}: {e}; check --format") from e
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    result.controller.save(path)
    report, gate = result.report, result.gate
    summary = {
        **report.__dict__,
        "write_gate": gate.__dict__,
        "data": data,
        "gate_data": gate_data,
        "select": select,
        "episodes": len(episodes_),
        "examples": result.examples,
        "wall_seconds": result.seconds,
    }
    path.with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n")
    render.plot(lambda: plot_report(report, path.with_suffix(".png")), "the training curves")
    best = report.best_epoch
    click.echo(
        f"wrote {path} (best epoch {best}, val recall_any@10 {report.val_recall_any_at_10[best]:.3f}, "
        f"redundancy penalty {report.redundancy:g}; "
        f"write gate on {gate.pairs} pairs ({gate.positives} updates), threshold {gate.threshold:.2f}: "
        f"val precision {gate.val_precision:.3f}, recall {gate.val_recall:.3f}; {result.seconds:.0f} s)"
    )
