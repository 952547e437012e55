"""`agentmem train`: train memory models. `train task` runs NTM/DNC/SAM/LSTM on a classic task.

Heavy imports (torch, matplotlib) happen inside the commands so `agentmem --help` stays fast. The group
stays open for other training commands (e.g. the memory controller).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from agentmem.cli.train_controller import controller

TASK_CHOICES = ("copy", "repeat_copy", "associative_recall", "priority_sort", "babi")
MODEL_CHOICES = ("ntm", "dnc", "sam", "lstm")


@click.group()
def train() -> None:
    """Train memory models: classic tasks (`task`) and the memory controller (`controller`)."""


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _default_lengths(task: str) -> dict[str, list[int]]:
    """Generalisation sweeps evaluated after training (train lengths are 1-20 for copy)."""
    if task == "copy":
        return {"length": [10, 20, 30, 40, 50, 60, 80]}
    if task == "associative_recall":
        return {"items": [2, 4, 6, 8, 10, 12]}
    if task == "repeat_copy":
        return {"repeats": [2, 5, 10, 12, 15]}
    return {}


def plot_curves(
    history: list[dict[str, Any]], sweep: dict[str, Any], path: Path, *, title: str, metric_label: str
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 3 if sweep else 2
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 3.6))
    steps = [r["step"] for r in history]

    def smooth(values: list[float], k: int = 50) -> list[float]:
        out, total = [], 0.0
        for i, v in enumerate(values):
            total += v - (values[i - k] if i >= k else 0.0)
            out.append(total / min(i + 1, k))
        return out

    axes[0].plot(steps, smooth([r["loss"] for r in history]))
    axes[0].set(xlabel="step", ylabel="training loss (50-step mean)", yscale="log", title=title)
    axes[1].plot(steps, smooth([r["metric"] for r in history]), label="metric")
    axes[1].set(xlabel="step", ylabel=f"training {metric_label} (50-step mean)")
    twin = axes[1].twinx()
    twin.plot(steps, [r["difficulty"] for r in history], color="gray", alpha=0.5)
    twin.set_ylabel("curriculum difficulty", color="gray")
    if sweep:
        axes[2].plot(sweep["values"], sweep["metric"], marker="o")
        axes[2].set(
            xlabel=sweep["name"], ylabel=f"test {metric_label}", yscale="symlog", title="generalisation"
        )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


@train.command("task")
@click.option("--task", "task_name", type=click.Choice(TASK_CHOICES), default="copy", show_default=True)
@click.option("--model", "model_name", type=click.Choice(MODEL_CHOICES), default="sam", show_default=True)
@click.option("--steps", type=int, default=5000, show_default=True)
@click.option("--batch-size", type=int, default=16, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True, help="Learning rate.")
@click.option("--optimizer", type=click.Choice(["adam", "rmsprop"]), default="adam", show_default=True)
@click.option("--clip-grad", type=float, default=10.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--curriculum/--no-curriculum",
    default=False,
    show_default=True,
    help="Start at short lengths and widen the range as they are solved (default: the full range).",
)
@click.option("--hidden-size", type=int, default=128, show_default=True, help="LSTM controller size.")
@click.option("--memory-size", type=int, default=None, help="Slots N (model default if unset).")
@click.option("--word-size", type=int, default=None, help="Word size W.")
@click.option("--read-heads", type=int, default=None, help="Read heads R.")
@click.option("--candidates", type=int, default=None, help="SAM: K candidates per head.")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="With --task babi: the directory of the bAbI v1.2 task files (tasks_1-20_v1-2/en of the download).",
)
@click.option("--babi-task", type=int, default=1, show_default=True)
@click.option(
    "--init",
    "init_from",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Start from the weights of a checkpoint (.safetensors) of the same model.",
)
@click.option("--max-minutes", type=float, default=None, help="Stop training after this many minutes.")
@click.option("--eval-every", type=int, default=0, help="Evaluate every N steps (0: only at the end).")
@click.option(
    "--sweep", default=None, help="Comma-separated lengths (copy) / items / repeats to test after training."
)
@click.option(
    "--eval-batches", type=int, default=4, show_default=True, help="Batches of 32 per evaluation point."
)
@click.option("--checkpoint-every", type=int, default=1000, show_default=True)
@click.option("--threads", type=int, default=1, show_default=True, help="torch/FAISS CPU threads.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory to write to (default: ./runs/TASK-MODEL, under the current directory).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def task(
    task_name: str,
    model_name: str,
    steps: int,
    batch_size: int,
    lr: float,
    optimizer: str,
    clip_grad: float,
    seed: int,
    curriculum: bool,
    hidden_size: int,
    memory_size: int | None,
    word_size: int | None,
    read_heads: int | None,
    candidates: int | None,
    data: str | None,
    babi_task: int,
    init_from: str | None,
    max_minutes: float | None,
    eval_every: int,
    sweep: str | None,
    eval_batches: int,
    checkpoint_every: int,
    threads: int,
    device: str,
    out_dir: str | None,
    quiet: bool,
) -> None:
    """Train a memory model on a classic task; writes model.safetensors, metrics.json and curves.png.

    \b
    Example:
      agentmem train task --task copy --model sam --steps 5000     # writes ./runs/copy-sam
      agentmem train task --task babi --data tasks_1-20_v1-2/en --babi-task 1 --model dnc
    """
    babi_fix = "give the directory of the bAbI v1.2 task files (tasks_1-20_v1-2/en of the download)"
    if task_name == "babi" and data is None:
        raise click.UsageError(f"--task babi needs --data: {babi_fix}")

    import faiss
    import torch
    from safetensors.torch import load_file, save_file

    from agentmem.cli import render
    from agentmem.research.models import ControllerConfig, build_model
    from agentmem.research.tasks import build_task
    from agentmem.research.trainer import TrainConfig, evaluate, evaluate_batches, train

    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)
    torch.manual_seed(seed)
    device = resolve_device(device)
    try:
        the_task = build_task(task_name, data=data, babi_task=babi_task)
    except FileNotFoundError as e:  # the directory lacks task N's train or test file
        raise click.BadParameter(f"{e}; {babi_fix}", param_hint="--data") from e
    out = Path(out_dir or f"runs/{task_name}-{model_name}")
    out.mkdir(parents=True, exist_ok=True)
    memory = {"memory_size": memory_size, "word_size": word_size, "read_heads": read_heads}
    if model_name == "sam":
        memory["candidates"] = candidates
    model = build_model(
        model_name,
        input_size=the_task.input_size,
        output_size=the_task.output_size,
        controller=ControllerConfig(hidden_size=hidden_size),
        **({} if model_name == "lstm" else memory),
    ).to(device)
    if init_from:
        model.load_state_dict(load_file(init_from, device=device))
    config = TrainConfig(
        steps=steps,
        batch_size=batch_size,
        learning_rate=lr,
        optimizer=optimizer,
        clip_grad=clip_grad,
        seed=seed,
        curriculum=curriculum and the_task.kind == "bits",
        max_seconds=max_minutes * 60 if max_minutes else None,
    )
    settings = {
        "task": task_name,
        "model": model_name,
        "babi_task": babi_task if task_name == "babi" else None,
        "device": device,
        "parameters": sum(p.numel() for p in model.parameters()),
        "memory": repr(model.core.config) if model.core is not None else None,
        "controller_hidden": hidden_size,
        "init": init_from,
        "train": config.__dict__,
    }

    def final_evaluation() -> dict[str, Any]:
        if task_name == "babi":
            return {
                "test_error": evaluate_batches(
                    model, the_task, the_task.evaluation_batches(100), device=device
                )["metric"]
            }
        result: dict[str, Any] = {
            "train_range": evaluate(model, the_task, batches=eval_batches, device=device)
        }
        for name, values in _default_lengths(task_name).items():
            values = [int(v) for v in sweep.split(",")] if sweep else values
            result["sweep"] = {
                "name": name,
                "values": values,
                "metric": [
                    evaluate(model, the_task, batches=eval_batches, device=device, **{name: v})["metric"]
                    for v in values
                ],
            }
        return result

    def save(path: Path) -> None:
        save_file(
            {k: v.contiguous() for k, v in model.state_dict().items()},
            str(path),
            metadata={"settings": json.dumps(settings)},
        )

    evaluations: list[dict[str, Any]] = []

    def on_step(record: dict[str, Any]) -> None:
        if record["step"] % 10 == 0:
            advance(
                1,
                loss=f"{record['loss']:.4f}",
                metric=f"{record['metric']:.3f}",
                difficulty=f"{record['difficulty']:.1f}",
            )
        else:
            advance(1)
        if checkpoint_every and record["step"] % checkpoint_every == 0:
            save(out / "checkpoint.safetensors")
        if eval_every and record["step"] % eval_every == 0:
            evaluations.append({"step": record["step"], **final_evaluation()})
            (out / "metrics.json").write_text(
                json.dumps({"settings": settings, "evaluations": evaluations}, indent=1)
            )

    with render.progress(steps, f"{model_name}/{task_name}", enabled=not quiet) as advance:
        history = train(model, the_task, config, device=device, on_step=on_step)
    final = final_evaluation()
    save(out / "model.safetensors")
    metrics = {"settings": settings, "final": final, "evaluations": evaluations, "history": history}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    metric_label = "bit errors / sequence" if the_task.kind == "bits" else "error rate"
    render.plot(
        lambda: plot_curves(
            history,
            final.get("sweep", {}),
            out / "curves.png",
            title=f"{model_name} on {task_name}",
            metric_label=metric_label,
        ),
        "the training curves",
    )
    click.echo(json.dumps({"out": str(out), "final": final}))


train.add_command(controller)
