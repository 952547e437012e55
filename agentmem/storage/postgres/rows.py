"""A memory's row as SQL selects it and as the backend hands it on (storage.base.SlotRow)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentmem.storage.base import SlotRow

# A row's own columns of a SlotRow; with the ids of its temporal neighbours (same tenant: one index probe
# each), all of them.
OWN_COLUMNS = (
    "s.slot, s.id, s.ns, s.text, s.metadata, s.speaker, s.created_at, s.updated_at, s.event_time, s.usage, "
    "s.last_read_at, s.prev_slot, s.next_slot, s.version, s.ttl, s.expires_at, s.vector IS NOT NULL"
)
ROW_COLUMNS = f"{OWN_COLUMNS}, p.id, n.id"
NEIGHBOUR_IDS = (
    "LEFT JOIN {s}.slots p ON p.tenant = s.tenant AND p.slot = s.prev_slot "
    "LEFT JOIN {s}.slots n ON n.tenant = s.tenant AND n.slot = s.next_slot"
)
ROW_SQL = f"{ROW_COLUMNS} FROM {{s}}.slots s {NEIGHBOUR_IDS}"


def slot_row(r: Sequence[Any]) -> SlotRow:
    """A SlotRow from the columns of ROW_SQL (jsonb metadata arrives decoded)."""
    return SlotRow.from_columns(r, r[4])
