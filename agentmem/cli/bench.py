"""`agentmem bench`: benchmarks. `bench scaling` times a DNC and a SAM step as the memory grows.

Each (model, N, device) row runs in its own subprocess, so its peak memory is its own: CPU peak is the
process's peak resident set minus what it held before building the model (model, memory state,
FAISS index and activations all count); CUDA peak is torch's max allocated memory. A step is one
forward + backward time step of the whole network (controller + memory), measured as the median over
`--repeats` episodes of `--steps` steps divided by the steps. Dense models whose link matrix would not
fit the memory budget, or rows that exceed the time budget, get a row with a "status" saying so.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import click


@click.group()
def bench() -> None:
    """Benchmarks of the memory models."""


def dense_bytes_estimate(n: int, *, steps: int, batch: int) -> int:
    """Rough DNC footprint: ~6 float32 N x N tensors (link and its update's temporaries) kept per step."""
    return 6 * 4 * n * n * batch * steps


def measure(
    *,
    model: str,
    n: int,
    device: str,
    steps: int,
    repeats: int,
    batch: int,
    word_size: int,
    read_heads: int,
    hidden: int,
    candidates: int,
) -> dict[str, Any]:
    """Time and peak memory of one forward + backward step (runs inside the worker subprocess)."""
    import resource
    import statistics
    import time

    import faiss
    import torch

    from agentmem.research.models import ControllerConfig, build_model

    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    torch.manual_seed(0)

    def rss_mb() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20

    before = rss_mb()
    options: dict[str, Any] = {"memory_size": n, "word_size": word_size, "read_heads": read_heads}
    if model == "sam":
        options.update(candidates=candidates, prefill=True)
    net = build_model(
        model, input_size=8, output_size=8, controller=ControllerConfig(hidden_size=hidden), **options
    )
    net = net.to(device)
    state = net.core.initial_state(batch, torch.device(device))
    if model == "dnc":  # the same full memory SAM gets: random unit rows
        state.memory = torch.nn.functional.normalize(torch.randn_like(state.memory), dim=-1)
    inputs = torch.randn(batch, steps, 8, device=device)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(repeats + 1):  # the first episode warms up allocators and caches
        start = time.perf_counter()
        net(inputs, state).pow(2).mean().backward()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) / steps * 1000)
        if model == "sam":
            net.core.detach_state(state)
    if device == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    return {"step_ms": round(statistics.median(times[1:]), 3), "peak_mb": round(peak, 1), "status": "ok"}


def _run_worker(args: dict[str, Any], timeout: float) -> dict[str, Any]:
    code = (
        "import json, sys; from agentmem.cli.bench import measure; "
        "print(json.dumps(measure(**json.loads(sys.argv[1]))))"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"step_ms": None, "peak_mb": None, "status": f"timeout: over the {timeout:.0f} s time budget"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"step_ms": None, "peak_mb": None, "status": f"failed: {last}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def plot_scaling(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for (model, device), style in zip(
        sorted({(r["model"], r["device"]) for r in rows}), ["o-", "s-", "o--", "s--"], strict=False
    ):
        ok = [r for r in rows if r["model"] == model and r["device"] == device and r["status"] == "ok"]
        for ax, key in zip(axes, ["step_ms", "peak_mb"], strict=True):
            ax.plot([r["N"] for r in ok], [r[key] for r in ok], style, label=f"{model} ({device})")
    axes[0].set(xscale="log", yscale="log", xlabel="memory slots N", ylabel="ms per forward+backward step")
    axes[1].set(xscale="log", yscale="log", xlabel="memory slots N", ylabel="peak memory (MB)")
    for ax in axes:
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


@bench.command("scaling")
@click.option("--models", default="dnc,sam", show_default=True, help="Comma-separated: dnc, sam, ntm.")
@click.option("--sizes", default="1024,4096,16384,65536,262144,1048576", show_default=True)
@click.option("--steps", type=int, default=10, show_default=True, help="Time steps per episode.")
@click.option("--repeats", type=int, default=3, show_default=True, help="Timed episodes (median).")
@click.option("--batch-size", type=int, default=1, show_default=True)
@click.option("--word-size", type=int, default=32, show_default=True)
@click.option("--read-heads", type=int, default=2, show_default=True)
@click.option("--hidden-size", type=int, default=100, show_default=True)
@click.option("--candidates", type=int, default=8, show_default=True, help="SAM: K per head.")
@click.option("--time-budget", type=float, default=300, show_default=True, help="Seconds per row.")
@click.option(
    "--memory-budget-mb", type=float, default=4096, show_default=True, help="Skip dense rows above."
)
@click.option(
    "--device",
    "devices",
    default="auto",
    show_default=True,
    help="auto (CPU, and CUDA if present), cpu, cuda.",
)
@click.option("--out", "out_file", type=click.Path(dir_okay=False), required=True, help="JSON file to write.")
def scaling(
    models: str,
    sizes: str,
    steps: int,
    repeats: int,
    batch_size: int,
    word_size: int,
    read_heads: int,
    hidden_size: int,
    candidates: int,
    time_budget: float,
    memory_budget_mb: float,
    devices: str,
    out_file: str,
) -> None:
    """Step time and peak memory against memory size N, dense (DNC) vs sparse (SAM).

    \b
    Example:
      agentmem bench scaling --models dnc,sam --sizes 1024,4096,16384,65536,262144,1048576 --out scaling.json
    """
    import torch

    if devices == "auto":
        device_list = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    else:
        device_list = devices.split(",")
    rows: list[dict[str, Any]] = []
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    settings = {
        "steps": steps,
        "repeats": repeats,
        "batch_size": batch_size,
        "word_size": word_size,
        "read_heads": read_heads,
        "hidden_size": hidden_size,
        "candidates": candidates,
        "time_budget_s": time_budget,
        "memory_budget_mb": memory_budget_mb,
        "threads": 1,
    }
    for device in device_list:
        for model in models.split(","):
            timed_out = False
            for n in (int(s) for s in sizes.split(",")):
                row: dict[str, Any] = {"model": model, "N": n, "device": device}
                estimate = dense_bytes_estimate(n, steps=steps, batch=batch_size) / 2**20
                if model == "dnc" and estimate > memory_budget_mb:
                    row.update(
                        step_ms=None, peak_mb=None, status=f"skipped: dense links need ~{estimate:,.0f} MB"
                    )
                elif timed_out:
                    row.update(
                        step_ms=None, peak_mb=None, status="skipped: a smaller N exceeded the time budget"
                    )
                else:
                    args = {
                        "model": model,
                        "n": n,
                        "device": device,
                        "steps": steps,
                        "repeats": repeats,
                        "batch": batch_size,
                        "word_size": word_size,
                        "read_heads": read_heads,
                        "hidden": hidden_size,
                        "candidates": candidates,
                    }
                    row.update(_run_worker(args, time_budget))
                    timed_out = row["status"].startswith("timeout")
                rows.append(row)
                click.echo(json.dumps(row))
                out.write_text(json.dumps({"settings": settings, "rows": rows}, indent=1))
    from agentmem.cli import render

    render.plot(lambda: plot_scaling(rows, out.with_suffix(".png")), "the scaling curves")
