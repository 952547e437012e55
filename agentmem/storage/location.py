"""Store locations: a directory on this machine, or a PostgreSQL URL. Standard library only, so that
the CLI tells them apart without loading a backend.
"""

from __future__ import annotations

import re

URL_SCHEMES = ("postgresql://", "postgres://")
# user:password@ in the authority part of a URL, and password=... among its parameters.
_URL_PASSWORD = re.compile(r"^([a-z]+://[^:@/?#]*):[^@/?#]*@", re.IGNORECASE)
_PARAM_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def is_database_url(location: object) -> bool:
    """Whether a store location names a PostgreSQL database (postgresql:// or postgres://)."""
    return isinstance(location, str) and location[:13].lower().startswith(URL_SCHEMES)


def redact(url: str) -> str:
    """The URL with its password (in the authority or as a parameter) shown as ***."""
    return _PARAM_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1:***@", url))
