"""Each system's answer on hand-built memories."""

from __future__ import annotations

import numpy as np
import pytest
from agentmem_eval.systems import (
    BM25System,
    DenseSystem,
    FullContextConfig,
    FullContextSystem,
    HybridSystem,
    Query,
    RecencySystem,
    SystemsConfig,
)

from agentmem.episodes import Turn

TURNS = [Turn(str(i), "s", text) for i, text in enumerate([
    "Ann: I adopted a puppy named Rex.",
    "Bo: I started learning the violin.",
    "Ann: My sister lives in Porto.",
    "Bo: The violin recital in Porto went well.",
])]
VECS = np.eye(4, dtype=np.float32)


def test_bm25_ranks_lexical_matches_and_returns_nothing_without_overlap():
    bm25 = BM25System()
    bm25.add(TURNS[:2], None)
    bm25.add(TURNS[2:], None)  # positions continue after a second add
    assert bm25.search(Query("Where does the sister live in Porto?"), 10) == [2, 3]
    assert bm25.search(Query("zebra xylophone"), 10) == []
    assert bm25.footprint() > 0


def test_dense_is_exact_cosine():
    dense = DenseSystem(4)
    dense.add(TURNS, VECS)
    q = np.array([0.1, 0.0, 0.9, 0.4], dtype=np.float32)
    assert dense.search(Query("q", q / np.linalg.norm(q)), 3) == [2, 3, 0]
    assert dense.footprint() == 4 * 4 * 4


def test_hybrid_is_reciprocal_rank_fusion():
    hybrid = HybridSystem(4)
    hybrid.add(TURNS, VECS)
    q = np.array([0.0, 0.9, 0.1, 0.5], dtype=np.float32)
    # dense: 1, 3, 2, 0; bm25 for "violin": 1, 3 (same order) -> RRF keeps 1, 3 on top, then 2, 0.
    assert hybrid.search(Query("violin", q / np.linalg.norm(q)), 4) == [1, 3, 2, 0]
    # dense: 0, 2, 1, 3; bm25 "Porto": 2, 3. RRF: 2 = 1/62 + 1/61, 0 = 1/61, 3 = 1/64 + 1/62, 1 = 1/63.
    q = np.array([0.9, 0.3, 0.5, 0.0], dtype=np.float32)
    assert hybrid.search(Query("Porto", q / np.linalg.norm(q)), 4) == [2, 3, 0, 1]


def test_recency_and_full_context():
    recency = RecencySystem()
    recency.add(TURNS, None)
    assert recency.search(Query("anything"), 2) == [3, 2]
    assert recency.search(Query("anything"), 10) == [3, 2, 1, 0]
    # 10 tokens x 4 chars = 40 characters: the last turn (43 chars) alone does not fit.
    small = FullContextSystem(FullContextConfig(tokens=10))
    small.add(TURNS, None)
    assert small.search(Query("x"), 1) == []
    full = FullContextSystem(FullContextConfig(tokens=20))  # 80 characters: the last two turns (31 + 43)
    full.add(TURNS, None)
    assert full.search(Query("x"), 1) == [3, 2]
    assert full.ranked is False


def test_factory_rejects_unknown_system(fake_encoder):
    with pytest.raises(ValueError, match="unknown system"):
        SystemsConfig().factory("nope", fake_encoder)


def test_agentmem_system_recalls_through_memory(fake_encoder):
    system = SystemsConfig().factory("agentmem", fake_encoder)()
    try:
        texts = [t.text for t in TURNS]
        system.add(TURNS, fake_encoder.encode(texts))
        q = fake_encoder.encode_queries(["puppy named Rex"])[0]
        assert system.search(Query("puppy named Rex", q), 2)[0] == 0
        assert system.footprint() > 0
    finally:
        system.close()


def test_agentmem_system_on_postgres_keeps_each_episode_in_a_schema_it_drops(fake_encoder, postgres):
    """`agentmem eval --postgres URL`: each episode's store is a schema of its own on a real server."""
    import psycopg
    from agentmem_eval.systems import AgentMemConfig

    url = postgres.new_database()
    settings = SystemsConfig(agentmem=AgentMemConfig(postgres=url))
    first, second = (settings.factory("agentmem", fake_encoder)() for _ in range(2))
    try:
        for system in (first, second):
            system.add(TURNS, fake_encoder.encode([t.text for t in TURNS]))
        q = fake_encoder.encode_queries(["puppy named Rex"])[0]
        assert first.search(Query("puppy named Rex", q), 2)[0] == 0
        assert first.schema != second.schema
    finally:
        first.close()
        second.close()
    with psycopg.connect(url) as conn:
        left = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'eval_%'").fetchone()[0]
    postgres.drop(url)
    assert left == 0
