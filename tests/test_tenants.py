"""Sparse access per tenant on the local backend (storage/local/tenants.py, lexical.py, columns.py):
a read scoped to a namespace searches its tenant's keys, postings and rows alone, with the same answers
an exact search of the whole store gives; the store-wide index is left to reads that span tenants."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from agentmem import Memory, MemoryConfig
from agentmem.storage.local.dense import IndexConfig
from agentmem.storage.local.lexical import LexicalIndex
from agentmem.storage.local.sqlite import decode_key, encode_key
from agentmem.storage.local.tenants import TenantConfig

WORDS = ["kayak", "river", "lake", "city", "hike", "swim", "walk", "piano", "violin", "garden", "bread", "coffee", "train", "plane"]


def _texts(rng: np.random.Generator, n: int, tag: str) -> list[str]:
    return [" ".join(rng.choice(WORDS, size=5)) + f" {tag}{i}" for i in range(n)]


def test_a_scoped_read_finds_what_an_exact_search_of_its_namespace_finds_without_the_store_index(
    tmp_path, fake_encoder
):
    rng = np.random.default_rng(0)
    with Memory(tmp_path / "s", encoder=fake_encoder, controller="cosine") as mem:
        for user in range(6):
            for sub in ("notes", "chat"):
                mem.remember(_texts(rng, 30, f"u{user}{sub}"), namespace=(f"user-{user}", sub))
    with Memory(tmp_path / "s", encoder=fake_encoder, controller="cosine") as mem:
        query = "kayak river garden"
        q = fake_encoder.encode([query])[0]
        for ns in [("user-2",), ("user-2", "chat"), ("user-5", "notes")]:
            hits = mem.recall(query, k=5, namespace=ns, track_usage=False)
            rows = mem.list(namespace=ns)
            exact = sorted(rows, key=lambda r: -float(fake_encoder.encode([r.text])[0] @ q))[:5]
            assert all(h.namespace[: len(ns)] == ns for h in hits)
            # the top score is the exact top cosine of the namespace (keys are float16: 1e-3)
            best = float(fake_encoder.encode([exact[0].text])[0] @ q)
            assert hits[0].score == pytest.approx(best, abs=1e-3)
        # no read spanned tenants: the index over the whole store was never loaded
        assert mem.backend._dense is None
        assert set(mem.backend._tenants.parts) == {"user-2", "user-5"}
        assert mem.backend.columns.tenants == {"user-2", "user-5"} and not mem.backend.columns.all
        mem.recall("kayak", k=3, track_usage=False)  # unscoped: now it is
        assert mem.backend._dense is not None


def test_tenant_partitions_follow_another_process_writes_and_forgets(tmp_path, fake_encoder):
    path = tmp_path / "s"
    with Memory(path, encoder=fake_encoder, controller="cosine") as mem:
        mem.remember(["piano lessons on monday", "bread from the market"], namespace=("ana",))
        assert mem.recall("piano", k=1, namespace=("ana",))[0].text == "piano lessons on monday"
        script = textwrap.dedent(
            f"""
            import sys
            from agentmem import Memory
            from agentmem.encoder import FunctionEncoder
            sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
            from conftest import hashed_bag_of_words
            enc = FunctionEncoder(hashed_bag_of_words, name="test-hashed-bow", dim=64)
            with Memory({str(path)!r}, encoder=enc, controller="cosine") as m:
                m.remember(["violin concert on friday"], namespace=("ana",))
                m.forget(ids=[r.id for r in m.list(namespace=("ana",)) if r.text.startswith("piano")])
            """
        )
        subprocess.run([sys.executable, "-c", script], check=True)
        texts = [h.text for h in mem.recall("violin piano", k=5, namespace=("ana",))]
        assert "violin concert on friday" in texts and "piano lessons on monday" not in texts


def test_a_tenant_past_exact_max_is_searched_through_the_store_index(tmp_path, fake_encoder):
    config = MemoryConfig()
    config.storage.tenants = TenantConfig(exact_max=20)
    rng = np.random.default_rng(1)
    with Memory(tmp_path / "s", encoder=fake_encoder, controller="cosine", config=config) as mem:
        mem.remember(_texts(rng, 50, "big"), namespace=("big",))
        mem.remember(_texts(rng, 10, "small"), namespace=("small",))
        hits = mem.recall("kayak river", k=5, namespace=("big",))
        assert len(hits) == 5 and all(h.namespace == ("big",) for h in hits)
        assert "big" in mem.backend._tenants.large and mem.backend._dense is not None
        assert [h.namespace for h in mem.recall("kayak", k=3, namespace=("small",))] == [("small",)] * 3


def test_the_partition_cache_is_bounded(tmp_path, fake_encoder):
    config = MemoryConfig()
    config.storage.tenants = TenantConfig(cache_bytes=3 * 20 * (64 * 4 + 12))  # about three tenants of 20
    rng = np.random.default_rng(2)
    with Memory(tmp_path / "s", encoder=fake_encoder, controller="cosine", config=config) as mem:
        for t in range(8):
            mem.remember(_texts(rng, 20, f"t{t}"), namespace=(f"t{t}",))
        for t in range(8):
            assert mem.recall("kayak", k=1, namespace=(f"t{t}",))[0].namespace == (f"t{t}",)
        assert len(mem.backend._tenants.parts) <= 3
        assert list(mem.backend._tenants.parts)[-1] == "t7"  # the least recently read go first


def test_a_scoped_bm25_read_uses_its_tenants_statistics_only(tmp_path):
    """Each tenant's scores are its own corpus's BM25: adding texts to another tenant moves nothing."""
    index = LexicalIndex()
    index.add([1, 2, 3], ["ana rows a kayak", "ana bakes bread", "ana walks"], ["a", "a", "a"])
    before = index.search("kayak bread", 3, tenant="a")
    index.add(range(10, 60), ["kayak kayak trip"] * 50, ["b"] * 50)
    assert index.search("kayak bread", 3, tenant="a") == before
    # hand-computed: N = 3, n(kayak) = 1, |D| = 4 and avgdl = (4 + 3 + 2) / 3 (stop words count in
    # lengths), k1 = 1.2, b = 0.75
    idf = math.log((3 - 1 + 0.5) / (1 + 0.5))
    norm = 1.2 * (1 - 0.75 + 0.75 * 4 / 3)
    assert dict(before)[1] == pytest.approx(idf * 2.2 / (1 + norm), rel=1e-5)
    assert {s for s, _ in index.search("kayak", 100, tenant="b")} == set(range(10, 60))
    assert index.naming(["ana"], "b").size == 0
    index.merge()  # the base numbers docs tenant by tenant; the answers stay
    after = index.search("kayak bread", 3, tenant="a")
    assert [s for s, _ in after] == [s for s, _ in before]
    assert [w for _, w in after] == pytest.approx([w for _, w in before])


def test_auto_index_turns_into_an_inverted_file_and_still_finds_removes_and_reloads(tmp_path, fake_encoder):
    config = MemoryConfig()
    config.storage.index = IndexConfig(kind="auto", ivf_from=300, ivf_lists=8, ivf_probe=8)
    rng = np.random.default_rng(3)
    texts = _texts(rng, 400, "m")
    with Memory(tmp_path / "s", encoder=fake_encoder, controller="cosine", config=config) as mem:
        ids = mem.remember(texts, namespace=("ns",))
        assert mem.recall(texts[7], k=1)[0].text == texts[7]
        assert mem.backend.dense.ivf and mem.backend.dense.size == len(mem)
        mem.forget(ids=[ids[7]])
        assert all(h.id != ids[7] for h in mem.recall(texts[7], k=5))
        assert mem.backend.dense.size == len(mem)
    with Memory(tmp_path / "s", encoder=fake_encoder, controller="cosine", config=config) as mem:
        assert mem.recall(texts[8], k=1)[0].text == texts[8]
        assert mem.backend.dense.ivf  # loaded from its file, not rebuilt
        assert mem.check() == []


def test_keys_are_stored_as_float16_and_float32_keys_still_read(tmp_path, fake_encoder):
    rng = np.random.default_rng(4)
    key = rng.standard_normal(64).astype(np.float32)
    key /= np.linalg.norm(key)
    assert len(encode_key(key)) == 128
    np.testing.assert_allclose(decode_key(encode_key(key), 64), key, atol=1e-3)
    with Memory(tmp_path / "s", encoder=fake_encoder, controller="cosine") as mem:
        (i,) = mem.remember(["kayak on the river"], namespace=("a",))
    with sqlite3.connect(tmp_path / "s" / "memory.db") as db:  # as a store written before float16 keys
        db.execute("UPDATE slots SET vector = ? WHERE id = ?", (key.tobytes(), i))
    (tmp_path / "s" / "index.faiss.npz").unlink(missing_ok=True)
    with Memory(tmp_path / "s", encoder=fake_encoder, controller="cosine") as mem:
        assert mem.recall("x", k=1, namespace=("a",), embedding=key)[0].score == pytest.approx(1.0, abs=1e-6)
