"""Where the benchmark scripts write their figures: one JSON file, its folder created on demand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def save(result: Any, out: Path) -> None:
    """Write `result` as indented JSON to `out`, creating its folder."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
