"""`agentmem train task` and `agentmem bench scaling` end to end, kept tiny."""

from __future__ import annotations

import json

from click.testing import CliRunner
from safetensors.torch import load_file

from agentmem.cli.bench import bench
from agentmem.cli.train import train


def test_train_task_writes_checkpoint_metrics_and_curves(tmp_path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        train,
        [
            "task",
            "--task",
            "copy",
            "--model",
            "sam",
            "--steps",
            "4",
            "--batch-size",
            "2",
            "--memory-size",
            "16",
            "--word-size",
            "8",
            "--hidden-size",
            "16",
            "--seed",
            "3",
            "--out",
            str(out),
            "--quiet",
            "--device",
            "cpu",
            "--sweep",
            "3,6",
            "--eval-batches",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert [r["step"] for r in metrics["history"]] == [1, 2, 3, 4]
    assert metrics["settings"]["train"]["seed"] == 3
    assert metrics["final"]["sweep"]["name"] == "length" and metrics["final"]["sweep"]["values"] == [3, 6]
    assert (out / "curves.png").stat().st_size > 0
    weights = load_file(out / "model.safetensors")
    assert "cell.weight_ih" in weights


def test_train_task_is_reproducible_with_a_seed(tmp_path) -> None:
    losses = []
    for run in ("a", "b"):
        out = tmp_path / run
        args = [
            "task",
            "--task",
            "associative_recall",
            "--model",
            "dnc",
            "--steps",
            "3",
            "--batch-size",
            "2",
            "--memory-size",
            "8",
            "--word-size",
            "4",
            "--hidden-size",
            "8",
            "--out",
            str(out),
            "--quiet",
            "--sweep",
            "2",
            "--eval-batches",
            "1",
        ]
        assert CliRunner().invoke(train, args).exit_code == 0
        losses.append([r["loss"] for r in json.loads((out / "metrics.json").read_text())["history"]])
    assert losses[0] == losses[1]


def test_bench_scaling_rows(tmp_path) -> None:
    out = tmp_path / "scaling.json"
    result = CliRunner().invoke(
        bench,
        [
            "scaling",
            "--models",
            "dnc,sam",
            "--sizes",
            "64,4096",
            "--steps",
            "2",
            "--repeats",
            "1",
            "--word-size",
            "8",
            "--hidden-size",
            "8",
            "--memory-budget-mb",
            "100",
            "--device",
            "cpu",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["rows"]
    assert [(r["model"], r["N"]) for r in rows] == [
        ("dnc", 64),
        ("dnc", 4096),
        ("sam", 64),
        ("sam", 4096),
    ]
    assert rows[0]["status"] == "ok" and rows[0]["step_ms"] > 0 and rows[0]["peak_mb"] is not None
    assert rows[1]["status"].startswith("skipped") and rows[1]["step_ms"] is None
    assert rows[3]["status"] == "ok"
    assert out.with_suffix(".png").exists()
