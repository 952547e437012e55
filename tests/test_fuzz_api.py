"""Generated input through every public call of `Memory`: each call either does what it says, with what
it wrote reading back exactly as given, or refuses with the library's own error. Nothing else may
escape, and the store stays usable whatever was thrown at it.

Examples per test: AGENTMEM_FUZZ_EXAMPLES (default 150; the outside harness runs thousands).
"""

from __future__ import annotations

import math
import os
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentmem import InvalidInputError, Memory, NotFoundError

EXAMPLES = int(os.environ.get("AGENTMEM_FUZZ_EXAMPLES", "150"))
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any character, lone surrogates and controls included.
chars = st.characters(codec=None, categories=None)
strings = st.one_of(st.text(chars, max_size=12), st.sampled_from(["", " ", "a/b", "*", "x" * 600, "\x7f", "\x85"]))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    strings,
    st.binary(max_size=4),
)
anything = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(strings, st.integers()), inner, max_size=3),
    ),
    max_leaves=8,
)
plain_texts = st.text(st.characters(codec="utf-8", categories=["L", "N", "Zs", "P"]), min_size=1, max_size=40)
namespaces = st.one_of(
    st.none(),
    st.sampled_from([("u1",), ("u1", "notes"), ("u2",), "u1", ("a/b",), ()]),
    anything,
)
metadata = st.one_of(
    st.none(),
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(max_size=5), st.booleans()), max_size=3),
    anything,
)
times = st.one_of(
    st.none(),
    st.floats(min_value=-1e12, max_value=1e12),
    st.sampled_from(["2024-05-08T13:56:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00", "nope", 1e20]),
    st.datetimes(timezones=st.just(timezone.utc)),
    anything,
)
filters = st.one_of(
    st.none(),
    st.sampled_from([{}, {"k": 1}, {"k": {"$gte": 1}}, {"k": {"$in": [1, "a"]}}, {"a.b": None}]),
    st.dictionaries(strings, anything, max_size=2),
    anything,
)
counts = st.one_of(st.none(), st.integers(-3, 30), st.integers(), st.sampled_from([2**70, True, 1.5, "3"]), anything)


@pytest.fixture(scope="module", params=["local", "postgres"])
def mem(request, tmp_path_factory, fake_encoder):
    """One store of each backend for the module's fuzzing."""
    server = request.getfixturevalue("postgres") if request.param == "postgres" else None
    location = tmp_path_factory.mktemp("fuzz") / "store" if server is None else server.new_database()
    with Memory(location, encoder=fake_encoder) as m:
        m.remember(["Alice lives in Lisbon.", "Bob: I have a beagle."], namespace=("u1",), ids=["a", "b"])
        yield m
    if server is not None:
        server.drop(location)


def _call(fn, *args, **kwargs):
    """The call's result, or None when it refused the input with the library's error; anything else
    (another exception, or an error about the store, which bad input must never cause) fails."""
    try:
        return fn(*args, **kwargs)
    except (InvalidInputError, NotFoundError):
        return None


def _same_time(given, stored: datetime | None) -> bool:
    if given is None:
        return stored is None
    if isinstance(given, datetime):
        given = (given if given.tzinfo else given.replace(tzinfo=timezone.utc)).timestamp()
    elif isinstance(given, str):
        given = datetime.fromisoformat(given).timestamp()
    return stored is not None and math.isclose(stored.timestamp(), float(given), abs_tol=1e-6)


def _item(value, i: int):
    """The value an item of a batch got: its own from a per-item list, else the shared one."""
    return value[i] if isinstance(value, (list, tuple)) and not isinstance(value, str) else value


@fuzz
@given(
    texts=st.one_of(plain_texts, st.lists(plain_texts, max_size=3), anything),
    ns=namespaces,
    meta=st.one_of(metadata, st.lists(metadata, max_size=2)),
    when=st.one_of(times, st.lists(times, max_size=2)),
    ttl=st.one_of(st.none(), anything),
    index=st.one_of(st.just(True), anything),
)
def test_remember_stores_exactly_what_it_was_given_or_refuses(mem, texts, ns, meta, when, ttl, index):
    before = {r.id for r in mem.list()}
    ids = _call(mem.remember, texts, namespace=ns, metadata=meta, event_time=when, ttl=ttl, index=index)
    if ids is None:
        assert {r.id for r in mem.list()} == before  # a refused batch wrote nothing
        return
    items = [texts] if isinstance(texts, str) else list(texts)
    assert len(ids) == len(items)
    for i, (text, id_) in enumerate(zip(items, ids, strict=True)):
        rec = mem.get(id_)
        if id_ in before or rec is None or rec.text != text:
            continue  # folded into a memory it duplicates or supersedes, or its ttl already ran out
        assert rec.namespace == ((ns,) if isinstance(ns, str) else tuple(ns) if ns else ("default",))
        assert rec.metadata == (_item(meta, i) or {})
        assert _same_time(_item(when, i), rec.event_time)


@fuzz
@given(query=st.one_of(plain_texts, anything), k=counts, ns=namespaces, flt=filters, when=times)
def test_reads_answer_or_refuse(mem, query, k, ns, flt, when):
    kwargs = {"k": k} if k is not None else {}
    hits = _call(mem.recall, query, namespace=ns, filter=flt, query_time=when, track_usage=False, **kwargs)
    if hits is not None:
        assert len(hits) <= (k if isinstance(k, int) else 10)
    _call(mem.list, namespace=ns, filter=flt, limit=k, offset=k)
    _call(mem.count, namespace=ns, filter=flt)
    _call(mem.namespaces, prefix=ns, suffix=ns, max_depth=k, limit=k, offset=k)
    _call(mem.explain, query, ["a", "b"], namespace=ns, filter=flt, query_time=when)


@fuzz
@given(id_=st.one_of(st.sampled_from(["a", "b", "missing"]), anything), text=st.one_of(st.none(), plain_texts, anything), meta=metadata, when=times, ns=namespaces)
def test_one_memory_calls_answer_or_refuse(mem, id_, text, meta, when, ns):
    _call(mem.get, id_, namespace=ns)
    _call(mem.history, id_)
    rec = _call(mem.update, id_, text=text, metadata=meta, event_time=when)
    if rec is not None:
        if text is not None:
            assert rec.text == text
        if meta is not None:
            assert rec.metadata == meta
        assert when is None or _same_time(when, rec.event_time)
    _call(mem.refresh_ttl, id_)
    _call(mem.purge, id_, namespace=ns)


@fuzz
@given(
    ids=st.one_of(st.none(), st.sampled_from(["zz", ["zz", "yy"]]), anything),
    ns=namespaces,
    flt=filters,
    everything=st.one_of(st.just(False), anything),
)
def test_forget_never_wipes_unasked_and_stays_in_its_scope(mem, ids, ns, flt, everything):
    if everything is True:
        return  # an explicit wipe is what it says; tested in test_memory.py
    before = {r.id: r.namespace for r in mem.list()}
    n = _call(mem.forget, ids, namespace=ns, filter=flt, everything=everything)
    gone = set(before) - {r.id for r in mem.list()}
    if ids is None and ns in (None, ()) and not flt:
        assert n is None and not gone  # no scope: refused
    if isinstance(ns, tuple) and ns and all(isinstance(s, str) for s in ns):
        assert all(before[i][: len(ns)] == ns for i in gone)  # nothing outside the namespace


def test_the_store_stays_usable_after_the_fuzzing(mem):
    assert mem.list(limit=5) is not None and len(mem) >= 0
    assert isinstance(list(iter(mem)), list)
    assert mem.recall("Lisbon", k=3) is not None
    assert mem.check() == []
