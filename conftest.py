"""Fixtures every test suite of the repository shares (core, eval, LangChain).

The real default encoder is loaded at most once per test process. The benchmark-format files are
tiny ones the project wrote (tests/fixtures/README.md): no benchmark data is in the repository.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

FIXTURES = Path(__file__).parent / "tests" / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def _nothing_written_into_the_repository():
    """A test writes files under its temporary directories only: the run fails if the repository's
    top level gains an entry (a generated `export FILE` once landed there)."""
    root = Path(__file__).parent
    caches = {".pytest_cache", ".hypothesis", ".benchmarks", ".ruff_cache", "__pycache__"}
    before = {p.name for p in root.iterdir()}
    yield
    new = {p.name for p in root.iterdir()} - before - caches
    assert not new, f"the tests wrote {sorted(new)} into {root}; write under tmp_path instead"


@pytest.fixture(scope="session")
def encoder():
    """The packaged all-MiniLM-L6-v2 (real weights, offline), loaded once."""
    from agentmem.encoder import resolve_encoder

    enc = resolve_encoder()
    enc.encode(["warm up"])
    return enc


def hashed_bag_of_words(texts: list[str]) -> np.ndarray:
    """A deterministic stand-in encoder: 64-d hashed bag of lower-cased words."""
    out = np.zeros((len(texts), 64), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in text.lower().replace("?", " ").replace(".", " ").replace(":", " ").split():
            out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
    return out


@pytest.fixture(scope="session")
def fake_encoder():
    """A model-free encoder for tests where what the vectors mean does not matter."""
    from agentmem.encoder import FunctionEncoder

    return FunctionEncoder(hashed_bag_of_words, name="test-hashed-bow", dim=64)


@pytest.fixture
def locomo_file(tmp_path: Path) -> Path:
    """A two-session LoCoMo-layout file with the released file's known faults (see the README)."""
    return Path(shutil.copy(FIXTURES / "locomo10.json", tmp_path / "locomo10.json"))


@pytest.fixture
def longmemeval_file(tmp_path: Path) -> Path:
    return Path(shutil.copy(FIXTURES / "longmemeval_s.json", tmp_path / "longmemeval_s.json"))


@pytest.fixture
def babi_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / "babi", tmp_path / "babi"))
