"""Reading a benchmark file the user gives, with errors that say where it is wrong and how to fix it.

Every failure is an `InvalidInputError` with a one-line message that names the file, the place in it
(a sample, a turn, a line; counted from 1, as editors count lines), the field, and what the loader
expects:

    LoCoMo file bad.json: sample 3 ("conv-26"): field "conversation" is missing; give the LoCoMo JSON ...

The loaders check what they read and nothing more, so a valid file loads as it would unchecked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agentmem.errors import InvalidInputError

# What a field may hold, by the phrase the messages use for it. `field` refuses true/false for every
# one: no field read here is a flag, and Python's bool would otherwise pass as an int.
_TYPES: dict[str, tuple[type, ...]] = {
    "a string": (str,),
    "a list": (list,),
    "an object": (dict,),
    "a string or a number": (str, int, float),
}


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, as the messages say it ("a list", "null")."""
    if isinstance(value, bool):
        return "true/false"
    names = ((dict, "an object"), (list, "a list"), (str, "a string"), ((int, float), "a number"))
    for python, name in names:
        if isinstance(value, python):
            return name
    return "null" if value is None else type(value).__name__


def quoted(value: Any, limit: int = 60) -> str:
    """A value quoted for a message on one line: JSON escapes keep newlines out; long values are cut."""
    text = json.dumps(str(value), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 4] + '..."'


class Source:
    """One input path of a benchmark format being read.

    kind: the format's name ("LoCoMo"); fix: what a valid input is, the end of every message.
    """

    def __init__(self, kind: str, path: Path, fix: str) -> None:
        self.kind, self.path, self.fix = kind, path, fix

    def within(self, path: Path) -> Source:
        """The same format's Source for a file found in this directory."""
        return Source(self.kind, path, self.fix)

    def error(self, problem: str, where: str = "", *, fix: str | None = None) -> InvalidInputError:
        noun = "directory" if self.path.is_dir() else "file"
        place = f"{where}: " if where else ""
        return InvalidInputError(f"{self.kind} {noun} {self.path}: {place}{problem}; {fix or self.fix}")

    def check_exists(self) -> None:
        if not self.path.exists():
            raise self.error("does not exist")

    def text(self) -> str:
        """The file's text (UTF-8, a byte-order mark allowed); an error when unreadable or empty."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise self.error("does not exist") from None
        except OSError as e:
            raise self.error(f"cannot be read ({e.strerror or e})") from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise self.error(f"is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})") from None
        if not text.strip():
            raise self.error("is empty")
        return text

    def json(self) -> Any:
        """The file's text parsed as JSON."""
        text = self.text()
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise self.error(f"is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
        except RecursionError:
            raise self.error("is JSON nested too deeply to read") from None

    def records(self, value: Any, what: str) -> list[Any]:
        """The top level of a file that is a non-empty list (of `what`s: "sample"); the caller checks each
        entry with `record`, which can name it."""
        if not isinstance(value, list):
            raise self.error(f"holds {json_type(value)}, expected a list of {what}s")
        if not value:
            raise self.error(f"holds an empty list, expected at least one {what}")
        return value

    def record(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(f"is {json_type(value)}, expected an object", where)
        return value

    def field(
        self, obj: dict[str, Any], key: str, expected: str, where: str, *, optional: bool = False
    ) -> Any:
        """obj[key] when it holds `expected` (a key of `_TYPES`); None when `optional` and absent or null."""
        value = obj.get(key)
        if value is None:
            if optional:
                return None
            problem = "is missing" if key not in obj else f"is null, expected {expected}"
            raise self.error(f'field "{key}" {problem}', where)
        if isinstance(value, bool) or not isinstance(value, _TYPES[expected]):
            raise self.error(f'field "{key}" is {json_type(value)}, expected {expected}', where)
        return value
