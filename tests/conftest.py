"""Fixtures of the core tests; the encoder, the benchmark-format files and the store locations of each
backend (`store_at`, `backends` marker) come from ../conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture
def mem(store_at, encoder):
    from agentmem import Memory

    m = Memory(store_at("store"), encoder=encoder)
    yield m
    m.close()


@pytest.fixture
def cosine_mem(store_at, encoder):
    """A Memory with the cosine baseline controller, for tests of plain content addressing."""
    from agentmem import Memory

    m = Memory(store_at("cosine-store"), encoder=encoder, controller="cosine")
    yield m
    m.close()
