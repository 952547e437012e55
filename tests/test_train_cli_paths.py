"""`agentmem train` as an installed package shows it: defaults under the current directory, no path of
this repository's layout, and one-line usage errors for a missing or misnamed --data."""

from __future__ import annotations

from click.testing import CliRunner

from agentmem.cli.train import train


def test_help_shows_defaults_of_an_installed_package() -> None:
    for command in ("task", "controller"):
        text = CliRunner().invoke(train, [command, "--help"], terminal_width=200).output
        assert "shared/" not in text and "eval/" not in text and "../" not in text, command
    task_help = CliRunner().invoke(train, ["task", "--help"], terminal_width=200).output
    assert "default: ./runs/TASK-MODEL, under the current directory" in task_help


def test_the_default_out_is_runs_task_model_in_the_current_directory(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(train, ["task", "--task", "copy", "--model", "lstm", "--steps", "2", "--batch-size",
                                        "2", "--hidden-size", "8", "--eval-batches", "1", "--sweep", "2", "--quiet",
                                        "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert {"model.safetensors", "metrics.json"} <= {p.name for p in (tmp_path / "runs" / "copy-lstm").iterdir()}


def test_babi_without_data_or_task_files_is_a_usage_error(tmp_path) -> None:
    result = CliRunner().invoke(train, ["task", "--task", "babi", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "--task babi needs --data: give the directory of the bAbI v1.2 task files" in result.output
    result = CliRunner().invoke(train, ["task", "--task", "babi", "--data", str(tmp_path), "--out",
                                        str(tmp_path / "run")])
    assert result.exit_code == 2
    assert f"Invalid value for --data: no qa1_*_train.txt under {tmp_path}; give the directory" in result.output
    assert not (tmp_path / "run").exists()


def test_controller_names_a_misspelt_generator(tmp_path) -> None:
    result = CliRunner().invoke(train, ["controller", "--data", "dialog", "--out", str(tmp_path / "c.safetensors")])
    assert result.exit_code == 2
    assert "Invalid value for --data: 'dialog' is neither a generator (shapes, dialogue, synthetic" in result.output
