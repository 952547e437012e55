"""Errors agentmem raises on bad input or a bad store.

Every message is one line that names the problem and the fix, so the CLI can print it as is and
exit non-zero. All inherit from `AgentMemError`; each also inherits the builtin a caller would
naturally catch (`ValueError` for bad arguments, `OSError`-free on purpose so nothing is retried).
"""

from __future__ import annotations


class AgentMemError(Exception):
    """Base class of every error agentmem raises on purpose."""


class InvalidInputError(AgentMemError, ValueError):
    """An argument is malformed (empty text, bad namespace, unknown option value)."""


class InvalidTypeError(InvalidInputError, TypeError):
    """An argument has the wrong type (a list where an id is due, bytes where a dict is)."""


class EmptyTextError(InvalidInputError):
    """A memory text is empty or only whitespace."""


class InputTooLargeError(InvalidInputError):
    """An argument passes a documented size limit (a text's length, `k`, metadata's size or depth)."""


class TextTooLongError(InvalidInputError):
    """A text exceeds the encoder's window and the long-text policy is `error`."""


class EncoderMismatchError(AgentMemError):
    """The store was built with another encoder or embedding dimension than the one given."""


class EncoderLoadError(AgentMemError):
    """The encoder model could not be loaded (unknown name, missing files, no network for a hub name)."""


class StorePathError(AgentMemError):
    """The store path cannot hold a store (a file, a read-only directory, a missing parent), holds no
    agentmem store where one was expected (another application's database), or vanished while open."""


class CorruptStoreError(AgentMemError):
    """The store's database is damaged, or lost commits its caches had seen; `agentmem check` tells."""


class StoreBusyError(AgentMemError):
    """Another process held the store's write lock for longer than the store's busy timeout."""


class SchemaVersionError(AgentMemError):
    """The store was written by a newer agentmem with a schema this version cannot read."""


class NotFoundError(AgentMemError, KeyError):
    """No memory has the given id."""

    def __str__(self) -> str:  # KeyError quotes its message; keep the one-line form.
        return str(self.args[0]) if self.args else "not found"


class DuplicateIdError(InvalidInputError):
    """The same id appears twice in one `remember` batch."""


class IdInUseError(InvalidInputError):
    """An id given to `remember` belongs to a memory in another namespace (ids are one per store);
    `id` is that id."""

    def __init__(self, message: str, id: str | None = None) -> None:
        super().__init__(message)
        self.id = id


class ServerError(AgentMemError):
    """An agentmem server (`agentmem serve`) could not be reached, refused the request's token, or
    answered with something that is not the agentmem HTTP API."""


class MissingDependencyError(AgentMemError, ImportError):
    """An optional dependency a feature needs is not installed (the PostgreSQL backend's psycopg and
    pgvector); the message names the extra that installs it."""


class ClosedError(AgentMemError):
    """The Memory was closed; open a new one."""
