"""`agentmem train controller`: fit the MemoryController on episodes whose evidence is known.

Episodes come from the project's generators (`--data dialogue`, the default, or `--data synthetic`;
nothing to download) or from a LoCoMo- or LongMemEval-format file the user gives. The packaged
checkpoint (`agentmem/checkpoints/controller.safetensors`) is this command with its defaults. Writes the checkpoint
(safetensors, config in its metadata), a JSON report with the curves, and a PNG of them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click


@click.command("controller")
@click.option(
    "--data",
    default="dialogue",
    show_default=True,
    help="'dialogue' (generated two-person chats: what the packaged checkpoint is trained on), 'synthetic' "
    "(generated agent histories), both ('dialogue+synthetic'), or a LoCoMo (locomo10.json layout) or "
    "LongMemEval (S/M/oracle) file.",
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
    default=40,
    show_default=True,
    help="Generated episodes (with --data dialogue or synthetic).",
)
@click.option("--heads", type=click.IntRange(min=1), default=1, show_default=True, help="Read heads R.")
@click.option(
    "--key-rank",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Rank of each head's learned key residual (0: heads read with the query embedding itself).",
)
@click.option(
    "--second-hop",
    is_flag=True,
    help="Train an optional second read hop keyed by the first read's vector (16 more candidates per read).",
)
@click.option("--epochs", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--lr", type=float, default=0.03, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
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
    heads: int,
    key_rank: int,
    second_hop: bool,
    epochs: int,
    lr: float,
    seed: int,
    gate_data: str,
    out: str,
) -> None:
    """Train the learned memory controller and write a checkpoint usable as Memory(controller=PATH).

    \b
    Examples:
      agentmem train controller --out controller.safetensors     # the packaged checkpoint's recipe
      agentmem train controller --data longmemeval_s.json --epochs 20 --out lme.safetensors
    """
    from tqdm import tqdm

    from agentmem.encoder import resolve_encoder
    from agentmem.memory_controller import MemoryController, MemoryControllerConfig
    from agentmem.training import ControllerTrainingConfig, fit, fit_gate, gate_pairs, replay

    start = time.perf_counter()
    episodes_ = _episodes(data, fmt, observations, episodes, seed)
    encoder = resolve_encoder()
    config = MemoryControllerConfig(
        dim=encoder.dim, heads=heads, key_rank=key_rank, hop_k=16 if second_hop else 0
    )
    model = MemoryController(config)
    # The gate is fitted first, so the reads are trained on stores written as they will be at use:
    # with superseded statements folded into the memory that replaced them.
    gate_episodes = (
        episodes_ if gate_data in ("same", data) else _episodes(gate_data, fmt, observations, episodes, seed)
    )
    gate_examples: list = []
    for ep in tqdm(gate_episodes, desc="write-gate pairs", unit="episode"):
        gate_examples += gate_pairs(
            ep.turns, encoder.encode([t.text for t in ep.turns]), config.gate_candidates
        )
    gate = fit_gate(model, gate_examples, seed=seed)
    with tqdm(total=len(episodes_), desc="replay episodes", unit="episode") as bar:
        examples = replay(model, episodes_, encoder, progress=bar.update)
    if not examples:
        raise click.UsageError(f"{data} holds no question whose evidence could be found; check --format")
    report = fit(model, examples, ControllerTrainingConfig(epochs=epochs, lr=lr, seed=seed))
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    summary = {
        **report.__dict__,
        "write_gate": gate.__dict__,
        "data": data,
        "gate_data": gate_data,
        "episodes": len(episodes_),
        "examples": len(examples),
        "wall_seconds": time.perf_counter() - start,
    }
    path.with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n")
    _plot(report, path.with_suffix(".png"))
    best = report.best_epoch
    click.echo(
        f"wrote {path} (best epoch {best}, val recall_any@10 {report.val_recall_any_at_10[best]:.3f}; "
        f"write gate on {gate.pairs} pairs ({gate.positives} updates), threshold {gate.threshold:.2f}: val precision {gate.val_precision:.3f}, "
        f"recall {gate.val_recall:.3f}; {summary['wall_seconds']:.0f} s)"
    )


TRAIN_SEED = 100_000


def _episodes(data: str, fmt: str, observations: int, episodes: int, seed: int) -> list:
    """Harness datasets converted to training episodes (the harness owns the loaders)."""
    try:
        from agentmem.episodes.dialogue import DialogueConfig, generate_dialogue
        from agentmem.episodes.locomo import load_locomo
        from agentmem.episodes.longmemeval import load_longmemeval
        from agentmem.episodes.synthetic import SyntheticConfig, generate
    except ModuleNotFoundError as e:
        raise click.UsageError("training data comes through agentmem-eval: pip install -e ./eval") from e
    from agentmem.training import TrainingEpisode, TrainingQuestion, TrainingTurn

    # Training draws its generated data from seeds TRAIN_SEED + seed; `agentmem eval` generates from
    # seeds 0 (synthetic) and 1000 (dialogue), so no evaluated episode is ever trained on.
    generated = {
        "synthetic": lambda: (
            generate(
                SyntheticConfig(observations=observations, episodes=episodes, seed=TRAIN_SEED + seed)
            ).episodes
        ),
        "dialogue": lambda: (
            generate_dialogue(DialogueConfig(episodes=episodes, seed=TRAIN_SEED + seed)).episodes
        ),
    }
    if all(part in generated for part in data.split("+")):
        eps = [e for part in data.split("+") for e in generated[part]()]
    else:
        if fmt == "auto":
            fmt = "locomo" if "locomo" in Path(data).name.lower() else "longmemeval"
        eps = (load_locomo if fmt == "locomo" else load_longmemeval)(data).episodes
    ts = lambda d: None if d is None else d.timestamp()  # noqa: E731
    return [
        TrainingEpisode(
            e.id,
            [TrainingTurn(t.id, t.text, t.speaker, ts(t.time), t.supersedes) for t in e.turns],
            [TrainingQuestion(i.question, tuple(i.evidence), ts(i.time)) for i in e.items],
        )
        for e in eps
    ]


def _plot(report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.plot(report.train_loss, label="train")
    a.plot(report.val_loss, label="validation")
    a.set_xlabel("epoch")
    a.set_ylabel("-log gold read weight")
    a.legend()
    b.plot(report.val_recall_any_at_10)
    b.axvline(report.best_epoch, ls=":", c="grey")
    b.set_xlabel("epoch")
    b.set_ylabel("validation recall_any@10")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
