"""Reaching the database: store URLs, the client library (imported on first use), connections and the
server's failures as the library's one-line errors.

psycopg is imported only when a store URL is opened, so `agentmem --help`, a store that is a directory
and bad input never pay for it; without it, the error names the extra that installs it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from agentmem.errors import (
    AgentMemError,
    ClosedError,
    CorruptStoreError,
    DuplicateIdError,
    InvalidInputError,
    MissingDependencyError,
    StoreBusyError,
    StorePathError,
)
from agentmem.storage.location import redact

if TYPE_CHECKING:
    import psycopg

    from agentmem.storage.postgres.config import PostgresConfig

INSTALL = "pip install 'agentmem[postgres]'"


def driver() -> Any:
    """The psycopg module, with pgvector's adapters importable; a one-line error naming the extra
    when either is missing."""
    try:
        import pgvector.psycopg  # noqa: F401
        import psycopg
    except ImportError as e:
        missing = e.name or "psycopg"
        raise MissingDependencyError(
            f"a postgresql:// store needs the PostgreSQL client ({missing} is not installed); run {INSTALL}"
        ) from None
    return psycopg


def connect(url: str, config: PostgresConfig, *, vectors: bool = True) -> psycopg.Connection:
    """An autocommit connection with the store's session settings; with `vectors`, pgvector's type
    registered (the extension must exist), keys loaded as float32 numpy arrays."""
    psycopg = driver()
    try:
        conn = psycopg.connect(url, **_connect_args(config))
    except psycopg.OperationalError as e:
        raise unreachable(url, e) from None
    try:
        conn.execute(_session_sql(config))
        if vectors:
            register_vectors(conn)
    except BaseException:
        conn.close()
        raise
    return conn


async def aconnect(url: str, config: PostgresConfig) -> psycopg.AsyncConnection:
    """`connect` for asyncio: an autocommit AsyncConnection with pgvector's type registered."""
    psycopg = driver()
    from pgvector.psycopg import register_vector_async

    try:
        conn = await psycopg.AsyncConnection.connect(url, **_connect_args(config))
    except psycopg.OperationalError as e:
        raise unreachable(url, e) from None
    try:
        await conn.execute(_session_sql(config))
        await register_vector_async(conn)
        _register_numpy_loader(conn)
    except BaseException:
        await conn.close()
        raise
    return conn


def _connect_args(config: PostgresConfig) -> dict[str, Any]:
    """What every connection of a store is opened with, blocking or asyncio."""
    return {
        "autocommit": True,
        "connect_timeout": max(1, round(config.connect_timeout_s)),
        "application_name": "agentmem",
    }


def _session_sql(config: PostgresConfig) -> str:
    """The session setting every connection of a store runs first."""
    return f"SET lock_timeout = {int(config.lock_timeout_s * 1000)}"


def register_vectors(conn: psycopg.Connection) -> None:
    from pgvector.psycopg import register_vector

    register_vector(conn)
    _register_numpy_loader(conn)


def _register_numpy_loader(conn: Any) -> None:
    """Keys come back as float32 numpy arrays straight from pgvector's binary form (a dimension, a
    reserved word, then big-endian floats), without a Python object per key."""
    from psycopg.adapt import Loader
    from psycopg.pq import Format
    from psycopg.types import TypeInfo

    class NumpyVectorLoader(Loader):
        format = Format.BINARY

        def load(self, data: Any) -> np.ndarray:
            (dim,) = struct.unpack_from(">H", data)
            return np.frombuffer(data, dtype=">f4", count=dim, offset=4).astype(np.float32)

    info = conn.adapters.types.get("vector")
    if isinstance(info, TypeInfo):
        conn.adapters.register_loader(info.oid, NumpyVectorLoader)


def unreachable(url: str, error: Exception) -> StorePathError:
    """The one-line error for a server that refused or dropped the connection."""
    reason = " ".join(str(error).split())
    reason = reason.removeprefix("connection failed: ")
    if "does not exist" in reason and "database" in reason:
        fix = "create the database (createdb, or CREATE DATABASE) or fix its name in the URL"
    elif "password" in reason or "role" in reason or "authentication" in reason:
        fix = "fix the user or password in the URL (or in ~/.pgpass / $PGPASSWORD)"
    else:
        fix = "start the server, or fix the host and port in the URL"
    return StorePathError(f"cannot connect to the PostgreSQL store at {redact(url)} ({reason}); {fix}")


@contextmanager
def mapped_errors(url: str, *, busy_s: float) -> Iterator[None]:
    """psycopg's failures as the library's errors, each naming its fix."""
    psycopg = driver()
    errors = psycopg.errors
    where = redact(url)
    try:
        yield
    except AgentMemError:
        raise
    except (errors.LockNotAvailable, errors.DeadlockDetected, errors.SerializationFailure) as e:
        raise StoreBusyError(
            f"another connection held a lock on the store at {where} for over {busy_s:g} s ({_first(e)}); "
            "retry, or raise PostgresConfig.lock_timeout_s"
        ) from e
    except errors.UniqueViolation as e:
        if e.diag.constraint_name == "slots_tail":
            raise StoreBusyError(
                f"another writer moved the end of a namespace of {where} while this write linked to it; retry"
            ) from e
        raise DuplicateIdError(
            f"an id is already in the store at {where}; use another id or forget that memory first"
        ) from e
    except (errors.UntranslatableCharacter, errors.CharacterNotInRepertoire) as e:
        raise InvalidInputError(
            f"PostgreSQL cannot store a NUL character (\\x00) in a text or in metadata ({_first(e)}); remove it"
        ) from e
    except psycopg.DataError as e:
        if "NUL" in str(e):
            raise InvalidInputError(
                "PostgreSQL cannot store a NUL character (\\x00) in a text, id or namespace; remove it"
            ) from e
        raise
    except errors.ProgramLimitExceeded as e:
        # An index entry past PostgreSQL's limit (about 2,700 bytes): the write is rolled back whole.
        raise InvalidInputError(
            f"the PostgreSQL store at {where} cannot index a value this call stores ({_first(e)}): a "
            "namespace, an id or one word of a text is too long for an index entry; shorten it"
        ) from e
    except errors.ReadOnlySqlTransaction as e:
        raise StorePathError(
            f"the PostgreSQL server of {where} is a read-only replica ({_first(e)}); write through the primary, "
            "and read here with track_usage=False"
        ) from e
    except (errors.UndefinedTable, errors.UndefinedColumn, errors.InvalidSchemaName) as e:
        raise CorruptStoreError(
            f"the store at {where} lacks its tables ({_first(e)}): they were dropped or changed; restore them "
            "from a backup, or open the URL with create=True (`agentmem --store URL init`) for an empty store"
        ) from e
    except psycopg.InterfaceError as e:
        raise ClosedError(f"the store at {where} is closed ({_first(e)}); open a new Memory") from e
    except psycopg.OperationalError as e:
        if "closed" in str(e) and "server" not in str(e):
            raise ClosedError(f"the store at {where} is closed ({_first(e)}); open a new Memory") from e
        raise StorePathError(
            f"lost the PostgreSQL store at {where} ({_first(e)}); check that the server is up, then retry"
        ) from e


def _first(error: Exception) -> str:
    """The first line of a server message."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
