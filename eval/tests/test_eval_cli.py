"""`agentmem eval` through click: JSON shape, report files, and the real encoder once."""

from __future__ import annotations

import json

from agentmem_eval.cli import eval_cli
from click.testing import CliRunner


def test_locomo_cli_writes_json_and_report(locomo_file, tmp_path):
    out, report = tmp_path / "r.json", tmp_path / "report"
    result = CliRunner().invoke(eval_cli, [
        "locomo", "--data", str(locomo_file), "--systems", "bm25,recency,full-context", "--k", "1,2",
        "--out", str(out), "--report", str(report), "--quiet"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["dataset"] == "locomo" and data["n_items"] == 5
    assert data["skipped"] == {"category_adversarial": 1, "no_evidence": 1, "unresolvable_evidence": 1}
    assert set(data["systems"]) == {"bm25", "recency", "full-context"}
    block = data["systems"]["recency"]
    assert {"recall_any@1", "recall_all@1", "by_category", "latency_ms", "session"} <= set(block)
    assert block["recall_any@2"] == 0.4
    assert {p.name for p in report.iterdir()} == {
        "report.md", "recall_at_k.png", "categories_recall_all@10.png", "categories_recall_any@10.png"}
    assert "| recency |" in (report / "report.md").read_text()
    assert "recency" in result.output  # the rich table


def test_cli_rejects_unknown_system(locomo_file, tmp_path):
    result = CliRunner().invoke(eval_cli, ["locomo", "--data", str(locomo_file), "--systems", "bm25,magic",
                                           "--out", str(tmp_path / "r.json"), "--quiet"])
    assert result.exit_code != 0
    assert "magic" in result.output


def test_synthetic_and_babi_with_the_real_encoder(encoder, babi_dir, tmp_path):
    out = tmp_path / "s.json"
    common = ["--systems", "dense,hybrid,agentmem", "--cache-dir", str(tmp_path / "cache"), "--quiet"]
    result = CliRunner().invoke(eval_cli, ["synthetic", "--observations", "300", "--questions", "8",
                                           "--out", str(out), *common])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["encoder"] == "all-MiniLM-L6-v2"
    assert data["systems"]["dense"]["recall_any@20"] > 0.5  # MiniLM finds most single facts among 300
    assert data["systems"]["agentmem"]["recall_any@20"] > 0.5
    result = CliRunner().invoke(eval_cli, ["babi", "--data", str(babi_dir), "--out", str(out), *common])
    assert result.exit_code == 0, result.output
    # Each question sees at most 4 lines: every system returns all of them within k=5.
    assert json.loads(out.read_text())["systems"]["dense"]["recall_all@5"] == 1.0


def test_qa_stage_from_the_command_line(locomo_file, tmp_path):
    out = tmp_path / "r.json"
    result = CliRunner().invoke(eval_cli, [
        "locomo", "--data", str(locomo_file), "--systems", "recency", "--out", str(out), "--quiet",
        "--qa-model", "test_eval_qa:fake_model", "--judge-model", "test_eval_qa:fake_model", "--qa-k", "3"])
    assert result.exit_code == 0, result.output
    qa = json.loads(out.read_text())["systems"]["recency"]["qa"]
    # The fake model answers "ok" to everything: no exact match, and the judge's "ok" is not a "yes".
    assert qa == {"n_items": 5, "exact_match": 0.0, "f1": 0.0, "judge": 0.0}


def test_compare_prints_and_reports_the_sign_test(locomo_file, tmp_path):
    out, report = tmp_path / "r.json", tmp_path / "report"
    result = CliRunner().invoke(eval_cli, [
        "locomo", "--data", str(locomo_file), "--systems", "bm25,recency", "--k", "1,2", "--compare", "bm25,recency",
        "--out", str(out), "--report", str(report), "--quiet"])
    assert result.exit_code == 0, result.output
    (pair,) = json.loads(out.read_text())["paired"]
    assert (pair["a"], pair["b"], pair["k"]) == ("bm25", "recency", 2)
    # bm25 finds all 5 items within 2 turns; recency the two whose gold includes a last turn (see
    # test_eval_runner). any@2: 3 items bm25 alone, p = 2 / 2^3; all@2: 4 alone, p = 2 / 2^4.
    assert pair["recall_any@2"] == {"n_items": 5, "a_only": 3, "b_only": 0, "both": 2, "neither": 0, "p_value": 0.25}
    assert pair["recall_all@2"]["a_only"] == 4 and pair["recall_all@2"]["p_value"] == 0.125
    assert pair["by_category"]["single-hop"]["recall_any@2"]["n_items"] == 2
    assert "| bm25 vs recency | 3 | 0 | 0.250 | 4 | 0 | 0.125 |" in (report / "report.md").read_text()
    assert "bm25 vs recency" in result.output
    assert "repaired: {'date_without_session': 1" in " ".join(result.output.split())


def test_default_systems_hold_the_new_baselines_and_drop_zsum_without_a_learned_controller():
    from agentmem_eval.cli import choose_systems

    assert choose_systems(None, learned=True) == (
        "agentmem", "zsum", "lexical", "dense", "bm25", "hybrid", "recency", "full-context")
    assert "zsum" not in choose_systems(None, learned=False)
    assert "lexical" in choose_systems(None, learned=False)


def test_shapes_reports_each_held_out_shape_as_a_category(tmp_path):
    out = tmp_path / "shapes.json"
    result = CliRunner().invoke(eval_cli, ["shapes", "--episodes", "1", "--systems", "bm25,recency",
                                           "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    from agentmem.episodes.shapes import HELD_OUT

    got = json.loads(out.read_text())["systems"]["bm25"]["by_category"]
    assert set(got) == set(HELD_OUT) and all(v["n_items"] > 0 for v in got.values())
    bad = CliRunner().invoke(eval_cli, ["shapes", "--shapes", "nope", "--systems", "bm25", "--quiet",
                                        "--out", str(tmp_path / "x.json")])
    assert bad.exit_code != 0 and "nope" in bad.output


def test_shapes_echo_defaults_to_the_generators_and_is_checked(tmp_path):
    from agentmem.episodes.shapes import ShapesConfig

    (echo,) = [p for p in eval_cli.commands["shapes"].params if p.name == "echo"]
    assert echo.default == ShapesConfig().echo
    bad = CliRunner().invoke(eval_cli, ["shapes", "--echo", "2", "--systems", "bm25", "--quiet",
                                        "--out", str(tmp_path / "x.json")])
    assert bad.exit_code != 0 and "--echo" in bad.output
