"""A check the storage tests share: a namespace's memories form one temporal chain."""

from __future__ import annotations

from agentmem import Memory


def one_chain(mem: Memory, namespace: tuple[str, ...]) -> bool:
    """Whether the memories of exactly `namespace` (not those below it) form one chain in write order,
    each linked both ways."""
    records = [r for r in mem.list(namespace=namespace) if r.namespace == namespace]
    by_id = {r.id: r for r in records}
    heads = [r for r in records if r.prev_id is None]
    if len(heads) != 1:
        return False
    seen, at = [], heads[0]
    while at is not None:
        seen.append(at.id)
        nxt = by_id.get(at.next_id) if at.next_id else None
        if nxt is not None and nxt.prev_id != at.id:
            return False
        at = nxt
    return seen == [r.id for r in records]
