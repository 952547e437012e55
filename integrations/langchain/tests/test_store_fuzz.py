"""Generated calls through AgentMemStore beside LangGraph's own InMemoryStore: what InMemoryStore
accepts, AgentMemStore accepts too and reads back as LangGraph's persistent stores do (tuples and sets
as lists, what JSON cannot hold as its string form); what it refuses, AgentMemStore refuses with a
ValueError or TypeError. A put that fails changes nothing.

Examples: AGENTMEM_FUZZ_EXAMPLES (default 150)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_agentmem.items import storable
from langgraph.store.memory import InMemoryStore

EXAMPLES = int(os.environ.get("AGENTMEM_FUZZ_EXAMPLES", "150"))
chars = st.characters(codec=None, categories=None)
labels = st.one_of(st.sampled_from(["users", "u1", "notes", "a b", "x.y", "", "*"]), st.text(chars, max_size=6))
namespaces = st.lists(labels, min_size=0, max_size=3).map(tuple)
keys = st.one_of(st.sampled_from(["k1", "k2", ""]), st.text(chars, max_size=6))
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(chars, max_size=10),
    st.binary(max_size=4),
)
values = st.dictionaries(
    st.text(chars, max_size=6),
    st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=3), st.tuples(inner), st.dictionaries(st.text(max_size=4), inner, max_size=2)), max_leaves=6),
    max_size=4,
)


@pytest.fixture(scope="module")
def stores(tmp_path_factory, char_embeddings):
    from langchain_agentmem import AgentMemStore

    index = {"dims": char_embeddings.dims, "embed": char_embeddings}
    ours = AgentMemStore(tmp_path_factory.mktemp("fuzz") / "s", index=index)
    yield ours, InMemoryStore(index=index)
    ours.close()


def _outcome(fn):
    try:
        return "ok", fn()
    except (ValueError, TypeError) as e:
        return "refused", e


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ns=namespaces, key=keys, value=values)
def test_put_and_get_accept_what_inmemorystore_accepts(stores, ns, key, value):
    ours, theirs = stores
    expected, _ = _outcome(lambda: theirs.put(ns, key, value))
    got, err = _outcome(lambda: ours.put(ns, key, value))
    if expected == "refused":
        return
    if got == "refused" and any(not isinstance(x, str) or min(x or " ") >= "\ud800" for x in ns):
        return  # a namespace label agentmem cannot store as UTF-8 (a lone surrogate)
    assert got == "ok", err
    item = ours.get(ns, key)
    assert item is not None and item.value == storable(value)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ns=namespaces, query=st.one_of(st.none(), st.text(chars, max_size=8)), limit=st.integers(-2, 20), offset=st.integers(-2, 20), flt=st.one_of(st.none(), st.dictionaries(st.text(max_size=3), leaf, max_size=2)))
def test_reads_accept_what_inmemorystore_accepts(stores, ns, query, limit, offset, flt):
    ours, theirs = stores
    for call in (
        lambda s: s.search(ns, query=query, limit=limit, offset=offset, filter=flt),
        lambda s: s.list_namespaces(prefix=ns or None, limit=max(limit, 0) or 10, offset=max(offset, 0)),
        lambda s: s.get(ns, "k1"),
        lambda s: s.delete(ns, "k-nothing"),
    ):
        expected, _ = _outcome(lambda c=call: c(theirs))
        got, err = _outcome(lambda c=call: c(ours))
        if expected == "ok":
            assert got == "ok" or any("\ud800" <= ch <= "\udfff" for x in ns for ch in x), err


def test_a_put_that_fails_changes_nothing(tmp_path, char_embeddings):
    """A put replacing an item whose extra indexed field is a facet memory: the facet is dropped first,
    then the new value is refused (too large). One transaction: the facet is still there."""
    from langchain_agentmem import AgentMemStore

    index = {"dims": char_embeddings.dims, "embed": char_embeddings, "fields": ["title", "body"]}
    with AgentMemStore(tmp_path / "s", index=index) as store:
        store.put(("docs",), "a", {"title": "kayak trip", "body": "down the river"})
        before = sorted(r.id for r in store.memory.list())
        assert len(before) == 2  # the item record and its facet
        with pytest.raises(ValueError, match="over"):
            store.put(("docs",), "a", {"title": "kayak trip", "blob": "x" * (17 << 20)})
        assert sorted(r.id for r in store.memory.list()) == before
        assert store.get(("docs",), "a").value == {"title": "kayak trip", "body": "down the river"}
