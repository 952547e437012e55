"""Database work written once for blocking and asyncio connections.

A write (linking rows into a namespace, sending them, deleting, counting statistics) is a generator
that yields the statements it needs, one step at a time, and receives each step's result: the logic
between statements is plain Python, and `drive` (a psycopg Connection) or `adrive` (an
AsyncConnection) does the I/O. So `Memory.remember` and `Memory.aremember` run the same code.

    Sql(sql, params)         -> its rows ([] for a statement that returns none)
    Pipe([Sql, ...])         -> each one's rows, sent together in one round trip (pipeline mode)
    Copy(sql, types, rows)   -> None, the rows sent by COPY ... FROM STDIN (FORMAT BINARY)
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, Union

T = TypeVar("T")


@dataclass(frozen=True)
class Sql:
    sql: str
    params: Sequence[Any] = ()


@dataclass(frozen=True)
class Pipe:
    statements: list[Sql] = field(default_factory=list)


@dataclass(frozen=True)
class Copy:
    sql: str
    types: list[str]
    rows: list[list[Any]]


Step = Union[Sql, Pipe, Copy]  # noqa: UP007 - an alias evaluated at run time on Python 3.10
Steps = Generator[Step, Any, T]


def drive(conn: Any, steps: Steps[T]) -> T:
    """Run `steps` on a blocking connection; their result."""
    result: Any = None
    try:
        while True:
            step = steps.send(result)
            result = _run(conn, step)
    except StopIteration as stop:
        return stop.value


def _run(conn: Any, step: Step) -> Any:
    if isinstance(step, Sql):
        cur = conn.execute(step.sql, step.params, binary=True)
        return cur.fetchall() if cur.description else []
    if isinstance(step, Pipe):
        with conn.pipeline():
            cursors = [conn.cursor(binary=True) for _ in step.statements]
            for cur, s in zip(cursors, step.statements, strict=True):
                cur.execute(s.sql, s.params)
        return [cur.fetchall() if cur.description else [] for cur in cursors]
    with conn.cursor().copy(step.sql) as copy:
        copy.set_types(step.types)
        for row in step.rows:
            copy.write_row(row)
    return None


async def adrive(conn: Any, steps: Steps[T]) -> T:
    """Run `steps` on an asyncio connection; their result."""
    result: Any = None
    try:
        while True:
            step = steps.send(result)
            result = await _arun(conn, step)
    except StopIteration as stop:
        return stop.value


async def _arun(conn: Any, step: Step) -> Any:
    if isinstance(step, Sql):
        cur = await conn.execute(step.sql, step.params, binary=True)
        return await cur.fetchall() if cur.description else []
    if isinstance(step, Pipe):
        async with conn.pipeline():
            cursors = [conn.cursor(binary=True) for _ in step.statements]
            for cur, s in zip(cursors, step.statements, strict=True):
                await cur.execute(s.sql, s.params)
        return [await cur.fetchall() if cur.description else [] for cur in cursors]
    async with conn.cursor().copy(step.sql) as copy:
        copy.set_types(step.types)
        for row in step.rows:
            await copy.write_row(row)
    return None
