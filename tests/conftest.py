"""Shared fixtures: the real default encoder is loaded once per test session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def encoder():
    """The packaged all-MiniLM-L6-v2 (real weights, offline), loaded once."""
    from agentmem.encoder import resolve_encoder

    enc = resolve_encoder()
    enc.encode(["warm up"])
    return enc


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
