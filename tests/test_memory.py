"""Memory: the public API against the real encoder, FAISS and a real SQLite file."""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime, timezone

import numpy as np
import pytest

from agentmem import Memory
from agentmem.controller import CosineController, WriteDecision
from agentmem.errors import (
    ClosedError,
    DuplicateIdError,
    EmptyTextError,
    EncoderMismatchError,
    InvalidInputError,
    NotFoundError,
)

pytestmark = pytest.mark.backends("local", "postgres")

FACTS = [
    "Alice moved to Lisbon in May 2023.",
    "Bob adopted a golden retriever named Max.",
    "The quarterly review meeting is on Tuesday at 10am.",
    "Alice's favourite food is grilled sardines.",
]


def test_cosine_controller_ranks_by_cosine_with_softmax_weights_and_why(cosine_mem, encoder):
    cosine_mem.remember(FACTS, namespace=("user-42",))
    hits = cosine_mem.recall("Where does Alice live now?", k=4)
    assert hits[0].text == FACTS[0]
    q = encoder.encode_queries(["Where does Alice live now?"])[0]
    keys = encoder.encode([h.text for h in hits])
    cos = keys @ q
    # keys are stored as float16 (storage/local/sqlite.py, encode_key): cosines move by under 1e-3
    np.testing.assert_allclose([h.score for h in hits], cos, atol=1e-3)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    w = np.exp(10 * cos) / np.exp(10 * cos).sum()  # β = 10 over the 4 candidates
    np.testing.assert_allclose([h.weight for h in hits], w, atol=1e-5)
    for h in hits:
        assert sum(h.why.values()) == pytest.approx(h.score)


def test_remember_returns_ids_in_order_with_links_and_times(mem):
    ids = mem.remember(
        FACTS[:3], namespace="n", metadata=[{"i": 0}, {"i": 1}, {"i": 2}], event_time="2023-05-08T13:56:00"
    )
    recs = [mem.get(i) for i in ids]
    assert [r.metadata["i"] for r in recs] == [0, 1, 2]
    assert recs[0].prev_id is None and recs[0].next_id == ids[1]
    assert recs[1].prev_id == ids[0] and recs[1].next_id == ids[2]
    assert recs[0].event_time == datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)
    assert recs[0].namespace == ("n",) and recs[0].version == 1 and recs[0].usage == 0.0
    assert recs[0].write_order < recs[1].write_order < recs[2].write_order


def test_namespace_prefix_and_filter_in_recall(mem):
    mem.remember(FACTS[0], namespace=("user-1", "facts"), metadata={"speaker": "Alice"})
    mem.remember(FACTS[0], namespace=("user-10", "facts"), metadata={"speaker": "Alice"})
    mem.remember(FACTS[3], namespace=("user-1", "prefs"), metadata={"speaker": "Bob"})
    hits = mem.recall("Alice", k=10, namespace=("user-1",))
    assert {h.namespace for h in hits} == {("user-1", "facts"), ("user-1", "prefs")}  # not user-10
    hits = mem.recall("Alice", k=10, filter={"speaker": "Bob"})
    assert [h.text for h in hits] == [FACTS[3]]
    assert mem.recall("Alice", namespace=("nobody",)) == []


def test_filtered_recall_finds_matches_beyond_the_first_candidates(mem, encoder):
    texts = [f"note number {i} about the weather" for i in range(60)] + ["the rare one about penguins"]
    meta = [{"kind": "common"}] * 60 + [{"kind": "rare"}]
    mem.remember(texts, metadata=meta)
    hits = mem.recall("weather note", k=1, filter={"kind": "rare"})  # ranks last by cosine
    assert [h.text for h in hits] == ["the rare one about penguins"]


def test_update_keeps_history_and_changes_what_recall_finds(mem):
    (i,) = mem.remember("Alice lives in Lisbon.")
    rec = mem.update(i, text="Alice lives in Porto.", metadata={"source": "chat"})
    assert rec.version == 2 and rec.text == "Alice lives in Porto." and rec.metadata == {"source": "chat"}
    assert [(v.version, v.text) for v in mem.history(i)] == [
        (1, "Alice lives in Lisbon."),
        (2, "Alice lives in Porto."),
    ]
    assert mem.recall("Which city is Alice in?", k=1)[0].text == "Alice lives in Porto."
    assert keys_held(mem) == 1


def test_remember_with_existing_id_updates_in_place(mem):
    mem.remember("v1 of the fact", ids=["fact-1"])
    assert mem.remember("v2 of the fact", ids=["fact-1"]) == ["fact-1"]
    assert len(mem) == 1 and mem.get("fact-1").version == 2
    assert [v.text for v in mem.history("fact-1")] == ["v1 of the fact", "v2 of the fact"]
    with pytest.raises(InvalidInputError, match="exists in namespace"):
        mem.remember("moved", ids=["fact-1"], namespace="elsewhere")


def test_forget_by_id_namespace_and_filter(mem):
    a = mem.remember(FACTS[:2], namespace=("a",), metadata={"keep": False})
    mem.remember(FACTS[2:], namespace=("b",), metadata=[{"keep": True}, {"keep": False}])
    assert mem.forget(a[0]) == 1 and a[0] not in mem
    assert mem.forget(filter={"keep": False}, namespace=("b",)) == 1
    assert mem.forget(namespace=("a",)) == 1
    assert [r.text for r in mem] == [FACTS[2]]
    assert keys_held(mem) == 1
    for unscoped in ({}, {"filter": {}}, {"namespace": ()}, {"namespace": None, "filter": None}):
        with pytest.raises(InvalidInputError, match="forget needs ids, a namespace or a non-empty filter"):
            mem.forget(**unscoped)  # never a wipe of every namespace by default
    assert len(mem) == 1 and mem.forget(everything=True) == 1 and len(mem) == 0


def test_empty_text_rejects_the_whole_batch(mem, backend_kind):
    with pytest.raises(EmptyTextError, match=r"texts\[1\] is empty or whitespace; pass non-empty text"):
        mem.remember(["fine", "   \n", "also fine"])
    assert len(mem) == 0 and (backend_kind != "local" or mem.backend.store.latest_seq() == 0)
    with pytest.raises(EmptyTextError):
        mem.recall("  ")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"metadata": [{}]}, "got 1 metadata values for 2 texts"),
        ({"metadata": {"x": {1, 2}}}, "holds a set, which JSON does not read back as given; use a list"),
        ({"event_time": "next tuesday"}, "invalid event_time 'next tuesday'; use ISO 8601"),
        ({"ids": ["x", "x"]}, "appears twice"),
        ({"ttl": -1}, "ttl must be a positive number"),
        ({"namespace": ("a", "")}, "invalid namespace"),
        ({"embeddings": np.zeros((2, 5))}, r"embeddings have shape \(2, 5\), expected \(2, 384\)"),
        ({"embeddings": np.zeros((2, 384))}, "embeddings row 0 is all zeros, which points nowhere"),
        # numbers past a float's range: the library's one line, not an OverflowError
        ({"event_time": 10**400}, "event_time 1000.* is outside years 1-9999 UTC"),
        ({"ttl": 10**400}, "ttl must be a positive number of seconds expiring before the year 10000"),
        ({"ttl": float("nan")}, "ttl must be a positive number"),
    ],
)
def test_bad_arguments_write_nothing(mem, kwargs, match):
    with pytest.raises((InvalidInputError, DuplicateIdError), match=match):
        mem.remember(["one", "two"], **kwargs)
    assert len(mem) == 0


def test_edge_times_and_vectors_are_taken_as_given(mem):
    """Half a second before year 10000 is a time; a vector of huge finite values is normalised in
    float64, where its float32 squares would overflow to a zero vector."""
    (a,) = mem.remember("the end", event_time="9999-12-31T23:59:59.5Z")
    assert mem.get(a).event_time == datetime(9999, 12, 31, 23, 59, 59, 500000, tzinfo=timezone.utc)
    big = np.full((1, 384), 1e38, dtype=np.float32)
    (b,) = mem.remember("huge vector", embeddings=big)
    stored = mem.backend.vectors([mem.backend.rows_by_id([b])[b].slot])[0]
    np.testing.assert_allclose(stored, np.full(384, 384**-0.5), rtol=1e-3)  # kept at half precision
    with pytest.raises(InvalidInputError, match="update needs a new text, metadata or event_time"):
        mem.update(a)
    assert [v.text for v in mem.history(a)] == ["the end"]


def test_get_missing_and_history_missing(mem):
    assert mem.get("nope") is None
    with pytest.raises(NotFoundError, match="no memory with id 'nope'"):
        mem.history("nope")


def test_unindexed_memories_are_listed_not_recalled(mem):
    mem.remember("Alice moved to Lisbon.", index=False, metadata={"k": 1})
    assert mem.recall("Lisbon") == []
    assert [r.indexed for r in mem.list()] == [False]
    assert mem.count(filter={"k": 1}) == 1


def test_ttl_expiry_refresh_and_sweep(mem, monkeypatch):
    (i,) = mem.remember("ephemeral fact", ttl=60)
    (j,) = mem.remember("durable fact")
    clock = time.time()
    monkeypatch.setattr(time, "time", lambda: clock + 61)
    assert mem.get(i) is None and i not in {h.id for h in mem.recall("fact")}
    assert mem.namespaces() == [("default",)] and mem.stats()["memories"] == 1  # the expired one is gone
    assert mem.sweep_expired() == 1 and len(mem) == 1 and mem.get(j) is not None
    monkeypatch.undo()
    (k,) = mem.remember("refreshed fact", ttl=60)
    before = mem.get(k).expires_at
    time.sleep(0.01)
    mem.refresh_ttl([k])
    assert mem.get(k).expires_at > before


@pytest.mark.parametrize("controller", ["cosine", "learned"])
def test_a_ttl_written_through_another_connection_expires_for_reads_here(
    store_at, encoder, monkeypatch, controller
):
    """Reads skip the expiry probe until the earliest expiry they know of; a memory with a ttl written
    by another connection (as by another process) must reset that, or it would outlive its ttl here."""
    with Memory(store_at("s"), encoder=encoder, controller=controller) as a:
        a.remember("durable fact")
        assert len(a.recall("fact")) == 1  # `a` has now read that no memory expires
        with Memory(store_at("s"), encoder=encoder, controller=controller) as b:
            (e,) = b.remember("ephemeral fact", ttl=60)
        assert e in {h.id for h in a.recall("fact")}
        clock = time.time()
        monkeypatch.setattr(time, "time", lambda: clock + 61)
        assert [h.text for h in a.recall("fact")] == ["durable fact"]


def test_usage_grows_with_reads_dnc_style(mem):
    ids = mem.remember(FACTS)
    hits = mem.recall("Where does Alice live?", k=2)
    mem.close()
    with Memory(mem.path) as again:
        rec = again.get(hits[0].id)
        assert rec.usage == pytest.approx(hits[0].weight, abs=1e-6)  # u = 0 + w - 0*w
        assert rec.last_read_at is not None
        assert again.get(ids[2]).usage == 0.0 or ids[2] in {h.id for h in hits}
        untouched = again.get(ids[3]).usage
        again.recall("favourite food", k=4, track_usage=False)
        again.close()
    with Memory(mem.path) as third:
        assert third.get(ids[3]).usage == untouched


def test_namespaces_listing(mem):
    for ns in [("a", "x", "1"), ("a", "y"), ("b", "x"), ("a", "x", "2")]:
        mem.remember("t", namespace=ns)
    assert mem.namespaces() == [("a", "x", "1"), ("a", "x", "2"), ("a", "y"), ("b", "x")]
    assert mem.namespaces(prefix=("a",)) == [("a", "x", "1"), ("a", "x", "2"), ("a", "y")]
    assert mem.namespaces(suffix=("x",)) == [("b", "x")]
    assert mem.namespaces(prefix=("*", "x")) == [("a", "x", "1"), ("a", "x", "2"), ("b", "x")]
    assert mem.namespaces(max_depth=1) == [("a",), ("b",)]
    assert mem.namespaces(limit=2, offset=1) == [("a", "x", "2"), ("a", "y")]


def test_stats(mem, backend_kind):
    mem.remember(FACTS[:3], namespace=("u", "m"))
    s = mem.stats()
    assert s["memories"] == 3 and s["namespaces"] == {("u", "m"): 3}
    assert (s["encoder"], s["dim"], s["index"], s["controller"]) == (
        "all-MiniLM-L6-v2",
        384,
        {"local": "auto", "postgres": "hnsw"}[backend_kind],
        "learned",
    )
    assert s["bytes_on_disk"] > 0 and s["schema_version"] == {"local": 5, "postgres": 2}[backend_kind]


def test_encoder_mismatch_names_both(store_at, encoder):
    from langchain_core.embeddings import DeterministicFakeEmbedding

    Memory(store_at("s"), encoder=encoder).close()
    with pytest.raises(
        EncoderMismatchError,
        match=r"built with encoder all-MiniLM-L6-v2 \(384-d\) but this Memory uses langchain:DeterministicFakeEmbedding;",
    ):
        Memory(store_at("s"), encoder=DeterministicFakeEmbedding(size=8))


def test_reopen_uses_recorded_encoder_and_index_kind(store_at, encoder):
    with Memory(store_at("s"), encoder=encoder, index="hnsw") as m:
        m.remember(FACTS)
    with Memory(store_at("s")) as m:
        assert m.stats()["index"] == "hnsw" and m.encoder.name == "all-MiniLM-L6-v2"
        assert m.recall("dog", k=1)[0].text == FACTS[1]


def test_closed_memory_refuses_work(store_at, encoder):
    m = Memory(store_at("s"), encoder=encoder)
    m.close()
    m.close()  # idempotent
    with pytest.raises(ClosedError, match="closed; open a new Memory"):
        m.remember("x")


@pytest.mark.backends("local")
def test_temporary_store_is_removed_on_close(encoder):
    m = Memory(encoder=encoder)
    path = m.path
    m.remember("x")
    assert path.exists()
    m.close()
    assert not path.exists()


def test_controller_seam_allows_skip_and_update(store_at, encoder):
    class DedupController(CosineController):
        """Skips an observation whose text is already stored in the namespace."""

        name = "dedup"

        def plan_writes(self, writes, memory):
            out = []
            for w in writes:
                found = memory.search(w.vector, 1, namespace=w.namespace, filter=None)
                rows = memory.rows([s for s, _ in found])
                same = [s for s in rows if rows[s].text == w.text]
                out.append(WriteDecision("skip", same[0]) if same else WriteDecision("new"))
            return out

    with Memory(store_at("s"), encoder=encoder, controller=DedupController()) as m:
        (a,) = m.remember("Alice likes tea.")
        assert m.remember("Alice likes tea.") == [a] and len(m) == 1
        # An id the caller chose is always stored under that id, whatever the controller thinks.
        assert m.remember(["Alice likes tea.", "Alice likes tea."], ids=["k1", "k2"]) == ["k1", "k2"]
        assert len(m) == 3


def test_threads_share_one_memory(mem):
    errors = []

    def work(t):
        try:
            for i in range(5):
                mem.remember(f"thread {t} fact {i}", namespace=(f"t{t}",))
                mem.recall(f"thread {t}", k=3)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(mem) == 20 and keys_held(mem) == 20
    assert all(mem.count(namespace=(f"t{t}",)) == 5 for t in range(4))


def test_precomputed_embeddings_skip_encoding(cosine_mem, encoder):
    vecs = encoder.encode(FACTS)
    cosine_mem.remember(FACTS, embeddings=vecs * 3.0)  # renormalised on the way in
    hits = cosine_mem.recall("meeting", k=1, embedding=vecs[2])
    assert hits[0].text == FACTS[2] and hits[0].score == pytest.approx(1.0, abs=1e-3)  # float16 keys


def test_restore_round_trips_records_and_history(store_at, encoder):
    with Memory(store_at("a"), encoder=encoder) as a:
        ids = a.remember(FACTS[:3], namespace=("u",), metadata={"s": 1}, event_time="2023-01-02T03:04:05")
        a.update(ids[1], text="Bob adopted a beagle named Max.")
        a.recall("dog", k=1)
        a.close()
        a = Memory(store_at("a"), encoder=encoder)
        entries = [(r, a.history(r.id)) for r in a]
        with Memory(store_at("b"), encoder=encoder) as b:
            assert b.restore(entries) == ids
            for r, h in entries:
                assert b.get(r.id).to_dict() | {"write_order": 0} == r.to_dict() | {"write_order": 0}
                assert b.history(r.id) == h
            assert b.recall("dog", k=1)[0].id == ids[1]
            with pytest.raises(DuplicateIdError, match="already in the store"):
                b.restore(entries[:1])


def test_unloadable_encoder_is_one_line_error_and_leaves_no_store(tmp_path, store_at, store_exists):
    from agentmem.errors import EncoderLoadError

    with pytest.raises(EncoderLoadError, match="encoder path '/no/such/model' is not a model directory"):
        Memory(store_at("s"), encoder="/no/such/model")
    assert not store_exists(store_at("s"))
    not_a_model = tmp_path / "empty-dir"
    not_a_model.mkdir()
    with pytest.raises(EncoderLoadError, match="cannot load sentence-transformers model"):
        Memory(store_at("s"), encoder=str(not_a_model))
    assert not store_exists(store_at("s"))


def test_a_model_on_no_disk_fails_at_once_without_a_hub_lookup(tmp_path, store_at, store_exists, monkeypatch):
    """A name that is neither a directory nor in the Hugging Face cache: one line, no retries, even
    with the hub allowed (no HF_HUB_OFFLINE): agentmem never downloads at run time."""
    import time

    from agentmem.errors import EncoderLoadError

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-cache"))
    start = time.monotonic()
    with pytest.raises(EncoderLoadError, match=r"encoder 'org/some-model' is not on this machine .*\(`huggingface-cli download org/some-model`\)"):
        Memory(store_at("s"), encoder="org/some-model")
    assert time.monotonic() - start < 5 and not store_exists(store_at("s"))


def test_create_false_refuses_a_missing_store(store_at, store_exists):
    from agentmem.errors import StorePathError

    with pytest.raises(StorePathError, match="no store at .*; create one with `agentmem --store .* init`"):
        Memory(store_at("missing"), create=False)
    assert not store_exists(store_at("missing"))


def keys_held(mem: Memory) -> int:
    """Keys the store's dense index holds: its FAISS index in a directory, its indexed rows in a database."""
    from agentmem.storage.local import LocalBackend

    return mem.backend.dense.size if isinstance(mem.backend, LocalBackend) else mem.stats()["indexed"]


def test_the_controller_of_an_open_memory_can_be_swapped_and_a_bad_spec_changes_nothing(store_at, fake_encoder):
    with Memory(store_at("m"), encoder=fake_encoder, controller="cosine") as mem:
        first = mem.controller
        mem.remember("Mira moved to Lisbon")
        with pytest.raises(InvalidInputError, match="unknown controller"):
            mem.controller = "no-such-controller"
        assert mem.controller is first
        mem.controller = CosineController()
        assert mem.controller is not first and mem.recall("Where does Mira live?", k=1)[0].text == "Mira moved to Lisbon"


def test_a_learned_read_knows_which_memories_ask_in_every_backend(mem, encoder):
    """Each backend tells a read's candidates whether their text holds a question (text.has_question:
    Latin, full-width and Arabic marks), and an update that adds or drops the question changes it."""
    from agentmem.controller.base import ReadQuery

    texts = ["Mira: Where did you go in May?", "Omar: Kyoto, for the gardens.", "Mira: 京都はどうでしたか？"]
    ids = mem.remember(texts, namespace="chat", ids=["q", "a", "q2"])

    def asks() -> dict[str, bool]:
        query = ReadQuery("Where did Omar go in May?", encoder.encode_queries(["Where did Omar go?"])[0], 10, ("chat",))
        cand = mem.controller.gather(query, mem.backend.reader())
        slots = {r.slot: r.id for r in mem.backend.rows_by_id(ids).values()}
        return {slots[int(s)]: bool(a) for s, a in zip(cand.slots, cand.asks, strict=True)}

    assert asks() == {"q": True, "a": False, "q2": True}
    mem.update("a", text="Omar: Kyoto. Have you been?")
    mem.update("q", text="Mira: I went to Porto in May.")
    assert asks() == {"q": False, "a": True, "q2": True}


def test_metadata_numbers_come_back_as_written_in_every_backend(mem):
    """jsonb keeps digits, not types: a float Python writes in exponent form must still come back a float
    of the same value, and an integer an integer."""
    meta = {"big": 2.092198629743861e16, "neg": -1e300, "tiny": 1e-300, "int": 2**62, "half": 0.5, "in": [3e20]}
    (i,) = mem.remember("numbers", metadata=meta)
    got = mem.get(i).metadata
    assert got == meta and {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in meta.items()}
    assert type(got["in"][0]) is float


def test_a_learned_read_matches_the_time_a_memory_names_in_every_backend(mem, encoder):
    """Each backend keeps the stretch of time a memory's text names (resolved against its event time),
    so `when` matches a question's date against it as well as against the event time; an update that
    drops the date drops the match."""
    from agentmem.controller.base import ReadQuery
    from agentmem.controller.candidates import SIGNALS

    def at(*ymd: int) -> float:
        return datetime(*ymd, tzinfo=timezone.utc).timestamp()

    texts = [
        "assistant: Booked EI 2902 to Auckland on 9 January 2024.",  # said in December
        "user: I flew out yesterday.",  # said on 10 January: names the 9th
        "user: What a long flight that was.",  # said on the 9th itself
        "user: Pick me a hotel near the harbour.",  # said in December, names nothing
    ]
    times = [at(2023, 12, 1), at(2024, 1, 10, 8), at(2024, 1, 9, 20), at(2023, 12, 1)]
    ids = mem.remember(texts, namespace="trip", event_time=times, ids=["book", "flew", "long", "hotel"])
    question = "Where was I flying on 9 January 2024?"

    def when() -> dict[str, float]:
        query = ReadQuery(question, encoder.encode_queries([question])[0], 10, ("trip",), time=at(2024, 2, 1))
        cand = mem.controller.gather(query, mem.backend.reader())
        slots = {r.slot: r.id for r in mem.backend.rows_by_id(ids).values()}
        col = cand.features[:, SIGNALS.index("when")]
        return {slots[int(s)]: round(float(w), 6) for s, w in zip(cand.slots, col, strict=True)}

    far = round(math.exp(-39 / 7), 6)  # said 39 days before the 9th
    assert when() == {"book": 1.0, "flew": 1.0, "long": 1.0, "hotel": far}
    mem.update("book", text="assistant: Booked EI 2902 to Auckland.")
    assert when()["book"] == far
