"""AgentMemStore behaves as LangGraph's stores do: the cases of LangGraph's own store tests
(libs/checkpoint-sqlite/tests/test_store.py, InMemoryStore's semantics), run against agentmem."""

from __future__ import annotations

import math
import random

import pytest
from langchain_agentmem import AgentMemStore
from langgraph.store.base import (
    GetOp,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    MatchCondition,
    PutOp,
    SearchOp,
)
from langgraph.store.memory import InMemoryStore

from agentmem import Memory
from agentmem.controller import CosineController, WriteDecision

pytestmark = pytest.mark.backends("local", "postgres")


@pytest.fixture
def store(store_at, make_store):
    with make_store(store_at("mem")) as s:
        yield s


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(
        sum(x * x for x in a) * sum(y * y for y in b)
    )


# -- put / get / update / delete ---------------------------------------------------------------------


def test_put_get_update_delete(store):
    ns = ("test", "documents")
    store.put(ns, "doc1", {"title": "Test Document", "content": "Hello, World!"})
    item = store.get(ns, "doc1")
    assert isinstance(item, Item)
    assert (item.namespace, item.key, item.value) == (
        ns,
        "doc1",
        {"title": "Test Document", "content": "Hello, World!"},
    )
    assert item.created_at.tzinfo is not None

    store.put(ns, "doc1", {"title": "Updated", "content": "Hello, LangGraph!"})
    updated = store.get(ns, "doc1")
    assert updated.value == {"title": "Updated", "content": "Hello, LangGraph!"}
    assert updated.created_at == item.created_at  # an update keeps the item's creation time
    assert updated.updated_at >= item.updated_at

    assert store.get(("test", "other_documents"), "doc1") is None
    assert store.get(ns, "missing") is None

    store.delete(ns, "doc1")
    assert store.get(ns, "doc1") is None
    assert store.search(ns) == []
    store.delete(ns, "doc1")  # deleting what is gone is a no-op


def test_lone_surrogates_in_keys_and_values_round_trip(store_at, make_store, char_embeddings):
    """A lone surrogate (which UTF-8 cannot hold) is kept exactly, in keys and in values' keys and
    strings, as InMemoryStore keeps it: strings differing only by one stay different, through get,
    search, filters and a reopen."""
    reference = InMemoryStore(index={"dims": char_embeddings.dims, "embed": char_embeddings})
    # built from pairs: a linter reading the source takes "a\ud801" and "a\ud802" for one key
    values = dict(
        [
            ("k\ud800", dict([("text", "a\ud800 kayak"), ("a\ud801", 1), ("a\ud802", 2), ("mark", "\ufdd0x"), ("pct", "50%uD800%")])),
            ("k\ud801", {"text": "a\ud801 kayak", "a\ud801": 3, "mark": "\ufdd0x%", "pct": "50%"}),
            ("k?", {"text": "a? kayak", "a?": 4, "mark": "x", "pct": "%25"}),
        ]
    )
    assert len(values) == 3 and len(values["k\ud800"]) == 5
    with make_store(store_at("mem")) as store:
        for key, value in values.items():
            store.put(("docs", "\udfff"), key, value)
            reference.put(("docs", "\udfff"), key, value)

        def seen(s, **kwargs):
            return sorted(((i.key, i.value) for i in s.search(("docs",), **kwargs)), key=lambda kv: kv[0])

        for key, value in values.items():
            assert store.get(("docs", "\udfff"), key).value == value == reference.get(("docs", "\udfff"), key).value
        assert seen(store) == seen(reference) == sorted(values.items())
        assert seen(store, query="a\ud800 kayak") == seen(reference, query="a\ud800 kayak")
        for flt in (
            {"text": "a\ud800 kayak"},
            {"text": "a\ud801 kayak"},
            {"a\ud801": 1},
            {"a\ud801": {"$eq": 3}},
            {"mark": "\ufdd0x"},
            {"mark": {"$eq": "\ufdd0x%"}},
            {"pct": "%25"},
            {"pct": "50%uD800%"},
        ):
            assert seen(store, filter=flt) == seen(reference, filter=flt), flt
            assert len(seen(store, filter=flt)) == 1, flt
        # the embeddings are given the texts as they are, surrogates included
        ours = store.search(("docs",), query="a\ud800 kayak")
        theirs = reference.search(("docs",), query="a\ud800 kayak")
        assert [(i.key, pytest.approx(i.score, abs=1e-4)) for i in ours] == [(i.key, i.score) for i in theirs]
    with make_store(store_at("mem")) as reopened:
        assert reopened.get(("docs", "\udfff"), "k\ud800").value == values["k\ud800"]


def test_nul_characters_in_keys_and_values_round_trip(store, char_embeddings):
    """A NUL character (which agentmem refuses in what it stores, as PostgreSQL's text cannot hold one)
    is kept exactly in values' keys and strings, searched and filtered as InMemoryStore does it, on
    either backend."""
    reference = InMemoryStore(index={"dims": char_embeddings.dims, "embed": char_embeddings})
    values = {
        "k\x00": {"text": "a\x00 kayak", "a\x00": 1, "pct": "%00"},
        "k": {"text": "a kayak", "a": 2, "pct": "\x00"},
    }
    for key, value in values.items():
        store.put(("docs",), key, value)
        reference.put(("docs",), key, value)

    def seen(s, **kwargs):
        return sorted(((i.key, i.value) for i in s.search(("docs",), **kwargs)), key=lambda kv: kv[0])

    for key, value in values.items():
        assert store.get(("docs",), key).value == value
    assert seen(store) == seen(reference) == sorted(values.items())
    ours = store.search(("docs",), query="a\x00 kayak")
    theirs = reference.search(("docs",), query="a\x00 kayak")
    assert [(i.key, pytest.approx(i.score, abs=1e-4)) for i in ours] == [(i.key, i.score) for i in theirs]
    for flt in ({"text": "a\x00 kayak"}, {"a\x00": 1}, {"pct": "%00"}, {"pct": {"$eq": "\x00"}}):
        assert seen(store, filter=flt) == seen(reference, filter=flt), flt
        assert len(seen(store, filter=flt)) == 1, flt


def test_batch_order(store):
    store.put(("test", "foo"), "key1", {"data": "value1"})
    store.put(("test", "bar"), "key2", {"data": "value2"})
    results = store.batch(
        [
            GetOp(("test", "foo"), "key1"),
            PutOp(("test", "bar"), "key2", {"data": "value2"}),
            SearchOp(("test",), filter={"data": "value1"}, limit=10, offset=0),
            ListNamespacesOp(match_conditions=None, max_depth=None, limit=10, offset=0),
            GetOp(("test",), "key3"),
        ]
    )
    assert len(results) == 5
    assert results[0].value == {"data": "value1"} and results[0].key == "key1"
    assert results[1] is None
    assert [i.key for i in results[2]] == ["key1"]
    assert {("test", "foo"), ("test", "bar")} <= set(results[3])
    assert results[4] is None

    results = store.batch(
        [
            SearchOp(("test",), limit=5),
            GetOp(("test", "bar"), "key2"),
            PutOp(("test",), "key3", {"data": "value3"}),
            GetOp(("test",), "key3"),  # reads in a batch see the state before its puts
        ]
    )
    assert len(results[0]) == 2
    assert results[1].value == {"data": "value2"}
    assert results[2] is None and results[3] is None
    assert store.get(("test",), "key3").value == {"data": "value3"}


def test_batch_puts_last_write_wins_and_delete(store):
    store.batch(
        [
            PutOp(("test",), "key1", {"data": "first"}),
            PutOp(("test",), "key2", {"data": "value2"}),
            PutOp(("test",), "key1", {"data": "second"}),
            PutOp(("test",), "key3", None),  # deleting a missing key is fine
        ]
    )
    assert store.get(("test",), "key1").value == {"data": "second"}
    assert store.get(("test",), "key2").value == {"data": "value2"}
    assert store.get(("test",), "key3") is None


def test_invalid_namespaces_and_values_are_refused(store):
    with pytest.raises(InvalidNamespaceError):
        store.put((), "k", {"a": 1})
    with pytest.raises(InvalidNamespaceError):
        store.put(("langgraph", "x"), "k", {"a": 1})
    with pytest.raises(InvalidNamespaceError):
        store.put(("a.b",), "k", {"a": 1})
    with pytest.raises(InvalidNamespaceError):
        store.batch([GetOp(("a", ""), "k")])
    with pytest.raises(ValueError, match="reserved"):
        store.put(("a",), "k", {"__lg_key__": "x"})


# -- search: namespace prefix, filters, pagination ---------------------------------------------------


def test_search_namespace_prefix_respects_segments(store):
    store.put(("users", "a"), "k1", {"n": 1})
    store.put(("users", "ab"), "k2", {"n": 2})
    store.put(("users", "a", "notes"), "k3", {"n": 3})
    store.put(("usersx",), "k4", {"n": 4})
    assert {i.key for i in store.search(("users", "a"))} == {"k1", "k3"}
    assert {i.key for i in store.search(("users",))} == {"k1", "k2", "k3"}
    assert {i.key for i in store.search(())} == {"k1", "k2", "k3", "k4"}
    assert store.search(("user",)) == []


def test_search_filters_with_langgraph_operators(store):
    docs = {
        "doc1": {
            "title": "First",
            "author": "Alice",
            "score": 4.5,
            "tags": ["a", "b"],
            "meta": {"lang": "en"},
        },
        "doc2": {"title": "Second", "author": "Bob", "score": 3.0, "tags": ["b"], "meta": {"lang": "fr"}},
        "doc3": {
            "title": "Third",
            "author": "Alice",
            "score": 4.0,
            "tags": ["a"],
            "meta": {"lang": "en", "v": 2},
        },
        "doc4": {"title": "Fourth", "author": "Carol", "score": "3.5"},
    }
    for key, value in docs.items():
        store.put(("test", "docs"), key, value)

    def keys(**kw):
        return {i.key for i in store.search(("test",), limit=10, **kw)}

    assert keys(filter={"author": "Alice"}) == {"doc1", "doc3"}
    assert keys(filter={"author": {"$eq": "Bob"}}) == {"doc2"}
    assert keys(filter={"author": {"$ne": "Alice"}}) == {"doc2", "doc4"}
    assert keys(filter={"score": {"$gt": 3.5}}) == {"doc1", "doc3"}
    assert keys(filter={"score": {"$gte": 3.5}}) == {"doc1", "doc3", "doc4"}  # "3.5" compares as a number
    assert keys(filter={"score": {"$lt": 4.0}}) == {"doc2", "doc4"}
    assert keys(filter={"score": {"$lte": 4.0}}) == {"doc2", "doc3", "doc4"}
    assert keys(filter={"score": {"$gte": 3.0, "$lt": 4.5}}) == {"doc2", "doc3", "doc4"}
    assert keys(filter={"author": "Alice", "score": {"$gt": 4.2}}) == {"doc1"}
    assert keys(filter={"meta": {"lang": "en"}}) == {"doc1", "doc3"}  # nested keys match
    assert keys(filter={"tags": ["a", "b"]}) == {"doc1"}  # lists match element-wise
    assert keys(filter={"missing": "x"}) == set()
    with pytest.raises(ValueError, match="operator"):
        store.search(("test",), filter={"score": {"$regex": "x"}})


def test_search_limit_offset_in_write_order(store):
    for i in range(7):
        store.put(("page",), f"k{i}", {"i": i, "parity": i % 2})
    store.put(("page",), "k2", {"i": 2, "parity": 0})  # an update keeps the item's place
    assert [i.key for i in store.search(("page",), limit=3)] == ["k0", "k1", "k2"]
    assert [i.key for i in store.search(("page",), limit=3, offset=3)] == ["k3", "k4", "k5"]
    assert [i.key for i in store.search(("page",), limit=3, offset=6)] == ["k6"]
    # a filter agentmem cannot run in SQL (a list) is paginated after filtering, not before
    evens = [i.key for i in store.search(("page",), filter={"parity": 0, "i": {"$ne": 0}}, limit=2, offset=1)]
    assert evens == ["k4", "k6"]
    assert all(i.score is None for i in store.search(("page",)))


# -- list_namespaces -----------------------------------------------------------------------------


def test_list_namespaces(store):
    namespaces = [
        ("test", "documents", "public"),
        ("test", "documents", "private"),
        ("test", "images", "public"),
        ("test", "images", "private"),
        ("prod", "documents", "public"),
        ("prod", "documents", "private"),
    ]
    for ns in namespaces:
        store.put(ns, "dummy", {"content": "dummy"})

    assert store.list_namespaces() == sorted(namespaces)
    assert store.list_namespaces(prefix=("test",)) == sorted(ns for ns in namespaces if ns[0] == "test")
    assert store.list_namespaces(suffix=("public",)) == sorted(ns for ns in namespaces if ns[-1] == "public")
    assert store.list_namespaces(prefix=("*", "documents")) == sorted(
        ns for ns in namespaces if ns[1] == "documents"
    )
    assert store.list_namespaces(prefix=("test",), suffix=("public",)) == [
        ("test", "documents", "public"),
        ("test", "images", "public"),
    ]
    assert store.list_namespaces(max_depth=2) == [
        ("prod", "documents"),
        ("test", "documents"),
        ("test", "images"),
    ]
    assert store.list_namespaces(limit=2) == sorted(namespaces)[:2]
    assert store.list_namespaces(limit=2, offset=4) == sorted(namespaces)[4:6]
    assert store.list_namespaces(prefix=("nope",)) == []

    results = store.batch(
        [
            ListNamespacesOp(match_conditions=(MatchCondition("suffix", ("private",)),), limit=10),
            ListNamespacesOp(max_depth=1),
        ]
    )
    assert all(ns[-1] == "private" for ns in results[0]) and len(results[0]) == 3
    assert results[1] == [("prod",), ("test",)]

    for ns in namespaces:
        store.delete(ns, "dummy")
    assert store.list_namespaces() == []


def test_list_namespaces_max_depth_example_from_langgraph_docs(store):
    for ns in [("a", "b", "c"), ("a", "b", "d", "e"), ("a", "b", "d", "i"), ("a", "b", "f"), ("a", "c", "f")]:
        store.put(ns, "k", {"v": 1})
    assert store.list_namespaces(prefix=("a", "b"), max_depth=3) == [
        ("a", "b", "c"),
        ("a", "b", "d"),
        ("a", "b", "f"),
    ]


def test_list_namespaces_orders_labels_as_inmemorystore_does(store):
    """Labels agentmem stores escaped (controls, "%", lone surrogates) sort and page by the labels
    themselves, as InMemoryStore sorts them: Python's order of the label tuples."""
    labels = ["a", "a\x01", "a%", "a%01", "aB", "a\x7f", "a\x9f", "a\u00e9", "a\ud800", "a\udfff", "a\ue000", "b"]
    namespaces = [(x,) for x in labels] + [("p", x, "s") for x in labels] + [("p", x, x, "t") for x in labels[:4]]
    reference = InMemoryStore()
    for ns in namespaces:
        store.put(ns, "k", {"v": 1})
        reference.put(ns, "k", {"v": 1})
    for kwargs in (
        {},
        {"prefix": ("p",)},
        {"prefix": ("p", "*")},
        {"suffix": ("s",)},
        {"prefix": ("p",), "suffix": ("*",)},
        {"max_depth": 2},
        {"prefix": ("p",), "max_depth": 2},
        {"limit": 5},
        {"limit": 4, "offset": 3},
        {"prefix": ("p",), "max_depth": 2, "limit": 3, "offset": 2},
        {"offset": 30, "limit": 100},
        {"limit": -2},
        {"offset": -3, "limit": 2},
    ):
        assert store.list_namespaces(**kwargs) == reference.list_namespaces(**kwargs), kwargs
    assert store.list_namespaces()[:3] == [("a",), ("a\x01",), ("a%",)]


# -- semantic search: embedding, fields and JSON paths, index=False, scores -------------------------


def test_vector_search_ranks_and_updates_embeddings(store):
    store.put(("test",), "doc1", {"text": "zany zebra Xerxes"})
    store.put(("test",), "doc2", {"text": "something about dogs"})
    store.put(("test",), "doc3", {"text": "text about birds"})

    first = store.search(("test",), query="Zany Xerxes")
    assert first[0].key == "doc1"
    before = first[0].score

    store.put(("test",), "doc1", {"text": "new text about dogs"})
    after = next(r.score for r in store.search(("test",), query="Zany Xerxes") if r.key == "doc1")
    assert after < before
    assert store.search(("test",), query="new text about dogs")[0].key == "doc1"

    store.put(("test",), "doc4", {"text": "new text about dogs"}, index=False)
    assert "doc4" not in [r.key for r in store.search(("test",), query="new text about dogs", limit=3)]
    # asked for more than the embedded items: unindexed ones fill up, unscored (as InMemoryStore)
    everything = store.search(("test",), query="new text about dogs", limit=10)
    assert [r.key for r in everything][-1] == "doc4" and everything[-1].score is None
    assert store.get(("test",), "doc4").value == {"text": "new text about dogs"}


def test_vector_search_with_filters_and_pagination(store):
    docs = {
        "doc1": {"text": "red apple", "color": "red", "score": 4.5},
        "doc2": {"text": "red car", "color": "red", "score": 3.0},
        "doc3": {"text": "green apple", "color": "green", "score": 4.0},
        "doc4": {"text": "blue car", "color": "blue", "score": 3.5},
    }
    for key, value in docs.items():
        store.put(("test",), key, value)
    results = store.search(("test",), query="apple", filter={"color": "red"})
    assert [r.key for r in results][:1] == ["doc1"] and len(results) == 2
    assert store.search(("test",), query="car", filter={"color": "red"})[0].key == "doc2"
    results = store.search(("test",), query="bbbbluuu", filter={"score": {"$gt": 3.2}})
    assert len(results) == 3 and results[0].key == "doc4"
    assert (
        store.search(("test",), query="apple", filter={"score": {"$gte": 4.0}, "color": "green"})[0].key
        == "doc3"
    )

    page1 = store.search(("test",), query="car", limit=2)
    page2 = store.search(("test",), query="car", limit=2, offset=2)
    assert {r.key for r in page1}.isdisjoint({r.key for r in page2}) and len(page1) == len(page2) == 2
    assert page1[0].score >= page1[1].score >= page2[0].score >= page2[1].score


def test_a_ranked_search_past_the_recall_limit_drops_no_match(store, monkeypatch):
    """A recall ranks at most MAX_K memories (10,000; 40 here): matches a filter keeps that SQL cannot
    pre-select, and an offset past the ranked ones, still come back, after them and unscored."""
    import langchain_agentmem.store as store_module

    monkeypatch.setattr(store_module, "MAX_K", 40)
    store.batch(
        [PutOp(("big",), f"k{i}", {"text": "zzzz qqqq" if i < 3 else f"apple banana {i}", "n": i}) for i in range(60)]
    )
    found = store.search(("big",), query="apple", filter={"n": {"$lt": 3}}, limit=10)
    assert sorted(r.key for r in found) == ["k0", "k1", "k2"]
    deep = store.search(("big",), query="apple", limit=10, offset=55)
    assert len(deep) == 5 and all(r.score is None for r in deep)
    everything = store.search(("big",), query="apple", limit=60)
    assert len({r.key for r in everything}) == 60
    scores = [r.score for r in everything]
    ranked = [x for x in scores if x is not None]
    assert scores[: len(ranked)] == ranked == sorted(ranked, reverse=True)  # ranked first, best first
    # unindexed items come once, after the indexed ones, whichever way a page reaches them
    store.batch([PutOp(("big",), f"u{i}", {"text": "apple", "n": 100 + i}, index=False) for i in range(2)])
    every = store.search(("big",), query="apple", limit=100)
    assert len(every) == 62 and len({r.key for r in every}) == 62
    assert [r.key for r in every[-2:]] == ["u0", "u1"]
    assert [r.key for r in store.search(("big",), query="apple", limit=100, offset=60)] == ["u0", "u1"]


def test_vector_search_edge_cases(store):
    store.put(("test",), "doc1", {"text": "test document"})
    for query in ["", "   ", None, "test " * 100, "test!@#$%^&*()"]:
        assert len(store.search(("test",), query=query)) == 1


def test_search_windows_match_inmemorystore_for_any_limit_and_offset(store, char_embeddings):
    """Every limit and offset in -3..3, with a query and without, on items indexed and not, against
    InMemoryStore: a negative bound slices every match without a query, and with one keeps the ranks
    in [offset, offset + limit) (none for limit -1), topped up with unindexed items."""
    reference = InMemoryStore(index={"dims": char_embeddings.dims, "embed": char_embeddings})
    rng = random.Random(7)
    words = ["kayak", "river", "zebra", "quartz", "violin", "pepper", "glacier", "mosaic"]
    for i in range(9):
        value = {"text": " ".join(rng.sample(words, 3)), "n": i}
        index = False if rng.random() < 0.3 else None
        store.put(("docs",), f"k{i}", value, index=index)
        reference.put(("docs",), f"k{i}", value, index=index)
    for query in ("zebra kayak", None):
        for limit in range(-3, 4):
            for offset in range(-3, 4):
                _same_page(store, reference, query, limit, offset)
    assert store.search(("docs",), query="zebra kayak", limit=-1) == []


def _same_page(store, reference, query, limit, offset) -> None:
    """One search's page from both stores: the same keys, scored or unscored alike, the same scores."""
    ours = store.search(("docs",), query=query, limit=limit, offset=offset)
    theirs = reference.search(("docs",), query=query, limit=limit, offset=offset)
    where = (query, limit, offset)
    assert [i.key for i in ours] == [i.key for i in theirs], where
    assert [i.score is None for i in ours] == [i.score is None for i in theirs], where
    for a, b in zip(ours, theirs, strict=True):
        assert b.score is None or a.score == pytest.approx(b.score, abs=1e-4), where


def test_blank_indexed_fields_are_scored_as_inmemorystore_scores_them(store_at, make_store, char_embeddings):
    """A blank text at an index path is embedded like any other, as InMemoryStore embeds it: "   "
    scores its cosine, and "" (the zero vector for these embeddings, which agentmem cannot index)
    scores 0.0 for every query; an item scores its best text, and only an item with no text at the
    paths is unscored."""
    fields = ["text", "note"]
    reference = InMemoryStore(index={"dims": char_embeddings.dims, "embed": char_embeddings, "fields": fields})
    values = {
        "empty": {"text": ""},
        "spaces": {"text": "   "},
        "kayak": {"text": "kayak"},
        "none": {"other": "kayak"},
        "empty-head": {"text": "", "note": "zebra"},
        "empty-note": {"text": "zebra kayak", "note": ""},
        "both-blank": {"text": "", "note": "\t"},  # two texts: InMemoryStore embeds one text once a batch
    }
    with make_store(store_at("mem"), fields=fields) as store:
        for key, value in values.items():
            store.put(("docs",), key, value)
            reference.put(("docs",), key, value)
        assert store.get(("docs",), "empty").value == {"text": ""}
        for query in ("kayak", "zebra", "qqq", "   "):
            for limit, offset in ((10, 0), (3, 0), (2, 2), (3, 4), (1, 6)):
                _same_page(store, reference, query, limit, offset)
        found = {i.key: i.score for i in store.search(("docs",), query="kayak")}
        assert found["empty"] == 0.0 and found["none"] is None
        for flt in ({"text": ""}, {"note": ""}):
            ours = store.search(("docs",), query="kayak", filter=flt)
            theirs = reference.search(("docs",), query="kayak", filter=flt)
            assert [(i.key, pytest.approx(i.score, abs=1e-4)) for i in ours] == [(i.key, i.score) for i in theirs]
        assert ("empty", 0.0) in [(i.key, i.score) for i in store.search(("docs",), query="kayak", filter={"text": ""})]
        # a put that gives the field a text indexes it again
        store.put(("docs",), "empty", {"text": "kayak"})
        assert store.search(("docs",), query="kayak", limit=1)[0].score == pytest.approx(1.0, abs=1e-4)


def test_embed_chosen_fields_one_vector_each(store_at, make_store):
    with make_store(store_at("m"), fields=["key0", "key1", "key3"]) as store:
        store.put(("test",), "doc1", {"key1": "xxx", "key2": "yyy", "key3": "zzz"})  # key0 missing: fine
        store.put(("test",), "doc2", {"key0": "uuu", "key1": "vvv", "key2": "www", "key3": "xxx"})

        results = store.search(("test",), query="xxx")
        assert len(results) == 2 and results[0].key != results[1].key  # one result per item
        assert results[0].score > 0.9 and results[1].score > 0.9  # both items hold "xxx" in some field
        assert store.search(("test",), query="uuu")[0].key == "doc2"
        assert store.search(("test",), query="zzz")[0].key == "doc1"
        assert all(r.score < 0.9 for r in store.search(("test",), query="www"))  # key2 is not embedded

        # an update that drops a field drops its vector too
        store.put(("test",), "doc2", {"key0": "uuu", "key2": "www"})
        assert [r.key for r in store.search(("test",), query="xxx")][0] == "doc1"
        assert next(r for r in store.search(("test",), query="xxx") if r.key == "doc2").score < 0.9
        store.delete(("test",), "doc2")
        assert [r.key for r in store.search(("test",), query="uuu")] == ["doc1"]
        assert len(store.memory) == 2  # doc1's item memory and its one facet; doc2 left nothing


def test_per_put_index_paths_override_the_config(store_at, make_store):
    with make_store(store_at("m"), fields=["key17"]) as store:
        store.put(("test",), "doc3", {"key0": "aaa", "key1": "bbb", "key2": "ccc"}, index=["key0", "key1"])
        store.put(("test",), "doc4", {"key0": "eee", "key1": "bbb", "key3": "ggg"}, index=["key1", "key3"])
        assert store.search(("test",), query="aaa")[0].key == "doc3"
        assert store.search(("test",), query="ggg")[0].key == "doc4"
        results = store.search(("test",), query="bbb")
        assert abs(results[0].score - results[1].score) < 0.1
        assert all(r.score < 0.9 for r in store.search(("test",), query="ccc"))
        store.put(("test",), "doc5", {"key0": "hhh"}, index=False)
        assert len(store.search(("test",))) == 3


def test_json_paths(store_at, make_store):
    fields = ["meta.title", "sections[*].text", "tags[-1]"]
    with make_store(store_at("m"), fields=fields) as store:
        store.put(
            ("docs",),
            "d1",
            {
                "meta": {"title": "qqqq"},
                "sections": [{"text": "wwww"}, {"text": "eeee"}],
                "tags": ["rrrr", "tttt"],
                "body": "yyyy",
            },
        )
        store.put(("docs",), "d2", {"meta": {"title": "zzzz"}, "body": "qqqq"})
        for query in ["qqqq", "wwww", "eeee", "tttt"]:
            top = store.search(("docs",), query=query)[0]
            assert (top.key, top.score > 0.99) == ("d1", True), query
        assert store.search(("docs",), query="rrrr")[0].score < 0.99  # tags[0] is not embedded
        assert store.search(("docs",), query="yyyy")[0].score < 0.99  # nor is body


def test_scores_are_cosine_similarities(store, char_embeddings):
    store.put(("test",), "doc", {"key0": "aaa"}, index=["key0"])
    for query in ["aaa", "bbb", "abcd", "poisson"]:
        [result] = store.search((), query=query)
        expected = cosine(char_embeddings.embed_query(query), char_embeddings.embed_query("aaa"))
        assert result.score == pytest.approx(expected, abs=1e-4)


def test_whole_value_is_embedded_by_default(store):
    store.put(("test",), "a", {"zzz": "zzz zzz"})
    store.put(("test",), "b", {"mmm": "mmm mmm"})
    # a local store keeps keys as float16 (storage/local/sqlite.py): cosines move by under 1e-3
    assert store.search(("test",), query='{"zzz": "zzz zzz"}')[0].score == pytest.approx(1.0, abs=1e-3)


def test_embedding_function_instead_of_embeddings(store_at, char_embeddings):
    with AgentMemStore(
        store_at("m"), index={"dims": 500, "embed": char_embeddings.embed_documents}
    ) as store:
        store.put(("test",), "a", {"text": "aaaa"})
        store.put(("test",), "b", {"text": "bbbb"})
        assert store.search(("test",), query="aaaa")[0].key == "a"


# -- persistence and agentmem visibility -------------------------------------------------------


def test_items_persist_and_are_agentmem_memories(store_at, make_store, char_embeddings):
    path = store_at("mem")
    with make_store(path, fields=["text"]) as store:
        store.put(("user-42", "memories"), "m1", {"text": "Ada lives in Lisbon", "kind": "fact"})
        store.put(("user-42", "memories"), "m1", {"text": "Ada moved to Porto", "kind": "fact"})
    with make_store(path, fields=["text"]) as store:
        item = store.get(("user-42", "memories"), "m1")
        assert item.value == {"text": "Ada moved to Porto", "kind": "fact"}
        assert store.search(("user-42",), query="Ada moved to Porto")[0].key == "m1"
    with Memory(path, encoder=char_embeddings) as mem:
        [record] = mem.list(namespace=("user-42",))
        assert record.text == "Ada moved to Porto" and record.metadata["kind"] == "fact"
        assert [v.text for v in mem.history(record.id)] == ["Ada lives in Lisbon", "Ada moved to Porto"]


def test_shares_an_open_memory(store_at, char_embeddings):
    with Memory(store_at("m"), encoder=char_embeddings) as mem:
        store = AgentMemStore(memory=mem, index={"fields": ["text"]})
        store.put(("a",), "k", {"text": "hello", "n": 1})
        store.close()  # the memory belongs to the caller: still open
        assert mem.list()[0].text == "hello"
        with pytest.raises(ValueError):
            AgentMemStore(store_at("other"), memory=mem)


def test_default_encoder_finds_by_meaning(store_at, encoder):
    with AgentMemStore(store_at("mem"), index={"fields": ["text"]}) as store:
        store.put(("u1",), "a", {"text": "I live in Lisbon with my two cats."})
        store.put(("u1",), "b", {"text": "My favourite programming language is Rust."})
        store.put(("u1",), "c", {"text": "I am allergic to peanuts."})
        assert store.search(("u1",), query="Which city is home?", limit=1)[0].key == "a"
        assert store.search(("u1",), query="food I must avoid", limit=1)[0].key == "c"


class MergingController(CosineController):
    """A write policy that folds every new observation into the closest existing memory."""

    name = "merging"

    def plan_writes(self, writes, memory):
        decisions = []
        for write in writes:
            closest = memory.search(write.vector, 1, namespace=None, filter=None)
            decisions.append(WriteDecision("skip", closest[0][0]) if closest else WriteDecision("new"))
        return decisions


def test_a_merging_controller_cannot_rekey_items(store_at, make_store):
    # agentmem stores a caller-chosen id under that id whatever the controller decides, so two keys
    # with near-identical text stay two items.
    with make_store(store_at("m"), controller=MergingController()) as store:
        store.put(("t",), "k1", {"text": "aaaa"})
        store.put(("t",), "k2", {"text": "aaab"})
        assert store.get(("t",), "k1").value == {"text": "aaaa"}
        assert store.get(("t",), "k2").value == {"text": "aaab"}
