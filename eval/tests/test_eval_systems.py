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


def _random_unit(n: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, 64)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


CHAT = [Turn(str(i), "s", text) for i, text in enumerate([
    "Ann: I adopted a puppy named Rex.", "Bo: I started learning the violin.", "Ann: My sister lives in Porto.",
    "Bo: The violin recital in Porto went well.", "Ann: Rex chewed my shoes in Porto.", "Bo: My sister plays cello.",
    "Ann: We walked Rex along the river.", "Bo: Porto has a great music school.",
])]


def test_zsum_is_agentmems_memory_ranked_by_the_untrained_z_sum(fake_encoder):
    """zsum keeps the packaged write gate and candidate gathering, and its fresh scorer ranks by
    softplus(0.55) z(cos) + z(BM25) over agentmem's candidates: recomputed here by hand."""
    import torch
    from agentmem_eval.systems import zsum_controller

    from agentmem.controller import ReadQuery, resolve_controller
    from agentmem.controller.scoring import Scorer

    packaged, zsum = resolve_controller("learned"), zsum_controller()
    for a, b in zip(packaged.gate.state_dict().values(), zsum.gate.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    fresh = Scorer(packaged.config.scoring).state_dict()
    assert all(torch.equal(fresh[name], t) for name, t in zsum.scorer.state_dict().items())
    assert zsum.config.scoring.redundancy == 0.0  # its top k by score, whatever the packaged read's penalty

    system = SystemsConfig().factory("zsum", fake_encoder)()
    agentmem = SystemsConfig().factory("agentmem", fake_encoder)()
    try:
        vectors = _random_unit(len(CHAT), 1)
        system.add(CHAT, vectors)
        agentmem.add(CHAT, vectors)
        assert len(set(system.memory_of)) == len(set(agentmem.memory_of)) == len(CHAT)  # the same writes
        text, q = "Where does the sister live in Porto?", _random_unit(1, 2)[0]
        got = system.search(Query(text, q), 5)
        assert len(got) == 5 and system.last_hits

        reader = system.memory.backend.reader()
        cand = zsum.gather(ReadQuery(text, q, 5), reader)
        cos = cand.keys @ q / np.linalg.norm(cand.keys, axis=1)
        z_cos = (cos - cos.mean()) / max(cos.std(), 0.05)
        bm25 = dict(reader.lexical(text, zsum.config.candidates.lexical_k))
        raw = np.array([bm25.get(int(s), 0.0) for s in cand.slots])
        z_bm25 = (raw - raw.mean()) / max(raw.std(), 0.5)
        score = np.log1p(np.exp(0.55)) * z_cos + z_bm25
        top = cand.slots[np.argsort(-score, kind="stable")[:5]].tolist()
        rows = reader.rows(top)
        assert got == [rows[s].metadata["pos"] for s in top]
    finally:
        system.close()
        agentmem.close()


def test_zsum_needs_a_learned_controller(fake_encoder):
    from agentmem_eval.systems import AgentMemConfig

    with pytest.raises(ValueError, match="controller 'cosine' has none; drop zsum"):
        SystemsConfig(agentmem=AgentMemConfig(controller="cosine")).factory("zsum", fake_encoder)


def test_lexical_ranks_by_agentmems_own_bm25(fake_encoder):
    system = SystemsConfig().factory("lexical", fake_encoder)()
    try:
        system.add(TURNS, fake_encoder.encode([t.text for t in TURNS]))
        # "sister" is in turn 2 only, "Porto" in turns 2 and 3; no other content word matches.
        assert system.search(Query("Where does the sister live in Porto?"), 10) == [2, 3]
        assert system.last_hits == [system.memory_of[2], system.memory_of[3]]
        assert system.search(Query("zebra xylophone"), 10) == []
    finally:
        system.close()
