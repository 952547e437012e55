"""The PostgreSQL backend's own guarantees, against a real server (../conftest.py, `postgres`): what the
Memory-level suites run on both backends does not cover. Its filters and BM25 against the local
backend's, the one-line errors of a missing client or an unreachable server, processes sharing one
store, bulk writes, rollbacks, the statistics `check` recounts, the CLI and the async methods."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from itertools import product
from pathlib import Path

import pytest
from chains import one_chain

from agentmem import Memory, MissingDependencyError, StorePathError
from agentmem.errors import InvalidInputError

VALUES = [None, True, False, 0, 1, 1.5, -2, "a", "b", "1", "", [1, 2], {"x": 1}, "missing"]
OPERANDS = [None, True, False, 0, 1, 1.5, "a", "1", "", [1, 2], {"x": 1}]


ROOT = Path(__file__).resolve().parents[1]  # where the suite's conftest.py lives


@pytest.fixture
def url(postgres):
    made = postgres.new_database()
    yield made
    postgres.drop(made)


def test_filters_select_what_the_local_backends_select(tmp_path, url, fake_encoder):
    """Every filter operator against every kind of JSON value, both backends: the same memories."""
    meta = [{} if v == "missing" else {"f": v, "nest": {"g": v}} for v in VALUES]
    texts = [f"value {i}" for i in range(len(VALUES))]
    with Memory(tmp_path / "s", encoder=fake_encoder) as local, Memory(url, encoder=fake_encoder) as pg:
        for m in (local, pg):
            m.remember(texts, metadata=meta, ids=[f"v{i}" for i in range(len(VALUES))])
        differ = []
        for op, operand in product(("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"), OPERANDS):
            if op in ("$in", "$nin"):
                operand = [operand, "b"]
            elif op not in ("$eq", "$ne") and (isinstance(operand, bool) or not isinstance(operand, (int, float, str))):
                continue
            for key in ("f", "nest.g"):
                flt = {key: {op: operand}}
                a = {r.id for r in local.list(filter=flt)}
                b = {r.id for r in pg.list(filter=flt)}
                if a != b:
                    differ.append((flt, sorted(a ^ b)))
        assert differ == [], "\n".join(map(str, differ))


def test_bm25_scores_as_the_local_index_does(tmp_path, url, encoder):
    """The same texts in both backends, two tenants: every lexical hit's score agrees, scoped to a
    tenant (its statistics) and across the store (the store's)."""
    texts = [
        "Ana Silva moved to Lisbon in May and sold her Fiat.",
        "Omar Kim visited Lisbon twice; Ana Silva drove him around.",
        "Yusuf Fischer bought a Dacia in Malmö last spring.",
        "The quarterly review meeting with Omar Kim is on Tuesday.",
        "Ana bought grilled sardines at the market in Lisbon.",
    ]
    with Memory(tmp_path / "s", encoder=encoder) as local, Memory(url, encoder=encoder) as pg:
        for m in (local, pg):
            m.remember(texts, namespace=("user-1", "chat"), ids=[f"a{i}" for i in range(5)])
            m.remember(texts[:3], namespace=("user-2",), ids=[f"b{i}" for i in range(3)])
            m.update("a2", text="Yusuf Fischer sold the Dacia and bought a Volvo in Malmö.")
        for query, ns in product(
            ["Where did Ana Silva move?", "Lisbon", "What did Yusuf buy in Malmo?", "Omar Kim meeting"],
            [None, ("user-1",), ("user-1", "chat"), ("user-2",)],
        ):
            got = []
            for m in (local, pg):
                hits = m.backend.reader().lexical(query, 10, namespace=ns)
                rows = m.backend.rows([s for s, _ in hits])
                got.append(sorted((rows[s].id, round(w, 4)) for s, w in hits))
            assert got[0] == got[1], (query, ns)


def test_a_missing_client_is_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'agentmem\[postgres\]'") as e:
        Memory("postgresql://someone@localhost/db")
    assert "\n" not in str(e.value)


def test_an_unreachable_server_is_one_line_naming_the_url_without_its_password():
    start = time.monotonic()
    with pytest.raises(StorePathError) as e:
        Memory("postgresql://bob:s3cret@127.0.0.1:1/memories")
    message = str(e.value)
    assert "postgresql://bob:***@127.0.0.1:1/memories" in message and "s3cret" not in message
    assert "start the server" in message and "\n" not in message
    assert time.monotonic() - start < 10


def test_a_missing_database_and_a_missing_store_name_their_fix(postgres, url, fake_encoder):
    with pytest.raises(StorePathError, match="create the database"):
        Memory(postgres.url("no_such_db"), encoder=fake_encoder)
    with pytest.raises(StorePathError, match=r"no store at .*; create one with `agentmem --store .* init`"):
        Memory(url, encoder=fake_encoder, create=False)


def test_nul_characters_are_refused_and_nothing_is_written(url, fake_encoder):
    with Memory(url, encoder=fake_encoder) as mem:
        with pytest.raises(InvalidInputError, match="NUL"):
            mem.remember(["fine", "bad\x00text"])
        with pytest.raises(InvalidInputError, match="NUL"):
            mem.remember("fine", metadata={"k": "bad\x00"})
        assert len(mem) == 0 and mem.check() == []


def test_a_bulk_write_is_one_chain_and_a_rollback_leaves_nothing(url, fake_encoder):
    texts = [f"note {i} about the river and the lake" for i in range(1000)]
    with Memory(url, encoder=fake_encoder, controller="cosine") as mem:
        ids = mem.remember(texts, namespace=("u", "log"), ids=[f"n{i}" for i in range(1000)])
        assert len(ids) == 1000 and mem.count(namespace=("u",)) == 1000
        assert one_chain(mem, ("u", "log"))
        assert [r.id for r in mem.list(namespace=("u", "log"), limit=3)] == ["n0", "n1", "n2"]
        with pytest.raises(RuntimeError), mem.transaction():
            mem.remember(["rolled back one", "rolled back two"], namespace=("u", "log"))
            mem.forget(["n5"])
            raise RuntimeError("abort")
        assert mem.count() == 1000 and "n5" in mem and one_chain(mem, ("u", "log"))
        mem.forget([f"n{i}" for i in range(10, 990)] + ["n0", "n999"])
        assert [r.id for r in mem.list()] == [f"n{i}" for i in list(range(1, 10)) + list(range(990, 999))]
        assert one_chain(mem, ("u", "log")) and mem.check() == []


def test_check_finds_and_repairs_the_lexical_statistics(url, fake_encoder):
    with Memory(url, encoder=fake_encoder) as mem:
        mem.remember(["alpha beta", "beta gamma", "gamma delta"], namespace="t")
        assert mem.check() == []
        with mem.backend.transaction():
            mem.backend._writer().execute("UPDATE agentmem.lexical_terms SET df = df + 3 WHERE term = 'beta'")
        assert any("lexical statistics" in p for p in mem.check())
        assert mem.check(repair=True) == [] and mem.check() == []


def test_the_cli_opens_a_database_url(url):
    from click.testing import CliRunner

    from agentmem.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        argv = ["agentmem", "--store", url, *args]
        with CliRunner().isolation() as (out, err, _):
            sys.argv = argv
            try:
                main()
                code = 0
            except SystemExit as e:
                code = int(e.code or 0)
        return code, out.getvalue().decode(), err.getvalue().decode()

    argv = sys.argv
    try:
        assert run("init")[0] == 0
        assert run("add", "Alice moved to Lisbon in May.", "--namespace", "user-42")[0] == 0
        code, out, _ = run("recall", "Where does Alice live?", "--json")
        assert code == 0 and json.loads(out)["results"][0]["text"] == "Alice moved to Lisbon in May."
        code, out, _ = run("stats", "--json")
        assert code == 0 and json.loads(out)["memories"] == 1
        code, out, _ = run("check")
        assert code == 0 and out.strip().endswith(": ok")
    finally:
        sys.argv = argv


def test_help_and_bad_input_never_import_the_database_client():
    code = (
        "import sys; from agentmem.cli import main; sys.argv = ['agentmem', '--store', 'postgresql://x@h/db', "
        "'recall', '']\ntry:\n    main()\nexcept SystemExit:\n    pass\nprint('psycopg' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "False", done


WORKER = textwrap.dedent(
    """
    import sys
    from agentmem import Memory
    from agentmem.encoder import FunctionEncoder

    url, me, n, root = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    sys.path.insert(0, root)
    from conftest import hashed_bag_of_words  # the suite's fake_encoder, in this process

    enc = FunctionEncoder(hashed_bag_of_words, name="test-hashed-bow", dim=64)
    with Memory(url, encoder=enc, controller="cosine") as mem:
        for i in range(n):
            mem.remember([f"{me} wrote note {i}", f"{me} wrote note {i} again"], namespace=("shared", "log"),
                         ids=[f"{me}-{i}-a", f"{me}-{i}-b"])
            assert mem.recall(f"{me} note", k=3, namespace=("shared",))
            if i % 5 == 4:
                mem.forget([f"{me}-{i}-b"])
    print("done")
    """
)


def test_processes_writing_one_namespace_keep_one_chain(url, fake_encoder):
    """Three processes write into one namespace at once (and read, and forget): every acknowledged
    write is there, and the namespace is still one chain."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, f"p{p}", "20", str(ROOT)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(3)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    with Memory(url, encoder=fake_encoder) as mem:
        expected = {f"p{p}-{i}-a" for p in range(3) for i in range(20)}
        expected |= {f"p{p}-{i}-b" for p in range(3) for i in range(20) if i % 5 != 4}
        assert {r.id for r in mem.list()} == expected
        assert one_chain(mem, ("shared", "log")) and mem.check() == []


def test_a_tenant_another_connection_fills_is_read_at_once(url, fake_encoder):
    """What one Memory learnt of a tenant's size (it steers exact and approximate scans) never hides
    what another Memory writes into it afterwards."""
    with Memory(url, encoder=fake_encoder) as a, Memory(url, encoder=fake_encoder) as b:
        a.remember(["kayak on the river"], namespace=("t1",))  # a's write gate looked at t1 while empty
        assert [h.text for h in a.recall("kayak river", namespace=("t1",))] == ["kayak on the river"]
        b.remember(["lake swim at dawn", "kayak on the lake"], namespace=("t2",))
        a.remember(["unrelated note"], namespace=("t2",), index=False)
        b.remember(["kayak race on the river"], namespace=("t1",))
        assert len(a.recall("kayak", k=5, namespace=("t2",))) == 2
        assert {h.text for h in a.recall("kayak river", k=5, namespace=("t1",))} == {
            "kayak on the river",
            "kayak race on the river",
        }
        a.compact()
        assert a.check() == [] and a.count() == 5


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bob:pw@h:5432/db", "postgresql://bob:***@h:5432/db"),
        ("postgres://bob@h/db?password=pw&sslmode=require", "postgres://bob@h/db?password=***&sslmode=require"),
        ("postgresql://h/db", "postgresql://h/db"),
    ],
)
def test_urls_are_shown_without_their_password(url, shown):
    from agentmem.storage.location import is_database_url, redact

    assert is_database_url(url) and redact(url) == shown
    assert not is_database_url("./postgresql-notes") and not is_database_url(None)


def test_a_schema_1_store_gets_the_time_each_text_names_on_open(url, fake_encoder, monkeypatch):
    """A store written before the named-time columns opens at schema 2: the columns are added and each
    row gets the stretch of time its text names, resolved against its event time, as a new write would;
    the next opener finds it upgraded. Rows are worked out in batches (two of them here)."""
    import psycopg

    day = 86_400.0
    said = 1_704_844_800.0  # 10 January 2024, 00:00 UTC
    with Memory(url, encoder=fake_encoder) as mem:
        mem.remember(
            ["Booked the flight for 9 January 2024.", "We landed yesterday.", "Nice view."],
            namespace="trip", event_time=said, ids=["a", "b", "c"],
        )  # fmt: skip
        expected = mem.backend._query(
            mem.backend.sql("SELECT id, named_start, named_end FROM {s}.slots ORDER BY slot")
        )
    assert expected == [("a", said - day, said), ("b", said - day, said), ("c", None, None)]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE agentmem.slots DROP COLUMN named_start, DROP COLUMN named_end")
        conn.execute("UPDATE agentmem.meta SET value = '1' WHERE key = 'schema_version'")
    monkeypatch.setattr("agentmem.storage.postgres.backend._UPGRADE_BATCH", 2)
    first, second = Memory(url, encoder=fake_encoder), Memory(url, encoder=fake_encoder)
    with first, second:
        assert first.stats()["schema_version"] == 2
        got = first.backend._query(first.backend.sql("SELECT id, named_start, named_end FROM {s}.slots ORDER BY slot"))
        assert got == expected
        assert [h.id for h in second.recall("flight", namespace="trip", k=3)] != []


def test_a_read_describes_each_memory_as_the_local_backend_does(tmp_path, url, fake_encoder):
    """What a learned read describes a candidate by (storage.base.ReadBatch) and the server works out
    from the text as it reads the row: whether it asks and its length, in characters, not bytes."""
    texts = ["Mel: I went hiking near Malmö 🙂", "Caroline: Have you been?", "ok", "Tomás: ¿Dónde vives ahora？"]
    described = []
    for target in (tmp_path / "local", url):
        with Memory(target, encoder=fake_encoder, controller="cosine") as mem:
            ids = mem.remember(texts, namespace=("u",), ids=["a", "b", "c", "d"])
            rows = mem.backend.rows_by_id(ids)
            slots = [rows[i].slot for i in ids]
            batch = mem.backend.reader().neighbourhood(slots, [], namespace=("u",))
            at = {s: i for i, s in enumerate(batch.slot.tolist())}
            described.append([(bool(batch.asks[at[s]]), int(batch.length[at[s]])) for s in slots])
    assert described[0] == described[1] == [(False, 31), (True, 24), (False, 2), (True, 26)]


def test_what_is_too_long_to_index_is_one_line_naming_it_and_nothing_is_written(url, fake_encoder):
    """PostgreSQL's index entries hold about 2,700 bytes (docs/scale-out.md): a word, or a namespace
    and id, past that is refused as bad input (the store is fine), and the batch writes nothing."""
    import random

    rng = random.Random(0)
    word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(3000))
    cjk = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(512))
    with Memory(url, encoder=fake_encoder, controller="cosine") as mem:
        for call in (
            lambda: mem.remember(["fine", f"kayak {word}"], namespace="t"),
            lambda: mem.remember("fine", namespace=(cjk, cjk)),
        ):
            with pytest.raises(InvalidInputError, match="too long for an index entry; shorten it") as e:
                call()
            assert "\n" not in str(e.value)
        assert len(mem) == 0 and mem.check() == []
        mem.remember("kayak on the river", namespace="t")
        assert len(mem) == 1
