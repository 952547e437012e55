"""Namespace isolation over generated namespace trees: a call scoped to a namespace prefix sees, counts,
explains and forgets only what lies under it, whatever the other namespaces are called (segments that
share a prefix, hold a "/", or look like a wildcard)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentmem import Memory, NotFoundError
from agentmem.validate import segments_match

pytestmark = pytest.mark.backends("local", "postgres")
EXAMPLES = int(os.environ.get("AGENTMEM_FUZZ_EXAMPLES", "150")) // 3
segments = st.sampled_from(["a", "ab", "a b", "a/b", "b", "*", "é", "a\u00a0", "user-1", "user-10"])
trees = st.lists(st.lists(segments, min_size=1, max_size=3).map(tuple), min_size=2, max_size=8, unique=True)


def _under(ns: tuple[str, ...], prefix: tuple[str, ...]) -> bool:
    return ns[: len(prefix)] == prefix


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=trees, pick=st.integers(0, 100))
def test_every_scoped_call_stays_under_its_namespace(store_at, fake_encoder, tree, pick):
    with Memory(store_at(), encoder=fake_encoder) as mem:
        where: dict[str, tuple[str, ...]] = {}
        for ns in tree:
            for id_ in mem.remember([f"note about {x} in {'.'.join(ns)}" for x in ("kayak", "river")], namespace=ns):
                where[id_] = ns
        prefix = tree[pick % len(tree)][: 1 + pick % 2]
        inside = {i for i, ns in where.items() if _under(ns, prefix)}
        assert {h.id for h in mem.recall("kayak river note", k=50, namespace=prefix)} <= inside
        assert {r.id for r in mem.list(namespace=prefix)} == inside
        assert mem.count(namespace=prefix) == len(inside)
        # namespaces() is the one call where "*" is a wildcard (one segment, any value), as in LangGraph
        wild = {ns for ns in where.values() if segments_match(ns[: len(prefix)], prefix)}
        assert set(mem.namespaces(prefix=prefix)) == wild
        counts = mem.stats()["namespaces"]
        assert sum(counts.values()) == len(where) and all(n == 2 for n in counts.values())
        assert set(counts) == set(where.values())
        outside = sorted(set(where) - inside)
        for id_ in outside[:3]:
            assert mem.get(id_, namespace=prefix) is None
            try:
                mem.explain("kayak", [id_], namespace=prefix)
                raise AssertionError(f"explain ranked {id_} outside {prefix}")
            except NotFoundError:
                pass
        if inside:
            explained = mem.explain("kayak", sorted(inside)[:2], namespace=prefix)
            assert set(explained) == set(sorted(inside)[:2])
        assert mem.forget(list(where), namespace=prefix) == len(inside)  # ids elsewhere are kept
        assert {r.id for r in mem.list()} == set(outside)
