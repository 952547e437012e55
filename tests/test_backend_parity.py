"""The PostgreSQL backend against the local one: generated sequences of public `Memory` calls run on a
fresh store of each, call by call, and each call must answer the same on both: the ids it returns,
the records read back (text, metadata, namespace, times, versions, links), counts, the order of
`list` and `namespaces`, and the same error (type and message) for bad input; the asyncio methods
too, which a PostgreSQL store answers on paths of their own. Both stores see the same clock and the
same generated ids (memory.py's and aio.py's `time` and `uuid` are stood in for), so times and ids
agree to the bit.

Recall is compared as far as the backends promise: a scope and a filter select the same memories,
and the ranking agrees up to the local backend's float16 keys (docs/scale-out.md: a cosine moves by
under 1e-3), so two hits whose scores differ by more than that rank the same. Sequences run with the
cosine controller and with the learned one, whose write gate decides from reads of the store.

What the backends keep apart by design, and the comparison leaves out: the order of a metadata
dict's keys (jsonb keeps its own), and `write_order`'s numbers (a store's own counter; their order
is compared through `list`). docs/scale-out.md, "What differs from a local store".

Examples: AGENTMEM_FUZZ_EXAMPLES (default 150) // 10 sequences of up to 12 calls, per controller.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from agentmem import AgentMemError, DuplicateIdError, IdInUseError, InvalidInputError, Memory, MemoryConfig
from agentmem.records import MemoryRecord, MemoryVersion
from agentmem.storage.postgres.config import PostgresConfig

EXAMPLES = max(1, int(os.environ.get("AGENTMEM_FUZZ_EXAMPLES", "150")) // 10)
TOLERANCE = 2e-3  # how far a cosine of the local backend's float16 keys may be from the exact one


WORDS = ["kayak", "river", "lake", "Alice", "Lisbon", "note", "swim", "dawn", "Malmö"]
ODD_TEXTS = [
    "a\x00b",  # PostgreSQL's text cannot hold NUL
    "\x00",
    "lone \ud800 surrogate",
    "tab\tand\nnewline",
    "bell\x07 and escape\x1b[0m",
    "next line\x85 and delete\x7f",
    "zero\u200bwidth joiner\u200d",
    "emoji 🙂 and Malmö",
    "",
    "   \n",
    "x" * 100_001,
    ("kayak river " * 10_000)[:100_000],
    "\U0010ffff last code point",
    "\ufeffbyte order mark",
    "kayak? river!",
]
VALID_NAMESPACES = [None, ("u1",), ("u1", "notes"), ("u2",), "u1", ("u1", "n"), ("a/b",), ("é",), ("u10",), ()]
ODD_NAMESPACES = [("*",), ("bad\x00",), ("",), ("u1", "\ud800"), ("x" * 513,), ("u1",) * 33, 7, ["u1", "n"]]
VALID_SCALARS = [
    None, True, False, 0, 1, -1, 2**63 - 1, -(2**63), 1.5, 0.1, 1.0, -0.0, 0.0, 1e308, -1e308, 1e16, 2.0**60,
    2**60, 5e-324, 1e-7, 123456789.125, "", "a", "b", "1", "é", "\x85", '{"x":1', "[1, 2]", "-0.0",
]
ODD_SCALARS = [2**63, -(2**63) - 1, math.nan, math.inf, "x\x00y", "\ud800", b"a", (1, 2), {1, 2}]
UTC = timezone.utc
VALID_TIMES = [
    None, 0, -1.5, 1e9, 1_700_000_000.25, 253402300799.0, -62135596800.0, "2024-05-08T13:56:00",
    "2024-05-08T13:56:00Z", "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59.999+00:00", datetime(1, 1, 1),
    datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC), datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=-1))),
]
ODD_TIMES = [
    253402300800.0, -62135596801.0, "9999-12-31T23:59:59.999999", "0001-01-01T00:00:00+01:00", "nope", math.nan,
    True, datetime.max, 10**30, 2**40,
]


class _Held(int):
    """Stands for the id of a memory the stores hold when the call runs (the n-th, modulo their
    number, in id order): a call on one memory then finds it."""


def _resolve(value: Any, held: list[str]) -> Any:
    """`value` with each `_Held` replaced by the id it stands for ("a" when the stores hold none)."""
    if isinstance(value, _Held):
        return held[value % len(held)] if held else "a"
    if isinstance(value, tuple):
        return tuple(_resolve(v, held) for v in value)
    if isinstance(value, list):
        return [_resolve(v, held) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, held) for k, v in value.items()}
    return value


def _calls(odd: bool) -> st.SearchStrategy:
    """One call with its arguments: valid ones only, or (`odd`) valid ones four times in five and odd
    ones (refused, or at the edge of what is accepted) the fifth."""

    def mix(valid: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
        return st.one_of(valid, valid, valid, valid, bad) if odd else valid

    texts = mix(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join), st.sampled_from(ODD_TEXTS))
    namespaces = mix(st.sampled_from(VALID_NAMESPACES), st.sampled_from(ODD_NAMESPACES))
    odd_ids = st.sampled_from(["\ud800", "", "x" * 513, "x\x00", "x" * 512, 3])
    new_ids = mix(st.sampled_from(["a", "b", "c", "é", "a b", "\U0010ffff"]), odd_ids)
    # The ids read, updated and forgotten: those a remember without ids gives the first text of calls 1
    # to 6 (`_Clock.uuid4`) too. A caller giving one of those to a remember would take it before the
    # call that generates it, which a real uuid4 never meets.
    ids = mix(
        st.one_of(
            st.sampled_from(["a", "b", "c", "é", "a b", *(f"{n * 1000:032x}" for n in range(1, 7))]),
            st.integers(0, 50).map(_Held),
        ),
        odd_ids,
    )
    keys = mix(
        st.sampled_from(["k", "n", "a", "0", "x\\y", "é", "x'y"]),
        st.sampled_from(["", "a.b", "$x", "[0]", "k\x00", "\ud800"]),
    )
    scalars = mix(
        st.one_of(
            st.sampled_from(VALID_SCALARS),
            st.integers(-(2**63), 2**63 - 1),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=3),
        ),
        st.one_of(st.sampled_from(ODD_SCALARS), st.integers(), st.floats()),
    )
    values = st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)),
        max_leaves=5,
    )
    dicts = st.dictionaries(keys, values, max_size=3)
    metadata = st.one_of(st.none(), dicts)
    operators = mix(st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"]), st.just("$or"))
    filter_keys = mix(
        st.sampled_from(["k", "n", "a", "a.0", "a.k", "a.n", "x\\y", "0", "é", "x'y"]),
        st.sampled_from(["a.-1", "", "$or", "a..b", 'a"b']),
    )
    conditions = st.one_of(
        values,
        st.dictionaries(operators, st.one_of(values, st.lists(values, max_size=3)), min_size=1, max_size=2),
    )
    filters = st.one_of(st.none(), st.just({}), st.dictionaries(filter_keys, conditions, min_size=1, max_size=2))
    times = mix(
        st.one_of(
            st.sampled_from(VALID_TIMES),
            st.datetimes(timezones=st.just(UTC)),
            st.floats(-62135596800.0, 253402300799.0),
        ),
        st.sampled_from(ODD_TIMES),
    )
    ttls = mix(st.sampled_from([None, None, None, 0.5, 1e6]), st.sampled_from([-1, 3e11, "1", math.nan]))
    counts = mix(st.sampled_from([None, 0, 1, 2, 5]), st.sampled_from([-1, 1.5, "3", 2**70]))

    def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
        """None (no scope) two times in three: a call on one memory finds it often enough."""
        return st.one_of(st.none(), st.none(), strategy)

    def one_or_many(strategy: st.SearchStrategy, n: int) -> st.SearchStrategy:
        """A single value for the batch, or one per text."""
        return st.one_of(strategy, st.lists(strategy, min_size=n, max_size=n))

    @st.composite
    def remember(draw):
        n = draw(st.integers(1, 3))
        batch = draw(st.lists(texts, min_size=n, max_size=n))
        kwargs = {
            "namespace": draw(namespaces),
            "metadata": draw(st.one_of(metadata, st.lists(mix(dicts, st.none()), min_size=n, max_size=n))),
            "event_time": draw(one_or_many(times, n)),
            "ttl": draw(ttls),
            "index": draw(st.sampled_from([True, True, False])),
        }
        if draw(st.booleans()):
            kwargs["ids"] = draw(st.lists(new_ids, min_size=n, max_size=n))
        name = draw(st.sampled_from(["remember", "remember", "aremember"]))
        return (name, (batch[0] if n == 1 and draw(st.booleans()) else batch,), kwargs)

    batches = st.lists(st.tuples(texts, st.sampled_from([("u1",), ("u2",), ("u1", "notes")])), min_size=2, max_size=5)
    return st.one_of(
        remember(),
        remember(),
        remember(),
        st.tuples(st.just("transaction"), batches.map(lambda batch: (batch,)), st.just({})),
        st.builds(
            lambda i, t, m, e, ns: ("update", (i,), {"text": t, "metadata": m, "event_time": e, "namespace": ns}),
            ids, st.one_of(st.none(), texts, texts), metadata, st.one_of(st.none(), times), maybe(namespaces),
        ),
        st.builds(
            lambda name, i, ns, f: (name, (i,), {"namespace": ns, "filter": f}),
            st.sampled_from(["forget", "aforget"]), st.one_of(st.none(), ids, st.lists(ids, max_size=3)), namespaces,
            filters,
        ),
        st.builds(lambda name, i, ns: (name, (i,), {"namespace": ns}), st.sampled_from(["get", "aget"]), ids, namespaces),
        st.builds(lambda i: ("history", (i,), {}), ids),
        st.builds(
            lambda name, ns, f, lim, off: (name, (), {"namespace": ns, "filter": f, "limit": lim, "offset": off}),
            st.sampled_from(["list", "alist"]), namespaces, filters, counts, counts,
        ),
        st.builds(lambda ns, f: ("count", (), {"namespace": ns, "filter": f}), namespaces, filters),
        st.builds(
            lambda p, s, d, lim, off: (
                "namespaces", (), {"prefix": p, "suffix": s, "max_depth": d, "limit": lim, "offset": off}
            ),
            st.sampled_from([None, ("u1",), ("*",), ("u1", "*"), ("u",), "u1", ("a/b",), ()]),
            st.sampled_from([None, ("notes",), ("*",), ("u1",)]),
            mix(st.sampled_from([None, 1, 2]), st.just(0)),
            counts,
            counts,
        ),
        st.builds(
            lambda name, q, k, ns, f: (name, (q,), {"k": k, "namespace": ns, "filter": f, "track_usage": False}),
            st.sampled_from(["recall", "arecall"]), texts, mix(st.sampled_from([1, 3, 50]), st.just(0)), namespaces,
            filters,
        ),
        st.builds(
            lambda q, i, ns, f: ("explain", (q, i), {"namespace": ns, "filter": f}),
            texts, st.lists(ids, min_size=1, max_size=2), maybe(namespaces), maybe(filters),
        ),
        st.builds(lambda i, ns: ("purge", (i,), {"namespace": ns}), st.one_of(st.none(), ids), namespaces),
        st.just(("sweep_expired", (), {})),
    )


calls = st.one_of(_calls(odd=False), _calls(odd=False), _calls(odd=True))


ASYNC = {"aremember", "arecall", "aget", "aforget", "alist"}  # Memory's asyncio methods


class _Clock:
    """memory.py's and aio.py's `time` and `uuid`: one instant per call, in the past (so a ttl of under a second
    ran out for every reader, and a long one for none), and ids counted from the call's number."""

    def __init__(self) -> None:
        self.base = time.time() - 10_000.0
        self.at(0)

    def at(self, step: int) -> None:
        self.now = self.base + step
        self.ids = itertools.count(step * 1000)

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return time.monotonic()

    def uuid4(self) -> uuid.UUID:
        return uuid.UUID(int=next(self.ids))


def _canon(value: Any) -> Any:
    """A JSON value as a comparable form that tells -0.0 from 0.0 and 1.0 from 1; a dict's keys in
    sorted order (jsonb keeps its own order of keys, by design)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, dict):
        return ("dict", [(k, _canon(v)) for k, v in sorted(value.items())])
    if isinstance(value, list):
        return ("list", [_canon(v) for v in value])
    return ("?", type(value).__name__, repr(value))


def _record(r: MemoryRecord) -> tuple:
    return (
        r.id, r.namespace, r.text, _canon(r.metadata), r.created_at, r.updated_at, r.event_time, r.usage,
        r.prev_id, r.next_id, r.version, r.expires_at, r.indexed, r.last_read_at,
    )


def _version(v: MemoryVersion) -> tuple:
    return (v.version, v.text, _canon(v.metadata), v.event_time, v.updated_at)


def _shape(value: Any) -> Any:
    """A call's answer in a comparable form."""
    if isinstance(value, MemoryRecord):
        return _record(value)
    if isinstance(value, MemoryVersion):
        return _version(value)
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return value


@dataclass
class _Answer:
    value: Any = None
    error: tuple[str, str] | None = None


def _run(mem: Memory, name: str, args: tuple, kwargs: dict) -> _Answer:
    try:
        if name == "transaction":
            # Caller-chosen ids: a local store's indexes stay as committed inside a transaction, so the
            # write gate's reads there differ by design (docs/scale-out.md).
            out = []
            with mem.transaction():
                for i, (text, ns) in enumerate(args[0]):
                    out += mem.remember(text, namespace=ns, ids=[f"tx-{len(text)}-{i}"])
            return _Answer(out)
        if name in ASYNC:
            return _Answer(asyncio.run(getattr(mem, name)(*args, **kwargs)))
        return _Answer(getattr(mem, name)(*args, **kwargs))
    except AgentMemError as e:
        message = str(e).replace(mem.backend.location(), "<store>")
        return _Answer(error=(type(e).__name__, message))


def _same_ranking(local: list, pg: list) -> str | None:
    """Why two recalls' (id, score) lists disagree beyond what float16 keys explain (None: they agree)."""
    if len(local) != len(pg):
        return f"{len(local)} hits against {len(pg)}"
    a, b = dict(local), dict(pg)
    for hits in (local, pg):
        if any(x[1] < y[1] for x, y in itertools.pairwise(hits)):
            return f"scores not in descending order: {hits}"
    for i in a.keys() | b.keys():
        if i in a and i in b:
            if abs(a[i] - b[i]) > TOLERANCE:
                return f"{i!r} scores {a[i]} against {b[i]}"
            continue
        cut = min(b.values()) if i in a else min(a.values())  # a near-tie at the cutoff only
        if abs((a[i] if i in a else b[i]) - cut) > 2 * TOLERANCE:
            return f"{i!r} is a hit of one backend only, far from the cutoff"
    shared = [i for i, _ in local if i in b]
    for x, y in itertools.combinations(shared, 2):  # x ranks above y locally
        if b[y] - b[x] > 2 * TOLERANCE:
            return f"{x!r} ranks above {y!r} locally, far below it in PostgreSQL"
    return None


def _compare(step: int, call: tuple, local: _Answer, pg: _Answer) -> None:
    where = f"call {step}: {call[0]}{call[1:]!r:.600}"
    name = call[0][1:] if call[0] in ASYNC else call[0]
    assert local.error == pg.error, f"{where}\n  local: {local.error or 'ok'}\n  postgres: {pg.error or 'ok'}"
    if local.error:
        return
    if name == "recall":
        why = _same_ranking([(h.id, h.score) for h in local.value], [(h.id, h.score) for h in pg.value])
        assert why is None, f"{where}: {why}"
        records = {h.id: _record(h.record) for h in local.value}
        assert all(_record(h.record) == records.get(h.id, _record(h.record)) for h in pg.value), where
    elif name == "explain":
        assert local.value.keys() == pg.value.keys(), where
        for i, e in local.value.items():
            other = pg.value[i]
            assert _record(e.result.record) == _record(other.result.record), f"{where}: {i!r}"
            assert (e.rank is None) == (other.rank is None), f"{where}: rank of {i!r} {e.rank} against {other.rank}"
            if e.rank is not None:
                assert abs(e.result.score - other.result.score) <= TOLERANCE, f"{where}: score of {i!r}"
    else:
        assert _shape(local.value) == _shape(pg.value), (
            f"{where}\n  local: {_shape(local.value)!r:.2000}\n  postgres: {_shape(pg.value)!r:.2000}"
        )


def _everything(mem: Memory) -> tuple:
    """What a store holds, in write order, with every memory's history and the namespaces' counts."""
    records = mem.list()
    return (
        [_record(r) for r in records],
        {r.id: [_version(v) for v in mem.history(r.id)] for r in records},
        list(mem.stats()["namespaces"].items()),
    )


_schemas = itertools.count()


@contextmanager
def _pair(tmp_path_factory, postgres_url: str, encoder, controller: str = "cosine"):
    """A fresh local store and a fresh PostgreSQL store (a schema of its own), one controller for both."""
    schema = f"parity_{os.getpid()}_{next(_schemas)}"
    config = MemoryConfig(postgres=PostgresConfig(schema=schema))
    local = Memory(tmp_path_factory.mktemp("parity") / "store", encoder=encoder, controller=controller)
    pg = Memory(postgres_url, encoder=encoder, controller=controller, config=config)
    try:
        yield local, pg
    finally:
        local.close()
        pg.close()
        import psycopg

        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(scope="module")
def parity_url(postgres):
    url = postgres.new_database()
    yield url
    postgres.drop(url)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@pytest.mark.parametrize("controller", ["cosine", "learned"])
@given(sequence=st.lists(calls, min_size=1, max_size=12))
def test_both_backends_answer_every_call_alike(tmp_path_factory, parity_url, fake_encoder, controller, sequence):
    """Each call of a generated sequence answers alike on both; so do the stores afterwards. The
    learned controller decides writes (new, update, skip) from reads of the store, so its decisions
    agree only where the reads do."""
    clock = _Clock()
    with (
        _pair(tmp_path_factory, parity_url, fake_encoder, controller) as (local, pg),
        mock.patch("agentmem.memory.time", clock),
        mock.patch("agentmem.memory.uuid", clock),
        mock.patch("agentmem.aio.time", clock),
        mock.patch("agentmem.aio.uuid", clock),
    ):
        for step, call in enumerate(sequence, 1):
            clock.at(step)
            call = _resolve(call, sorted(r.id for r in local.list()))
            answers = []
            for mem in (local, pg):
                clock.at(step)
                answers.append(_run(mem, *call))
            _compare(step, call, *answers)
            event(f"{call[0]}: {answers[0].error[1][:50] if answers[0].error else 'ok'}")
        clock.at(len(sequence) + 1)
        assert _everything(local) == _everything(pg)
        assert local.check() == [] and pg.check() == []


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


@pytest.mark.backends("local", "postgres")
def test_an_id_taken_between_the_check_and_the_write_is_a_duplicate_id(store_at, fake_encoder):
    """An id another call stored after this one looked (here: a generated id meeting a caller's) is
    refused as a duplicate id, the same on both backends, and the batch writes nothing; the local
    store does not call its database damaged."""
    with Memory(store_at(), encoder=fake_encoder, controller="cosine") as mem:
        mem.remember("kayak", ids=[uuid.UUID(int=7).hex])
        with mock.patch("agentmem.memory.uuid.uuid4", lambda: uuid.UUID(int=7)), pytest.raises(DuplicateIdError) as e:
            mem.remember(["lake", "river"])
        assert str(e.value) == (
            f"an id is already in the store at {mem.backend.location()}; use another id or forget that memory first"
        )
        assert [r.text for r in mem.list()] == ["kayak"] and mem.check() == []
