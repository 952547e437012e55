"""Memory's asyncio methods (agentmem/aio.py) on both backends: they answer as the blocking ones do,
run concurrently, and on PostgreSQL a read asks the database nothing outside the awaited statements."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager

import pytest

from agentmem import Memory

pytestmark = pytest.mark.backends("local", "postgres")

FACTS = [
    "Alice moved to Lisbon in May 2023.",
    "Bob adopted a golden retriever named Max.",
    "The quarterly review meeting is on Tuesday at 10am.",
    "Alice's favourite food is grilled sardines.",
]


@contextmanager
def blocking_reads(mem: Memory) -> list[str]:
    """The blocking database reads of a PostgreSQL backend made inside the block, by name."""
    made: list[str] = []
    backend = mem.backend
    if not hasattr(backend, "reading"):
        yield made
        return
    original = backend.reading

    def counted():
        made.append("read")
        return original()

    backend.reading = counted
    try:
        yield made
    finally:
        backend.reading = original


@pytest.mark.parametrize("controller", ["learned", "cosine"])
async def test_async_methods_answer_as_the_blocking_ones(store_at, encoder, controller):
    with Memory(store_at("s"), encoder=encoder, controller=controller) as mem:
        ids = await mem.aremember(FACTS, namespace=("user-1", "facts"), metadata=[{"i": i} for i in range(4)])
        assert [r.id for r in await mem.alist(namespace=("user-1",))] == ids == [r.id for r in mem.list()]
        assert (await mem.aget(ids[1])).text == FACTS[1]
        assert await mem.aget(ids[1], namespace=("user-2",)) is None and await mem.aget("missing") is None
        got = await mem.arecall("Where does Alice live?", k=3, namespace=("user-1",), track_usage=False)
        want = mem.recall("Where does Alice live?", k=3, namespace=("user-1",), track_usage=False)
        assert [(h.id, round(h.score, 5)) for h in got] == [(h.id, round(h.score, 5)) for h in want]
        assert got[0].text == FACTS[0]
        assert [r.id for r in await mem.alist(filter={"i": {"$gte": 2}})] == ids[2:]
        assert await mem.arecall("anything", namespace=("nobody",)) == []
        assert await mem.aforget(ids[0]) == 1 and await mem.aget(ids[0]) is None
        assert await mem.aforget(filter={"i": 3}) == 1
        assert [r.id for r in mem.list()] == ids[1:3]
        assert mem.get(ids[1]).prev_id is None and mem.get(ids[1]).next_id == ids[2]
        with pytest.raises(ValueError, match="forget needs ids"):
            await mem.aforget()


async def test_concurrent_async_writers_keep_one_chain(store_at, fake_encoder):
    with Memory(store_at("s"), encoder=fake_encoder, controller="cosine") as mem:
        written = await asyncio.gather(
            *(mem.aremember([f"note {i} a", f"note {i} b"], namespace=("t", "log")) for i in range(12))
        )
        records = mem.list(namespace=("t",))
        assert {i for ids in written for i in ids} == {r.id for r in records} and len(records) == 24
        assert sum(r.prev_id is None for r in records) == 1 and sum(r.next_id is None for r in records) == 1
        by_id = {r.id: r for r in records}
        assert all(by_id[r.next_id].prev_id == r.id for r in records if r.next_id)
        assert mem.check() == []


async def test_an_async_update_keeps_history(store_at, encoder):
    with Memory(store_at("s"), encoder=encoder) as mem:
        await mem.aremember("v1 of the fact", ids=["fact-1"])
        assert await mem.aremember("v2 of the fact", ids=["fact-1"]) == ["fact-1"]
        assert [v.text for v in mem.history("fact-1")] == ["v1 of the fact", "v2 of the fact"]
        assert len(await mem.alist()) == 1


@pytest.mark.backends("postgres")
@pytest.mark.parametrize("controller", ["learned", "cosine"])
async def test_a_postgres_read_awaits_every_round_trip(store_at, encoder, controller):
    """The read's questions are asked ahead, awaited: the controller, in its thread, finds every answer
    there and makes no blocking database read."""
    with Memory(store_at("s"), encoder=encoder, controller=controller) as mem:
        await mem.aremember(FACTS, namespace=("user-1",))
        await mem.arecall("warm the controller and the encoder", namespace=("user-1",))
        with blocking_reads(mem) as made:
            hits = await mem.arecall("Where does Alice live?", k=3, namespace=("user-1",))
            await mem.arecall("Where does Alice live?", k=3)
        assert hits[0].text == FACTS[0] and made == []
