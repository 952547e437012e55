"""The `agentmem` command as a user runs it: real processes, real stdin bytes, a fresh interpreter each.

Each process that touches the encoder pays seconds for importing torch, so there are few of them:
`--help` (no torch), bad stdin (rejected before torch), one `add` (read back from this process)
and the demo (which itself starts a second process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

AGENTMEM = str(Path(sys.executable).with_name("agentmem"))
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONIOENCODING": "utf-8"}


def agentmem(*args: str, input: bytes | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([AGENTMEM, *args], input=input, capture_output=True, env=ENV, timeout=timeout)


def test_help_is_fast_and_imports_no_heavy_module():
    best = min(_timed(lambda: agentmem("--help")) for _ in range(3))
    assert best < 1.0, f"agentmem --help took {best:.2f}s"
    probe = (
        "import sys\n"
        "from agentmem.cli import main\n"
        "for argv in (['agentmem', '--help'], ['agentmem', 'add', '--help'], ['agentmem', 'demo', '--help']):\n"
        "    sys.argv = argv\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ['torch', 'sentence_transformers', 'transformers', 'faiss', 'numpy', 'agentmem.memory']\n"
        "print('LOADED=' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=ENV, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Commands:" in out.stdout and "Examples:" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "LOADED="


def test_bad_arguments_and_empty_namespaces_are_told_before_any_model_loads(tmp_path, encoder):
    """A bad filter, a namespace that holds nothing, another encoder than the store's, an encoder that
    is not installed: each is answered without importing torch (so in well under a second)."""
    from agentmem import Memory

    store = tmp_path / "store"
    with Memory(store, encoder=encoder) as mem:
        mem.remember("Alice moved to Lisbon.", namespace=("user-42",))
    probe = (
        "import sys\n"
        "from agentmem.cli import main\n"
        f"store = {str(store)!r}\n"
        "for argv in ([\"recall\", \"x\", \"--filter\", '{\"a\": {\"$near\": 1}}'],\n"
        "             [\"recall\", \"where?\", \"-n\", \"user-43\"],\n"
        "             [\"init\", \"--encoder\", \"sentence-transformers/all-mpnet-base-v2\"],\n"
        "             [\"inspect\", \"-n\", \"user-4\"]):\n"
        "    sys.argv = [\"agentmem\", \"--store\", store, *argv]\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as e:\n"
        "        print('EXIT', e.code, file=sys.stderr)\n"
        "print('LOADED=' + ','.join(m for m in ('torch', 'sentence_transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=ENV, timeout=60)
    lines = out.stderr.strip().splitlines()
    assert lines[0].startswith("error: --filter: filter 'a': unknown operator '$near'") and lines[1] == "EXIT 1"
    assert lines[2] == (
        "warning: namespace user-43 holds no memories; did you mean user-42? `agentmem stats` lists the namespaces"
    )
    assert "was built with encoder all-MiniLM-L6-v2" in lines[3] and lines[4] == "EXIT 1"
    assert lines[5].startswith("warning: namespace user-4 holds no memories; did you mean user-42?")
    assert out.stdout.strip().splitlines()[-1] == "LOADED="


def _timed(fn) -> float:
    start = time.perf_counter()
    result = fn()
    assert result.returncode == 0, result.stderr
    return time.perf_counter() - start


def test_non_utf8_stdin_is_one_line_error_and_writes_nothing(tmp_path):
    store = tmp_path / "store"
    r = agentmem("--store", str(store), "add", "-n", "inbox", input=b"caf\xe9 au lait\nsecond line\n")
    assert r.returncode == 1
    assert r.stdout == b""
    lines = r.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: stdin is not valid UTF-8 (byte 0xe9 on line 1)")
    assert not store.exists()


def test_add_in_one_process_recall_in_another(tmp_path, encoder):
    from click.testing import CliRunner

    from agentmem.cli import cli

    store = tmp_path / "store"
    r = agentmem(
        "--store",
        str(store),
        "add",
        "--json",
        "-n",
        "user-42",
        input=b"Alice moved to Lisbon in May.\nBob adopted a grey cat named Tom.\n",
    )
    assert r.returncode == 0, r.stderr
    ids = json.loads(r.stdout)["ids"]
    assert len(ids) == 2
    # The writer has exited; this (pytest) process only has the files on disk.
    got = CliRunner().invoke(
        cli, ["--store", str(store), "recall", "Where does Alice live?", "-k", "1", "--json"]
    )
    assert got.exit_code == 0, got.output
    top = json.loads(got.stdout)["results"][0]
    assert (top["id"], top["text"], top["namespace"]) == (
        ids[0],
        "Alice moved to Lisbon in May.",
        ["user-42"],
    )


@pytest.mark.slow
def test_demo_end_to_end_recalls_in_a_new_process(tmp_path, encoder):
    from click.testing import CliRunner

    from agentmem.cli import cli

    store = tmp_path / "demo"
    r = agentmem("demo", "--store", str(store), "--json")
    assert r.returncode == 0, r.stderr.decode()
    report = json.loads(r.stdout)
    assert (report["store"], report["k"], report["ingested"]) == (str(store), 5, 90)
    assert report["pid"] != report["ingest_pid"]  # recalled by a process that wrote nothing
    assert report["total"] == 8 and report["found"] == sum(q["found"] for q in report["questions"]) >= 5
    pepper = next(q for q in report["questions"] if q["id"] == "q1")
    rank = pepper["first_evidence_rank"]
    assert pepper["found"] and 1 <= rank <= 5
    assert (pepper["hits"][rank - 1]["id"], pepper["hits"][rank - 1]["turn"]) == ("demo-maya-s1-05", "s1-05")
    assert all(len(q["hits"]) == 5 for q in report["questions"])

    # The store persisted: a third process (this one) sees all 90 turns and prints the table.
    runner = CliRunner()
    stats = runner.invoke(cli, ["--store", str(store), "stats", "--json"])
    assert json.loads(stats.stdout)["namespaces"] == [{"namespace": ["demo", "maya"], "memories": 90}]
    table = runner.invoke(cli, ["demo", "--store", str(store), "--phase", "recall"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert f"evidence found for {report['found']}/8 questions at k=5 (recalled by pid" in table.stdout
    assert "What is the name of Maya's dog?" in table.stdout and "s1-05" in table.stdout

    # --controller reads with the checkpoint given (here a copy of the packaged one: the same ranks);
    # a file that is no checkpoint is refused in one line before the store is touched.
    from agentmem.controller import DEFAULT_CHECKPOINT

    mine, bad = tmp_path / "mine.safetensors", tmp_path / "notes.safetensors"
    mine.write_bytes(Path(DEFAULT_CHECKPOINT).read_bytes())
    bad.write_text("not a checkpoint")
    again = runner.invoke(cli, ["demo", "--store", str(store), "--phase", "recall", "--controller", str(mine), "--json"])
    assert again.exit_code == 0, again.output
    ranks = [q["first_evidence_rank"] for q in json.loads(again.stdout)["questions"]]
    assert ranks == [q["first_evidence_rank"] for q in report["questions"]]
    refused = agentmem("demo", "--store", str(store), "--controller", str(bad))
    assert refused.returncode != 0
    message = refused.stderr.decode().strip().splitlines()
    assert len(message) == 1 and f"cannot read controller checkpoint {bad}" in message[0]
    stats = runner.invoke(cli, ["--store", str(store), "stats", "--json"])
    assert json.loads(stats.stdout)["namespaces"] == [{"namespace": ["demo", "maya"], "memories": 90}]
