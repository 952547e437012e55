"""The PostgreSQL backend against the local one: the same call answers the same on both."""

from __future__ import annotations

import pytest

from agentmem import InvalidInputError, Memory


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
