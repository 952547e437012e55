"""The `agentmem` store commands and demo, in-process through click's CliRunner isolation.

Commands run through `agentmem.cli.main` (not just the click group), so the one-line `error: ...`
printing and exit codes are the ones a user sees. The real default encoder is loaded once per
session (conftest's `encoder` fixture); every store is a real SQLite + FAISS store under tmp_path.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner

from agentmem.cli import COMMANDS, main

SEED = [
    {
        "id": "alice-home",
        "text": "Alice moved to Lisbon in May.",
        "namespace": "user-42/notes",
        "metadata": {"source": "chat", "turn": 1},
        "event_time": "2026-05-01T10:00:00Z",
    },
    {
        "text": "Bob adopted a grey cat named Tom.",
        "namespace": ["user-42", "notes"],
        "metadata": {"source": "chat", "turn": 2},
    },
    {
        "text": "The quarterly report is due on Friday.",
        "namespace": "user-7",
        "metadata": {"source": "email", "turn": 3},
    },
    {
        "text": "Alice's favourite tea is genmaicha.",
        "namespace": "user-42",
        "metadata": {"source": "chat", "turn": 4},
    },
]
# An existing id updates the memory and keeps the old version in its history.
UPDATE = [
    {
        "id": "alice-home",
        "text": "Alice moved from Lisbon to Porto in September.",
        "namespace": "user-42/notes",
        "metadata": {"source": "chat", "turn": 5},
        "event_time": "2026-09-10T08:30:00+00:00",
    },
]


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def run(store: Path | None, *args: str, input: str | bytes | None = None, env: dict | None = None) -> Run:
    """`agentmem [--store STORE] ARGS` through the real entry point, with captured stdin/stdout/stderr."""
    argv = ["agentmem", *(["--store", str(store)] if store else []), *args]
    with CliRunner().isolation(input=input, env=env) as (out, err, _), mock.patch.object(sys, "argv", argv):
        try:
            main()
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else int(e.code is not None)
    return Run(code, out.getvalue().decode(), err.getvalue().decode())


def assert_error(r: Run, *words: str) -> None:
    """A failed command: non-zero exit, nothing on stdout, one `error:` line on stderr naming the problem."""
    assert r.code != 0, r
    assert r.out == "", r
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.err
    for w in words:
        assert w.lower() in lines[0].lower(), (w, lines[0])


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def items(store: Path, *args: str) -> list[dict]:
    return run(store, "inspect", "--limit", "1000", "--json", *args).json()["items"]


@pytest.fixture(scope="session")
def seeded(tmp_path_factory, encoder) -> Path:
    """A store with the SEED rows (one of them updated); tests that mutate use their own stores."""
    store = tmp_path_factory.mktemp("seeded") / "store"
    src = store.parent / "seed.jsonl"
    for rows in (SEED, UPDATE):
        src.write_text(jsonl(rows))
        r = run(store, "add", "--jsonl", str(src))
        assert r.code == 0, r
    return store


@pytest.fixture
def store(tmp_path, encoder) -> Path:
    return tmp_path / "store"


# -- help ----------------------------------------------------------------------------------------


MINE = [
    n
    for n, (target, _) in COMMANDS.items()
    if target.startswith(("agentmem.cli.store_commands", "agentmem.cli.demo"))
]


@pytest.mark.parametrize("name", MINE)
def test_every_command_help_teaches_with_examples(name):
    r = run(None, name, "--help")
    assert r.code == 0
    examples = r.out.split("Examples:")[1]
    assert f" {name}" in examples and "agentmem" in examples


# -- init / add ----------------------------------------------------------------------------------


def test_init_creates_store_and_reports_it(store):
    r = run(store, "init", "--json")
    assert r.code == 0
    info = r.json()
    assert info["path"] == str(store) and info["memories"] == 0
    assert (info["encoder"], info["dim"], info["index"]) == ("all-MiniLM-L6-v2", 384, "auto")
    again = run(store, "init")
    assert again.code == 0 and again.out.startswith(f"store ready at {store} (0 memories")


def test_init_hnsw_is_recorded_for_later_commands(store):
    assert run(store, "init", "--index", "hnsw").code == 0
    assert run(store, "stats", "--json").json()["index"] == "hnsw"


def test_add_arguments_prints_one_id_per_line_and_stores_everything(store):
    r = run(
        store,
        "add",
        "Alice moved to Lisbon.",
        "Bob has a cat.",
        "-n",
        "user-42/notes",
        "--metadata",
        '{"source": "chat"}',
        "--event-time",
        "2026-05-04T18:15:00",
    )
    assert r.code == 0, r
    ids = r.out.split()
    assert len(ids) == 2 and len(set(ids)) == 2
    got = items(store)
    assert [g["id"] for g in got] == ids
    assert [g["text"] for g in got] == ["Alice moved to Lisbon.", "Bob has a cat."]
    assert all(g["namespace"] == ["user-42", "notes"] and g["metadata"] == {"source": "chat"} for g in got)
    assert got[0]["event_time"] == "2026-05-04T18:15:00+00:00"  # no offset means UTC


def test_add_json_shape(store):
    r = run(store, "add", "one", "two", "--json")
    assert r.code == 0
    assert set(r.json()) == {"ids"} and r.json()["ids"] == [g["id"] for g in items(store)]


def test_add_stdin_one_memory_per_line_blank_lines_skipped(store):
    r = run(store, "add", "-n", "inbox", input="likes tea\n\n  \nhas a beagle\r\n")
    assert r.code == 0, r
    assert [g["text"] for g in items(store)] == ["likes tea", "has a beagle"]


def test_add_dash_and_whole_read_all_of_stdin_as_one_memory(store):
    r = run(store, "add", "-", "--whole", input="line one\nline two\n")
    assert r.code == 0, r
    assert [g["text"] for g in items(store)] == ["line one\nline two"]


def test_add_jsonl_uses_options_as_defaults(store, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        jsonl(
            [
                {"text": "first", "id": "n-1"},
                {
                    "text": "second",
                    "namespace": "other/place",
                    "metadata": {"x": 1},
                    "event_time": 1767225600,
                },
            ]
        )
    )
    r = run(store, "add", "--jsonl", str(src), "-n", "base", "--metadata", '{"source": "file"}')
    assert r.code == 0, r
    first, second = items(store)
    assert (first["id"], first["namespace"], first["metadata"]) == ("n-1", ["base"], {"source": "file"})
    assert (second["namespace"], second["metadata"]) == (["other", "place"], {"x": 1})
    assert second["event_time"] == "2026-01-01T00:00:00+00:00"


def test_add_jsonl_from_stdin(store):
    r = run(store, "add", "--jsonl", "-", "--json", input=jsonl([{"text": "via stdin"}]))
    assert r.code == 0 and len(r.json()["ids"]) == 1
    assert items(store)[0]["text"] == "via stdin"


# -- bad input: one line, non-zero exit, nothing written -----------------------------------------


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (["add", "ok", "   "], None, ["text argument 2", "empty"]),
        (["add", ""], None, ["empty"]),
        (["add"], "\n  \n", ["stdin holds no text"]),
        (["add"], b"caf\xe9 au lait\n", ["not valid UTF-8", "line 1", "iconv"]),
        (["add", "x", "--metadata", "{source: chat}"], None, ["--metadata is not valid JSON"]),
        (["add", "x", "--metadata", "[1, 2]"], None, ["must be a JSON object"]),
        (["add", "x", "--event-time", "next tuesday"], None, ["--event-time", "ISO 8601"]),
        # unix seconds are ASCII decimals: float() alone would read these as numbers
        (["add", "x", "--event-time", "1_700_000_000"], None, ["--event-time", "cannot read '1_700_000_000'"]),
        (["add", "x", "--event-time", "\u0661\u0662\u0663"], None, ["--event-time", "ISO 8601"]),
        (["add", "x", "--event-time", "nan"], None, ["--event-time", "ISO 8601"]),
        (["add", "x", "-n", "a//b"], None, ["empty segment"]),
        (["add", "x", "--jsonl", "f.jsonl"], None, ["not both"]),
        (["add", "--jsonl", "-"], '{"txt": "typo"}\n', ["line 1", "unknown key 'txt'"]),
        (
            ["add", "--jsonl", "-"],
            '{"text": "a", "id": "x"}\n{"text": "b", "id": "x"}\n',
            ["line 2", "repeats id"],
        ),
        (["add", "--jsonl", "-"], '{"text": 3}\n', ["line 1", '"text" string']),
        (["add", "--jsonl", "-"], '{"text": "a", "metadata": "m"}\n', ["line 1", "metadata"]),
        (["add", "--jsonl", "missing.jsonl"], None, ["cannot read missing.jsonl"]),
        (["add", "--jsonl", "-"], b'{"text": "ok"}\n{"text": "na\xefve"}\n', ["stdin is not valid UTF-8", "line 2"]),
        (["add", "fine", "caf\udce9"], None, ["text argument 2 is not valid UTF-8"]),  # undecodable argv bytes
    ],
)
def test_add_bad_input_writes_nothing(store, args, stdin, words):
    r = run(store, *args, input=stdin)
    assert_error(r, *words)
    assert not store.exists()  # validated before the store was even opened


def test_add_long_text_is_kept_whole_and_the_policy_is_said(store, caplog):
    long = "word " * 700
    r = run(store, "add", long)
    assert r.code == 0, r
    assert items(store)[0]["text"] == long
    assert "embedded as the mean of its window-sized chunks; full text kept" in caplog.text


def test_jsonl_with_bad_line_57_writes_nothing_to_an_existing_store(store, tmp_path):
    assert run(store, "add", "already here").code == 0
    rows = [json.dumps({"text": f"note {i}"}) for i in range(1, 61)]
    rows[56] = '{"text": "note 57",'  # truncated JSON on line 57
    src = tmp_path / "bulk.jsonl"
    src.write_text("\n".join(rows) + "\n")
    assert_error(run(store, "add", "--jsonl", str(src)), "line 57", "not valid JSON")
    assert [g["text"] for g in items(store)] == ["already here"]


def test_jsonl_moving_an_existing_id_to_another_namespace_writes_nothing(store):
    assert run(store, "add", "--jsonl", "-", input=jsonl([{"text": "old", "id": "x", "namespace": "a"}])).code == 0
    rows = [{"text": "new", "id": "y", "namespace": "b"}, {"text": "moved", "id": "x", "namespace": "b"}]
    assert_error(run(store, "add", "--jsonl", "-", input=jsonl(rows)), "id 'x' exists in namespace a, not b")
    assert [(g["id"], g["text"]) for g in items(store)] == [("x", "old")]


@pytest.mark.parametrize(
    "args",
    [["recall", "anything"], ["inspect"], ["show", "some-id"], ["stats"], ["forget", "some-id"], ["export"]],
)
def test_read_commands_on_a_missing_store_say_how_to_create_one(tmp_path, args):
    store = tmp_path / "nowhere"
    assert_error(run(store, *args), f"no store at {store}", f"agentmem --store {store} init")
    assert not store.exists()


def test_store_path_that_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("not a store")
    assert_error(run(f, "add", "hello"), "is a file")
    assert_error(run(f, "stats"), "is a file")


def test_corrupt_sqlite_is_one_line_not_a_traceback(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    (store / "memory.db").write_bytes(b"this is not sqlite" * 100)
    assert_error(run(store, "stats"), "not a readable agentmem database")
    assert_error(run(store, "add", "hello"), "not a readable agentmem database")


def test_encoder_mismatch_names_both_encoders(store):
    assert run(store, "init").code == 0
    with sqlite3.connect(store / "memory.db") as db:
        db.execute("UPDATE meta SET value = 'function:my_embed' WHERE key = 'encoder'")
        db.execute("UPDATE meta SET value = '16' WHERE key = 'dim'")
    assert_error(run(store, "recall", "x"), "function:my_embed", "all-MiniLM-L6-v2")


@pytest.mark.skipif(
    sys.platform == "win32" or __import__("os").geteuid() == 0, reason="root ignores permissions"
)
def test_read_only_store_directory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert_error(run(ro / "store", "add", "hello"), "cannot create store directory")
    finally:
        ro.chmod(0o755)


def test_recall_bad_filter_and_empty_query(seeded):
    assert_error(run(seeded, "recall", "tea", "--filter", "{oops"), "--filter is not valid JSON")
    assert_error(run(seeded, "recall", "  "), "query", "empty")


def test_show_unknown_id(seeded):
    assert_error(run(seeded, "show", "no-such-id"), "no memory with id 'no-such-id'", "agentmem inspect")


# -- recall --------------------------------------------------------------------------------------


def test_recall_json_shape_and_ranking(seeded):
    r = run(seeded, "recall", "Where", "does", "Alice", "live?", "-k", "2", "--json")
    assert r.code == 0, r
    doc = r.json()
    assert (doc["query"], doc["k"], doc["namespace"], doc["filter"]) == (
        "Where does Alice live?",
        2,
        None,
        None,
    )
    assert len(doc["results"]) == 2
    top = doc["results"][0]
    assert top["id"] == "alice-home" and top["text"] == "Alice moved from Lisbon to Porto in September."
    assert top["namespace"] == ["user-42", "notes"] and top["version"] == 2
    assert {"score", "weight", "why", "metadata", "created_at", "event_time", "usage"} <= set(top)
    assert top["score"] >= doc["results"][1]["score"]
    assert sum(top["why"].values()) == pytest.approx(top["score"], abs=1e-4)


def test_recall_namespace_and_filter_narrow_the_results(seeded):
    ns = run(seeded, "recall", "what is due", "-n", "user-7", "--json").json()["results"]
    assert [x["namespace"] for x in ns] == [["user-7"]]
    prefix = run(seeded, "recall", "pets", "-n", "user-42", "-k", "10", "--json").json()["results"]
    assert len(prefix) == 3 and all(x["namespace"][0] == "user-42" for x in prefix)
    flt = run(seeded, "recall", "anything", "--filter", '{"turn": {"$gte": 4}}', "--json").json()["results"]
    assert sorted(x["metadata"]["turn"] for x in flt) == [4, 5]


TERMINAL = {"TTY_COMPATIBLE": "1"}  # what rich (and render.to_terminal) take for a terminal


def test_recall_table_shows_rank_score_why_text_and_id(seeded):
    r = run(seeded, "recall", "favourite tea", "-k", "1", env={**TERMINAL, "COLUMNS": "240"})  # why is wide
    assert r.code == 0
    assert "favourite tea is genmaicha" in r.out and "content" in r.out and "user-42" in r.out
    tea_id = [g["id"] for g in items(seeded) if "genmaicha" in g["text"]][0]
    assert tea_id in r.out


def test_recall_into_a_pipe_is_one_tab_separated_line_per_memory(seeded):
    doc = run(seeded, "recall", "Where does Alice live?", "-k", "2", "--json").json()
    r = run(seeded, "recall", "Where does Alice live?", "-k", "2")
    rows = [line.split("\t") for line in r.out.splitlines()]
    assert [len(row) for row in rows] == [6, 6]
    for rank, (row, hit) in enumerate(zip(rows, doc["results"], strict=True), 1):
        assert row[:4] == [str(rank), f"{hit['score']:.3f}", hit["id"], "/".join(hit["namespace"])]
        assert row[4].startswith(max(hit["why"], key=lambda k: abs(hit["why"][k]))) and row[5] == hit["text"]


# -- inspect / show / stats ----------------------------------------------------------------------


def test_inspect_json_pages_in_write_order(seeded):
    doc = run(seeded, "inspect", "--json").json()
    assert (doc["total"], doc["offset"], doc["limit"]) == (4, 0, 20)
    assert [g["text"][:12] for g in doc["items"]] == [
        "Alice moved ",
        "Bob adopted ",
        "The quarterl",
        "Alice's favo",
    ]
    page2 = run(seeded, "inspect", "--page", "2", "--page-size", "2", "--json").json()
    same = run(seeded, "inspect", "--offset", "2", "--limit", "2", "--json").json()
    assert page2 == same and [g["id"] for g in page2["items"]] == [g["id"] for g in doc["items"][2:4]]
    only = run(seeded, "inspect", "-n", "user-42/notes", "--json").json()
    assert only["total"] == 2 and {tuple(g["namespace"]) for g in only["items"]} == {("user-42", "notes")}
    assert_error(run(seeded, "inspect", "--page", "2", "--offset", "3"), "--page or --offset")


def test_inspect_table_has_links_usage_age_and_a_next_page_hint(seeded):
    r = run(seeded, "inspect", "--limit", "2", env=TERMINAL)
    assert r.code == 0
    assert "slots 1-2 of 4" in r.out and "agentmem inspect --offset 2 --limit 2" in r.out
    assert "alice-home" in r.out and "usage" in r.out and "prev → next" in r.out


def test_inspect_into_a_pipe_gives_whole_ids_and_links(seeded):
    doc = run(seeded, "inspect", "--json").json()
    r = run(seeded, "inspect", "--limit", "2")
    rows = [line.split("\t") for line in r.out.splitlines()]
    assert [row[1] for row in rows] == [g["id"] for g in doc["items"][:2]]
    first = doc["items"][0]
    assert rows[0][0] == str(first["write_order"]) and rows[0][3] == f"{first['usage']:.2f}"
    assert rows[0][5:7] == [first["prev_id"] or "-", first["next_id"] or "-"] and rows[0][7] == first["text"]
    assert "slots 1-2 of 4; next: agentmem inspect --offset 2 --limit 2" in r.err


def test_show_json_has_record_history_and_neighbours(seeded):
    doc = run(seeded, "show", "alice-home", "--json").json()
    rec = doc["record"]
    assert rec["id"] == "alice-home" and rec["version"] == 2
    assert [v["text"] for v in doc["history"]] == ["Alice moved to Lisbon in May.", rec["text"]]
    assert doc["history"][0]["event_time"] == "2026-05-01T10:00:00+00:00"
    assert doc["history"][0]["metadata"] == {"source": "chat", "turn": 1}
    assert doc["neighbours"]["prev"] is None  # first in its namespace
    assert doc["neighbours"]["next"]["id"] == rec["next_id"]
    assert doc["neighbours"]["next"]["text"] == "Bob adopted a grey cat named Tom."


def test_show_table(seeded):
    r = run(seeded, "show", "alice-home")
    assert r.code == 0
    assert "history" in r.out and "Lisbon in May" in r.out and "Bob adopted" in r.out


def test_stats_json_and_table(seeded):
    info = run(seeded, "stats", "--json").json()
    assert info["memories"] == 4
    assert info["namespaces"] == [
        {"namespace": ["user-42"], "memories": 1},
        {"namespace": ["user-42", "notes"], "memories": 2},
        {"namespace": ["user-7"], "memories": 1},
    ]
    assert (info["encoder"], info["dim"], info["index"]) == ("all-MiniLM-L6-v2", 384, "auto")
    assert info["bytes_on_disk"] > 0 and info["path"] == str(seeded)
    table = run(seeded, "stats").out
    assert "user-42/notes" in table and "all-MiniLM-L6-v2" in table and "bytes_on_disk" in table


# -- forget --------------------------------------------------------------------------------------


@pytest.fixture
def five(store) -> Path:
    rows = [{"text": f"scratch {i}", "namespace": "tmp", "metadata": {"i": i}} for i in range(3)]
    rows += [{"text": f"keep {i}", "namespace": "keep", "id": f"keep-{i}"} for i in range(2)]
    assert run(store, "add", "--jsonl", "-", input=jsonl(rows)).code == 0
    return store


def test_forget_by_id_reports_unknown_ids(five):
    r = run(five, "forget", "keep-0", "nope", "--json")
    assert r.json() == {"forgotten": 1, "not_found": ["nope"]}
    plain = run(five, "forget", "keep-1")
    assert (plain.code, plain.out) == (0, "forgot 1 memory\n")
    assert {g["namespace"][0] for g in items(five)} == {"tmp"}


def test_forget_namespace_asks_first(five):
    declined = run(five, "forget", "-n", "tmp", input="n\n")
    assert declined.code == 130 and "forget 3 memories matching namespace tmp?" in declined.err
    assert len(items(five)) == 5
    accepted = run(five, "forget", "-n", "tmp", input="y\n")
    assert accepted.code == 0 and accepted.out == "forgot 3 memories\n"
    assert [g["id"] for g in items(five)] == ["keep-0", "keep-1"]


def test_forget_filter_and_all(five):
    assert run(five, "forget", "--filter", '{"i": {"$gte": 1}}', "--yes", "--json").json()["forgotten"] == 2
    assert run(five, "forget", "--all", "--yes").out == "forgot 3 memories\n"
    assert items(five) == []


def test_forget_needs_exactly_one_selector(five):
    assert_error(run(five, "forget"), "say what to forget")
    assert_error(run(five, "forget", "keep-0", "--all"), "say what to forget")
    assert len(items(five)) == 5


# -- export / import -----------------------------------------------------------------------------


def _strip_exported_at(text: str) -> list[dict]:
    lines = [json.loads(x) for x in text.splitlines()]
    lines[0].pop("exported_at")
    return lines


def test_export_import_round_trip_is_lossless(seeded, tmp_path):
    dump = tmp_path / "dump.jsonl"
    r = run(seeded, "export", str(dump))
    assert r.code == 0 and r.out == "" and "exported 4 memories" in r.err
    head, *lines = _strip_exported_at(dump.read_text())
    assert head == {
        "format": "agentmem-export",
        "version": 1,
        "encoder": "all-MiniLM-L6-v2",
        "dim": 384,
        "count": 4,
    }
    alice = next(x for x in lines if x["id"] == "alice-home")
    assert [v["version"] for v in alice["history"]] == [1, 2]

    copy = tmp_path / "copy"
    imported = run(copy, "import", str(dump), "--json")
    assert imported.code == 0, imported
    assert imported.json() == {"imported": 4}
    again = run(copy, "export")  # to stdout this time
    assert again.code == 0
    assert _strip_exported_at(again.out) == [head, *lines]
    assert _strip_exported_at(run(seeded, "export").out) == [head, *lines]  # stdout == file
    # The copy answers like the original.
    top = run(copy, "recall", "Where does Alice live?", "-k", "1", "--json").json()["results"][0]
    assert top["id"] == "alice-home"
    # Importing twice: the second run refuses the clash and changes nothing.
    assert_error(run(copy, "import", str(dump)), "'alice-home' is already in the store")
    assert len(items(copy)) == 4


def test_import_refuses_bad_files_and_writes_nothing(seeded, tmp_path):
    dump = tmp_path / "dump.jsonl"
    assert run(seeded, "export", str(dump)).code == 0
    good = dump.read_text().splitlines()
    target = tmp_path / "target"

    def attempt(text: str, *words: str) -> None:
        bad = tmp_path / "bad.jsonl"
        bad.write_text(text)
        assert_error(run(target, "import", str(bad)), *words)
        assert not target.exists() or items(target) == []

    attempt('{"text": "plain"}\n', "not an agentmem export header", "agentmem add --jsonl")
    attempt("\n".join(good[:3]) + "\n", "header says 4 memories but holds 2")
    broken = json.loads(good[2])
    broken["created_at"] = "yesterday"
    attempt("\n".join([good[0], good[1], json.dumps(broken), *good[3:]]) + "\n", "line 3", "created_at")
    attempt("\n".join([*good[:3], "{", *good[3:]]) + "\n", "line 4", "not valid JSON")


# -- demo (the full run, which ingests, is in test_cli_subprocess.py) -----------------------------


def test_demo_recall_without_ingest_says_what_to_run(store):
    assert run(store, "init").code == 0
    assert_error(run(None, "demo", "--store", str(store), "--phase", "recall"), "--phase ingest")


def test_demo_store_choice_never_defaults_to_agentmem_store(tmp_path):
    env = {"AGENTMEM_STORE": str(tmp_path / "work"), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    default = tmp_path / "xdg" / "agentmem" / "demo"
    assert_error(run(None, "demo", "--phase", "recall", env=env), f"no store at {default}", "--phase ingest")
    typed = tmp_path / "typed"
    assert_error(run(typed, "demo", "--phase", "recall", env=env), f"no store at {typed};")
    own = tmp_path / "own"
    assert_error(run(typed, "demo", "--store", str(own), "--phase", "recall"), f"no store at {own};")
    assert not any(p.exists() for p in (tmp_path / "work", default, typed, own))


def test_a_nul_byte_in_a_path_argument_is_a_one_line_error(tmp_path):
    """Only an in-process caller can pass one (exec refuses them), but the answer is still an error line,
    not a bug report."""
    assert_error(run(tmp_path / "s", "add", "--jsonl", "notes\x00.jsonl"), "cannot read", "null byte")
    r = run(None, "--store", "s\x00", "stats")
    assert r.code == 2
    assert_error(r, "NUL byte")


def test_add_splits_its_input_into_calls_a_server_takes():
    """`add` writes in batches within a server's per-call limits: 1,000 texts, 1,000,000 characters."""
    from agentmem.cli.inputs import Item, batches

    long = [Item("x" * 100_000) for _ in range(25)]
    assert [len(b) for b in batches(long, 256)] == [10, 10, 5]
    assert [len(b) for b in batches([Item("tea")] * 2_500, 5_000)] == [1_000, 1_000, 500]
    assert [len(b) for b in batches([Item("tea")] * 5, 2)] == [2, 2, 1]
