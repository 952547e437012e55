"""Where memories live: the backend seam (`base`) and its implementations (`local`)."""

from agentmem.storage.base import Backend, NewSlot, ReadBatch, SlotReader, SlotRow

__all__ = ["Backend", "NewSlot", "ReadBatch", "SlotReader", "SlotRow"]
