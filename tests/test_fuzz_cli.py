"""Generated command lines through the real `agentmem` entry point: each either works or prints one
`error: ...` line and exits non-zero; no traceback, no bug exit (3); what `add` accepted reads back
as given through `show --json`.

Examples: AGENTMEM_FUZZ_EXAMPLES // 3 (default 50)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli import run

EXAMPLES = max(10, int(os.environ.get("AGENTMEM_FUZZ_EXAMPLES", "150")) // 3)
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

# argv strings as a shell delivers them: undecodable bytes arrive as lone surrogates (\udc80-\udcff).
odd = st.sampled_from(
    ["", " ", "-1", "0", "10" * 12, "1e400", "nan", "\udcff", "a/b", "//", '["a/b"]', "[1]", "{", "{}", '{"k": [1e999]}',
     '{"$in": 3}', '{"k": {"$gt": [1]}}', "9999-12-31T23:59:59-05:00", "2024-05-08", "x" * 300, "*", "\x7f", "--help"]
)
arg = st.one_of(odd, st.text(st.characters(codec=None, categories=None), max_size=8))
OPTIONS = {
    "add": ["-n", "--metadata", "--event-time", "--jsonl", "--whole"],
    "recall": ["-k", "-n", "--filter"],
    "inspect": ["--page", "--offset", "--limit", "-n", "--filter", "-q"],
    "show": ["-q"],
    "forget": ["-n", "--filter", "--all", "--yes"],
    "purge": ["-n", "--yes"],
    "stats": [],
    "export": [],
    "check": ["--repair"],
}


@contextmanager
def working_in(directory: Path) -> Iterator[None]:
    """Run with `directory` as the working directory: a generated `export FILE` or `--jsonl FILE`
    names a file relative to it, never one in the repository."""
    before = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(before)


@st.composite
def command_lines(draw):
    name = draw(st.sampled_from(sorted(OPTIONS)))
    argv = [name]
    for option in draw(st.lists(st.sampled_from(OPTIONS[name] or ["--json"]), max_size=3, unique=True)):
        argv.append(option)
        if option not in ("--all", "--yes", "--whole", "--repair", "--json"):
            argv.append(draw(arg))
    argv += draw(st.lists(arg, max_size=2))
    return argv


@fuzz
@given(argv=command_lines())
def test_a_command_line_works_or_says_what_is_wrong(tmp_path_factory, encoder, argv):
    store = tmp_path_factory.mktemp("cli") / "s"
    seeded = run(store, "add", "--jsonl", "-", input='{"text": "Alice moved to Lisbon.", "id": "a1", "namespace": "u1"}\n')
    assert seeded.code == 0, seeded
    with working_in(store.parent):
        r = run(store, *argv, input="")
    assert "Traceback" not in r.out + r.err, r
    assert r.code in (0, 1, 2, 130), r
    if r.code == 1 and "error:" in r.err:
        assert len([x for x in r.err.strip().splitlines() if x.startswith("error:")]) == 1, r


@fuzz
@given(text=arg, ns=arg, meta=arg, when=arg)
def test_what_add_accepts_reads_back_as_given(tmp_path_factory, encoder, text, ns, meta, when):
    store = tmp_path_factory.mktemp("cli") / "s"
    r = run(store, "add", "-n", ns, "--metadata", meta, "--event-time", when, "--json", "--", text)
    assert "Traceback" not in r.out + r.err and r.code in (0, 1, 2), r
    if r.code != 0:
        return
    (id_,) = json.loads(r.out)["ids"]
    shown = run(store, "show", id_, "--json")
    assert shown.code == 0, shown
    record = json.loads(shown.out)["record"]
    assert record["text"] == text
    assert record["metadata"] == json.loads(meta)
    assert record["namespace"] == (json.loads(ns) if ns.lstrip().startswith("[") else ns.split("/"))
