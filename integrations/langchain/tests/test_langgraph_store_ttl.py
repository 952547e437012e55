"""TTL as LangGraph's SqliteStore tests it (libs/checkpoint-sqlite/tests/test_ttl.py): minutes, a
default and per-item override, refresh on get and search, sweeping by call or by a thread.
agentmem hides an expired item at once (LangGraph's `omit_expired=True`)."""

from __future__ import annotations

import time

import pytest

SECOND = 1 / 60  # LangGraph's TTLs are minutes


def test_default_ttl_expires_and_sweeps(tmp_path, make_store):
    with make_store(tmp_path / "m", ttl={"default_ttl": SECOND}) as store:
        store.put(("test",), "item1", {"value": "apple"})
        store.put(("test",), "item2", {"value": "banana"}, ttl=None)  # no expiry
        assert store.get(("test",), "item1").value == {"value": "apple"}
        assert [i.key for i in store.search(("test",), filter={"value": "apple"})] == ["item1"]
        time.sleep(1.3)
        assert store.get(("test",), "item1") is None  # invisible once expired, before any sweep
        assert store.search(("test",), filter={"value": "apple"}) == []
        assert [i.key for i in store.search(("test",), query="apple")] == ["item2"]
        assert store.sweep_ttl() == 1
        assert store.get(("test",), "item2") is not None


def test_refresh_on_read_and_per_item_override(tmp_path, make_store):
    with make_store(tmp_path / "m", ttl={"default_ttl": 1.2 * SECOND, "refresh_on_read": True}) as store:
        store.put(("t",), "by_get", {"v": 1})
        store.put(("t",), "by_search", {"v": 2})
        store.put(("t",), "unread", {"v": 3})
        store.put(("t",), "long", {"v": 4}, ttl=60 * SECOND)
        time.sleep(0.7)
        assert store.get(("t",), "by_get") is not None
        assert [i.key for i in store.search(("t",), filter={"v": 2})] == ["by_search"]
        assert store.get(("t",), "unread", refresh_ttl=False) is not None
        time.sleep(0.7)  # 1.4 s after the put, 0.7 s after the reads
        assert store.get(("t",), "by_get", refresh_ttl=False) is not None
        assert store.get(("t",), "by_search", refresh_ttl=False) is not None
        assert store.get(("t",), "unread") is None
        assert store.get(("t",), "long") is not None


def test_no_refresh_when_configured_off(tmp_path, make_store):
    with make_store(tmp_path / "m", ttl={"default_ttl": 1.0 * SECOND, "refresh_on_read": False}) as store:
        store.put(("t",), "k", {"v": 1})
        time.sleep(0.6)
        assert store.get(("t",), "k") is not None  # read, but the config says no refresh
        time.sleep(0.6)
        assert store.get(("t",), "k") is None


def test_facets_expire_with_their_item(tmp_path, make_store):
    with make_store(tmp_path / "m", fields=["a", "b"], ttl={"default_ttl": SECOND}) as store:
        store.put(("t",), "k", {"a": "xxxx", "b": "yyyy"})
        time.sleep(0.6)
        assert store.search(("t",), query="yyyy")[0].key == "k"  # found by its facet: refreshes both
        time.sleep(0.6)
        assert store.search(("t",), query="xxxx")[0].key == "k"
        time.sleep(1.2)
        assert store.search(("t",), query="yyyy") == []
        assert store.sweep_ttl() == 2


def test_sweeper_thread(tmp_path, make_store):
    with make_store(
        tmp_path / "m", ttl={"default_ttl": SECOND, "sweep_interval_minutes": 0.5 * SECOND}
    ) as store:
        store.start_ttl_sweeper()
        store.put(("t",), "k", {"v": 1})
        time.sleep(1.8)
        assert store.get(("t",), "k") is None
        assert store.sweep_ttl() == 0  # the thread already deleted it
        assert store.stop_ttl_sweeper(timeout=2)


def test_a_bad_ttl_or_query_refuses_the_whole_batch_before_anything_changes(tmp_path, make_store):
    """A ttl is a positive number of minutes: a bad one is refused in LangGraph's terms, and the batch's
    other ops (here a re-put that would first drop the old item's facets) are not applied."""
    from langgraph.store.base import PutOp, SearchOp

    with make_store(tmp_path / "m", fields=["a", "b"]) as store:
        store.put(("t",), "k", {"a": "xxxx", "b": "yyyy"})
        for ttl, shown in ((-1, "-1"), ("1", "'1'"), (True, "True")):
            with pytest.raises(ValueError, match=f"put 'new': ttl must be a positive number of minutes, got {shown}"):
                store.batch([PutOp(("t",), "k", {"a": "zzzz"}), PutOp(("t",), "new", {"a": "w"}, ttl=ttl)])
        with pytest.raises(ValueError, match="search query must be a string, got a int"):
            store.batch([PutOp(("t",), "k", {"a": "zzzz"}), SearchOp(("t",), query=5)])
        assert store.get(("t",), "k").value == {"a": "xxxx", "b": "yyyy"}
        assert store.get(("t",), "new") is None
        assert store.search(("t",), query="yyyy")[0].key == "k"
