"""Fixtures of the core tests; the encoder and the benchmark-format files come from ../conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture
def mem(tmp_path, encoder):
    from agentmem import Memory

    m = Memory(tmp_path / "store", encoder=encoder)
    yield m
    m.close()


@pytest.fixture
def cosine_mem(tmp_path, encoder):
    """A Memory with the cosine baseline controller, for tests of plain content addressing."""
    from agentmem import Memory

    m = Memory(tmp_path / "cosine-store", encoder=encoder, controller="cosine")
    yield m
    m.close()
