"""The PostgreSQL backend against the local one: the same call answers the same on both."""

from __future__ import annotations

import asyncio
import math

import pytest

from agentmem import IdInUseError, InvalidInputError, Memory


@pytest.mark.backends("local", "postgres")
def test_nul_characters_are_refused_alike_and_queries_may_hold_one(store_at, fake_encoder):
    """PostgreSQL's text and jsonb cannot hold a NUL character, so neither backend stores one: the same
    one-line refusal wherever a stored string would hold it, nothing written. A query, never stored,
    may hold one."""
    with Memory(store_at(), encoder=fake_encoder, controller="cosine") as mem:
        mem.remember("kayak on the river", ids=["a"], metadata={"k": "v"})
        refused = [
            lambda: mem.remember(["fine", "bad\x00text"]),
            lambda: mem.remember("fine", metadata={"k": "bad\x00"}),
            lambda: mem.remember("fine", metadata={"k\x00": 1}),
            lambda: mem.remember("fine", metadata={"k": [{"x": "\x00"}]}),
            lambda: mem.update("a", text="kayak\x00"),
            lambda: mem.update("a", metadata={"k": "\x00"}),
            lambda: mem.list(filter={"k": "v\x00"}),
            lambda: mem.count(filter={"k": {"$gt": "\x00"}}),
        ]
        for call in refused:
            with pytest.raises(InvalidInputError, match=r"NUL character \(\\x00\).*; remove it") as e:
                call()
            assert "\n" not in str(e.value)
        assert [r.text for r in mem.list()] == ["kayak on the river"] and mem.get("a").version == 1
        assert [h.id for h in mem.recall("kayak\x00 river", k=3)] == ["a"]
        assert mem.explain("kayak\x00", ["a"])["a"].rank == 1
        assert mem.check() == []


@pytest.mark.backends("local", "postgres")
def test_a_dotted_filter_key_steps_into_objects_only(store_at, fake_encoder):
    """"a.0" names the field "0" of the object "a", never the first item of a list "a" (SQLite's
    `$."a"."0"`; jsonb's `#>` would index the list)."""
    with Memory(store_at(), encoder=fake_encoder, controller="cosine") as mem:
        mem.remember(
            ["a list", "an object", "a negative key"],
            metadata=[{"a": [5, 6]}, {"a": {"0": 5}}, {"a": {"-1": 6}}],
            ids=["list", "object", "negative"],
        )
        for flt, expected in [
            ({"a.0": 5}, ["object"]),
            ({"a.-1": 6}, ["negative"]),
            ({"a.0": {"$gte": 5}}, ["object"]),
            ({"a.0": {"$ne": 5}}, ["list", "negative"]),
            ({"a.1": {"$in": [6]}}, []),
        ]:
            assert [r.id for r in mem.list(filter=flt)] == expected, flt
            assert mem.count(filter=flt) == len(expected), flt


@pytest.mark.backends("local", "postgres")
def test_filters_compare_numbers_and_objects_as_they_are_stored(store_at, fake_encoder):
    """A float from 1e16 up equals the same float stored (and an int of its value), in `$eq`, `$in` and
    inside an object; an object or a list equals one of the same JSON text: 1 is not 1.0 inside one,
    non-ASCII strings and keys holding a backslash match."""
    metadata = [
        {"f": 2.0**60, "d": {"x": 2.0**60}},
        {"f": 2**60},
        {"f": 1e300},
        {"d": {"x": 1.0}, "l": ["é", 1]},
        {"d": {"x": "é"}, "x\\y": 1},
    ]
    with Memory(store_at(), encoder=fake_encoder, controller="cosine") as mem:
        mem.remember([f"memory {i}" for i in range(5)], metadata=metadata, ids=["float", "int", "huge", "one", "text"])
        for flt, expected in [
            ({"f": 2.0**60}, ["float", "int"]),
            ({"f": {"$in": [1e300, 7]}}, ["huge"]),
            ({"f": {"$gte": 1e300}}, ["huge"]),
            ({"f": {"$lt": 1e300, "$gte": 2**60}}, ["float", "int"]),
            ({"f": {"$ne": 2.0**60}}, ["huge", "one", "text"]),
            ({"d": {"x": 2.0**60}}, ["float"]),
            ({"d": {"x": 1.0}}, ["one"]),
            ({"d": {"x": 1}}, []),
            ({"d": {"$in": [{"x": 1}, {"x": "é"}]}}, ["text"]),
            ({"l": ["é", 1]}, ["one"]),
            ({"x\\y": 1}, ["text"]),
        ]:
            assert [r.id for r in mem.list(filter=flt)] == expected, flt


@pytest.mark.backends("local", "postgres")
def test_negative_zero_reads_back_as_zero(store_at, fake_encoder):
    """jsonb has no negative zero: both backends read -0.0 back as 0.0, wherever it sits."""
    with Memory(store_at(), encoder=fake_encoder, controller="cosine") as mem:
        mem.remember("zeros", metadata={"f": -0.0, "l": [-0.0, 1], "d": {"z": -0.0}, "s": "-0.0"}, ids=["z"])
        mem.update("z", metadata={"f": -0.0})
        for metadata in (mem.get("z").metadata, *(v.metadata for v in mem.history("z"))):
            zeros = [metadata["f"], *([metadata["l"][0], metadata["d"]["z"]] if "l" in metadata else [])]
            assert [math.copysign(1.0, z) for z in zeros] == [1.0] * len(zeros), metadata
        assert mem.history("z")[0].metadata["s"] == "-0.0"
        assert [r.id for r in mem.list(filter={"f": 0})] == [r.id for r in mem.list(filter={"f": -0.0})] == ["z"]


@pytest.mark.backends("local", "postgres")
def test_writes_into_several_namespaces_keep_their_order(store_at, fake_encoder):
    """`list` is write order across namespaces, within one transaction and one `restore` alike."""
    order = ["A", "B", "A", "B", "A", "C", "A", "B"]
    with Memory(store_at(), encoder=fake_encoder, controller="cosine") as mem:
        with mem.transaction():
            for i, ns in enumerate(order):
                mem.remember(f"note {i}", namespace=ns, ids=[f"t{i}"])
        written = mem.list()
        assert [r.id for r in written] == [f"t{i}" for i in range(len(order))]
        assert [r.write_order for r in written] == sorted(r.write_order for r in written)
    with Memory(store_at(), encoder=fake_encoder, controller="cosine") as copy:
        copy.restore([(r, []) for r in written])
        assert [r.id for r in copy.list()] == [r.id for r in written]
        assert [r.prev_id for r in copy.list()] == [r.prev_id for r in written]


@pytest.mark.backends("local", "postgres")
def test_an_id_in_use_elsewhere_is_named_in_the_order_given(store_at, fake_encoder):
    """Of several ids living in another namespace, the refusal names the first one given, whatever
    order the backend reads rows in, blocking or asyncio."""
    with Memory(store_at(), encoder=fake_encoder, controller="cosine") as mem:
        mem.remember(["one", "two", "three"], namespace="elsewhere", ids=["a", "b", "c"])
        for given in (["c", "a", "b"], ["b", "c", "a"], ["new", "a", "c"]):
            first = next(i for i in given if i in mem)
            for remember in (mem.remember, lambda *a, **kw: asyncio.run(mem.aremember(*a, **kw))):
                with pytest.raises(IdInUseError, match=f"^id '{first}' exists in namespace") as e:
                    remember(["x", "y", "z"], namespace="here", ids=given)
                assert e.value.id == first
        assert mem.count() == 3


@pytest.mark.backends("local", "postgres")
def test_reads_inside_a_transaction_see_its_own_writes(store_at, fake_encoder):
    """A recall, and the write gate's reads, inside `Memory.transaction()` see what the transaction
    wrote before them, in a tenant it made or one that held memories already."""
    with Memory(store_at(), encoder=fake_encoder) as mem:
        mem.remember("old note about the lake", namespace=("u2",), ids=["old"])
        with mem.transaction():
            (first,) = mem.remember("kayak on the river", namespace=("u1", "chat"))
            assert [h.id for h in mem.recall("kayak river", namespace=("u1",), track_usage=False)] == [first]
            assert mem.remember("kayak on the river", namespace=("u1", "chat")) == [first]  # a repeat: skipped
            (second,) = mem.remember("swim in the lake at dawn", namespace=("u2",))
            hits = mem.recall("swim lake dawn", k=2, namespace=("u2",), track_usage=False)
            assert [h.id for h in hits][:1] == [second] and {h.id for h in hits} == {second, "old"}
        assert mem.count() == 3


def test_lexical_scores_inside_a_transaction_count_its_own_writes(tmp_path, postgres, fake_encoder):
    """BM25 inside a transaction scores with statistics that count the transaction's own writes, as
    the local index does (PostgreSQL sends them only at the commit)."""
    url = postgres.new_database()
    try:
        with Memory(tmp_path / "s", encoder=fake_encoder) as local, Memory(url, encoder=fake_encoder) as pg:
            got = []
            for mem in (local, pg):
                mem.remember(["kayak on the river", "a lake swim"], namespace=("t",), ids=["a", "b"])
                with mem.transaction():
                    mem.remember(["kayak race", "kayak and lake"], namespace=("t",), ids=["c", "d"])
                    mem.remember(["kayak in another tenant"], namespace=("o",), ids=["e"])
                    scores = []
                    for ns in (("t",), None):
                        hits = mem.backend.reader().lexical("kayak lake", 10, namespace=ns)
                        rows = mem.backend.rows([s for s, _ in hits])
                        scores.append(sorted((rows[s].id, round(w, 4)) for s, w in hits))
                    got.append(scores)
            assert got[0] == got[1]
    finally:
        postgres.drop(url)


@pytest.mark.backends("local", "postgres")
def test_a_learned_recall_inside_a_transaction_answers(store_at, fake_encoder):
    """A learned read overlaps its lexical and dense searches on two threads; inside a local store's
    transaction, whose lock the calling thread holds, it asks both from that thread instead of waiting
    on itself for ever. (The transaction runs on a thread of its own, so that a hang fails the test.)"""
    import threading

    mem = Memory(store_at(), encoder=fake_encoder)
    answers: list = []

    def transaction() -> None:
        with mem.transaction():
            mem.remember("kayak on the river", namespace=("u1",))
            answers.append(mem.recall("kayak", namespace=("u1",), track_usage=False))

    worker = threading.Thread(target=transaction, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "recall inside a transaction never returned"
    mem.close()
    assert [h.text for h in answers[0]] == ["kayak on the river"]
