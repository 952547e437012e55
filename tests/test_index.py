"""SlotIndex: exact values, deletes, restricted search, HNSW tombstones, replay and rebuild."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from agentmem.storage.base import NewSlot
from agentmem.storage.local.dense import INDEX_FILE, IndexConfig, SlotIndex
from agentmem.storage.local.sqlite import SlotStore


def _unit(rng, n, d=8):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(params=["flat", "hnsw"])
def kind(request):
    return request.param


def test_search_returns_exact_inner_products(kind):
    idx = SlotIndex(3, IndexConfig(kind=kind))
    keys = np.array([[1, 0, 0], [0, 1, 0], [0.6, 0.8, 0]], dtype=np.float32)
    idx.add(np.array([10, 20, 30]), keys)
    scores, slots = idx.search(np.array([[1, 0, 0]], dtype=np.float32), 3)
    assert slots[0].tolist() == [10, 30, 20]
    np.testing.assert_allclose(scores[0], [1.0, 0.6, 0.0], atol=1e-6)


def test_remove_and_readd(kind):
    idx = SlotIndex(3, IndexConfig(kind=kind))
    idx.add(np.array([1, 2]), np.eye(3, dtype=np.float32)[:2])
    idx.remove(np.array([1]))
    assert idx.size == 1
    _, slots = idx.search(np.array([[1, 0, 0]], dtype=np.float32), 5)
    assert slots[0].tolist() == [2]
    idx.add(np.array([1]), np.array([[0, 0, 1]], dtype=np.float32))  # an updated key
    scores, slots = idx.search(np.array([[0, 0, 1]], dtype=np.float32), 1)
    assert slots[0].tolist() == [1] and scores[0, 0] == pytest.approx(1.0)


def test_allowed_restricts_search(kind):
    rng = np.random.default_rng(0)
    keys = _unit(rng, 50)
    idx = SlotIndex(8, IndexConfig(kind=kind))
    idx.add(np.arange(100, 150), keys)
    allowed = np.array([103, 117, 140])
    scores, slots = idx.search(keys[:1], 10, allowed=allowed)
    live = slots[0][slots[0] >= 0]
    assert set(live.tolist()) == set(allowed.tolist())
    expected = sorted((float(keys[0] @ keys[s - 100]) for s in allowed), reverse=True)
    np.testing.assert_allclose(scores[0][: len(live)], expected, atol=1e-5)


def test_empty_index_search():
    idx = SlotIndex(4)
    scores, slots = idx.search(np.zeros((2, 4), np.float32), 5)
    assert slots.tolist() == [[-1], [-1]] and np.isneginf(scores).all()


def test_hnsw_compacts_when_tombstones_pile_up(tmp_path):
    store = SlotStore(tmp_path / "s")
    rng = np.random.default_rng(1)
    keys = _unit(rng, 40)
    with store.transaction():
        slots = store.insert([NewSlot(f"i{i}", ("n",), "t", {}, None, keys[i]) for i in range(40)], now=1.0)
    idx = SlotIndex(8, IndexConfig(kind="hnsw", rebuild_tombstone_ratio=0.25))
    idx.sync(store)
    with store.transaction():
        store.delete(slots[:15])
    idx.sync(store)  # 15/40 dead > 25%: rebuilt with the 25 live keys only
    assert idx.index.ntotal == 25 and idx.size == 25
    store.close()


def _store_with(tmp_path, n, seed=0):
    store = SlotStore(tmp_path / "s")
    keys = _unit(np.random.default_rng(seed), n)
    with store.transaction():
        slots = store.insert([NewSlot(f"i{i}", ("n",), "t", {}, None, keys[i]) for i in range(n)], now=1.0)
    return store, slots, keys


def test_incremental_sync_matches_rebuild_after_many_writes(tmp_path, kind):
    store, slots, _ = _store_with(tmp_path, 30)
    idx = SlotIndex(8, IndexConfig(kind=kind))
    idx.sync(store)
    rng = np.random.default_rng(2)
    for step in range(40):  # interleave inserts, updates and deletes, syncing after each
        with store.transaction():
            if step % 3 == 0:
                store.insert([NewSlot(f"x{step}", ("n",), "t", {}, None, _unit(rng, 1)[0])], now=2.0)
            elif step % 3 == 1:
                store.update(
                    slots[step % 30], text="u", metadata={}, speaker="", event_time=None, vector=_unit(rng, 1)[0], now=2.0
                )
            else:
                store.delete([slots[(step * 7) % 30]])
        idx.sync(store)
    fresh = SlotIndex(8, IndexConfig(kind=kind))
    fresh.rebuild(store)
    q = _unit(rng, 5)
    a, b = idx.search(q, 10), fresh.search(q, 10)
    assert idx.size == fresh.size == store.count(indexed_only=True)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_allclose(a[0], b[0], atol=1e-6)
    store.close()


def test_saved_index_catches_up_by_replay(tmp_path, caplog):
    store, _, _ = _store_with(tmp_path, 10)
    idx = SlotIndex.open(tmp_path / "s", store, 8)
    idx.save(tmp_path / "s", store.get_meta("store_id"))
    with store.transaction():  # written after the save: the file is now stale
        store.insert([NewSlot("late", ("n",), "t", {}, None, np.eye(8, dtype=np.float32)[0])], now=3.0)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="agentmem"):
        again = SlotIndex.open(tmp_path / "s", store, 8)
    assert again.size == 11 and not caplog.records  # replayed, not rebuilt
    store.close()


@pytest.mark.parametrize("damage", ["missing", "corrupt", "other-store"])
def test_unusable_index_file_is_rebuilt(tmp_path, caplog, damage):
    """A damaged or foreign file is rebuilt with a warning; a missing one (the state of a store no
    process has read yet) is built, said at INFO."""
    store, _, keys = _store_with(tmp_path, 12)
    path = tmp_path / "s" / INDEX_FILE
    SlotIndex.open(tmp_path / "s", store, 8).save(tmp_path / "s", store.get_meta("store_id"))
    if damage == "missing":
        path.unlink()
    elif damage == "corrupt":
        path.write_bytes(path.read_bytes()[:100])
    else:
        SlotIndex.open(tmp_path / "s", store, 8).save(tmp_path / "s", "someone-else")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="agentmem"):
        idx = SlotIndex.open(tmp_path / "s", store, 8)
    (record,) = [r for r in caplog.records if "rebuilding" in r.getMessage() or "building" in r.getMessage()]
    assert record.levelno == (logging.INFO if damage == "missing" else logging.WARNING)
    assert idx.size == 12
    _, slots = idx.search(keys[3:4], 1)
    assert slots[0, 0] == 4  # slot numbers start at 1
    store.close()
