"""`agentmem eval` on bad input: a loader's InvalidInputError reaches the caller as is (the `agentmem`
command prints it as one line), and bad option values are click errors before any work is done."""

from __future__ import annotations

from agentmem_eval.cli import eval_cli
from click.testing import CliRunner

from agentmem.errors import InvalidInputError


def test_a_malformed_data_file_raises_the_loaders_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"sample_id": "conv-a", "qa": []}]')
    result = CliRunner().invoke(eval_cli, ["locomo", "--data", str(bad), "--quiet", "--out", str(tmp_path / "r.json")])
    assert isinstance(result.exception, InvalidInputError)
    assert str(result.exception).startswith(f'LoCoMo file {bad}: sample 1 ("conv-a"): field "conversation" is missing')


def test_a_chat_model_that_cannot_load_fails_before_the_evaluation(locomo_file, tmp_path):
    out = tmp_path / "r.json"
    result = CliRunner().invoke(eval_cli, ["locomo", "--data", str(locomo_file), "--systems", "recency", "--quiet",
                                           "--out", str(out), "--qa-model", "no_such_module_xyz:model"])
    assert result.exit_code == 2
    assert "Invalid value for --qa-model: cannot load 'no_such_module_xyz:model'" in result.output
    assert not out.exists()


def test_an_unwritable_out_is_a_one_line_error(locomo_file, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = CliRunner().invoke(eval_cli, ["locomo", "--data", str(locomo_file), "--systems", "recency", "--quiet",
                                           "--out", str(blocker / "r.json")])
    assert result.exit_code == 1
    assert f"Could not open file '{blocker / 'r.json'}'" in result.output
    assert "give another --out" in result.output


def test_counts_below_one_are_refused(tmp_path):
    for args in (["synthetic", "--episodes", "0"], ["synthetic", "--questions", "0"],
                 ["dialogue", "--episodes", "0"], ["synthetic", "--limit", "0"]):
        result = CliRunner().invoke(eval_cli, [*args, "--quiet", "--out", str(tmp_path / "r.json")])
        assert result.exit_code == 2, args
        assert "is not in the range x>=1" in result.output, args
    assert not (tmp_path / "r.json").exists()


def test_bad_compare_pairs_and_zsum_without_a_learned_controller_are_refused(locomo_file, tmp_path):
    out = tmp_path / "r.json"
    common = ["locomo", "--data", str(locomo_file), "--quiet", "--out", str(out)]
    cases = [
        (["--systems", "bm25,recency", "--compare", "agentmem,bm25"],
         "Invalid value for --compare: agentmem is not evaluated in this run; add it to --systems (bm25,recency)"),
        (["--systems", "bm25", "--compare", "bm25,bm25"],
         "Invalid value for --compare: 'bm25,bm25' is not two different systems; give A,B"),
        (["--systems", "zsum,bm25", "--controller", "cosine"],
         "Invalid value for --systems: zsum ranks with an untrained learned scorer, and --controller cosine has none"),
        (["--systems", ","], "Invalid value for --systems: no system given"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(eval_cli, [*common, *args])
        assert result.exit_code == 2, args
        assert message in " ".join(result.output.split()), result.output
    assert not out.exists()
