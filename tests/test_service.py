"""MemoryService: the JSON operations behind the MCP tools and the HTTP API, in process.

The real encoder and a real store; the server processes themselves are tested in test_server.py.
"""

from __future__ import annotations

import pytest

from agentmem import Memory
from agentmem.errors import (
    IdInUseError,
    InputTooLargeError,
    InvalidInputError,
    InvalidTypeError,
    NotFoundError,
)
from agentmem.service import MAX_CALL_CHARS, MAX_CALL_TEXTS, MemoryService, ServiceConfig

pytestmark = pytest.mark.backends("local", "postgres")


@pytest.fixture
def mem(store_at, encoder):
    with Memory(store_at("store"), encoder=encoder) as m:
        m.remember(["Alice moved to Lisbon in May 2023.", "Alice's dog is called Max."], namespace=("user-42",))
        m.remember(["Bob plays the cello."], namespace=("user-7", "notes"), ids=["bob-1"])
        yield m


def test_remember_then_recall_through_json(mem):
    service = MemoryService(mem)
    ids = service.call("remember", {"texts": "Carol bakes bread every Sunday.", "namespace": "user-9/diary",
                                    "event_time": "2024-02-01T10:00:00Z", "metadata": {"speaker": "Carol"}})["ids"]
    out = service.call("recall", {"query": "Who bakes bread?", "k": 1, "namespace": ["user-9"]})
    assert out["namespace"] == ["user-9"] and out["k"] == 1
    (hit,) = out["results"]
    assert hit["id"] == ids[0] and hit["namespace"] == ["user-9", "diary"]
    assert hit["event_time"] == "2024-02-01T10:00:00+00:00" and hit["metadata"] == {"speaker": "Carol"}
    assert sum(hit["why"].values()) == pytest.approx(hit["score"], abs=1e-4)


def test_arguments_are_checked_by_name(mem):
    service = MemoryService(mem)
    with pytest.raises(InvalidInputError, match="recall has no argument 'kk'; its arguments are query, k, namespace, filter"):
        service.call("recall", {"query": "x", "kk": 3})
    with pytest.raises(InvalidInputError, match="recall needs the argument 'query'"):
        service.call("recall", {})
    with pytest.raises(NotFoundError, match="no operation 'drop'"):
        service.call("drop", {})
    with pytest.raises(InvalidTypeError, match="arguments of recall are a JSON object"):
        service.call("recall", ["x"])
    with pytest.raises(InvalidInputError, match="k must be"):
        service.call("recall", {"query": "x", "k": 0})


def test_forget_never_empties_the_store_and_reports_missing_ids(mem):
    service = MemoryService(mem)
    with pytest.raises(InvalidInputError, match="forget needs ids, a namespace or a non-empty filter"):
        service.call("forget", {})
    with pytest.raises(InvalidInputError):
        service.call("forget", {"filter": {}})
    assert len(mem) == 3
    assert service.call("forget", {"ids": ["bob-1", "nope"]}) == {"forgotten": 1, "not_found": ["nope"]}
    assert service.call("forget", {"namespace": "user-42"}) == {"forgotten": 2, "not_found": []}
    assert len(mem) == 0


def test_update_keeps_history_and_get_returns_it(mem):
    service = MemoryService(mem)
    with pytest.raises(InvalidInputError, match="update needs a new text"):
        service.call("update", {"id": "bob-1"})
    record = service.call("update", {"id": "bob-1", "text": "Bob plays the viola."})["record"]
    assert record["version"] == 2 and record["text"] == "Bob plays the viola."
    got = service.call("get", {"id": "bob-1", "history": True})
    assert [v["text"] for v in got["history"]] == ["Bob plays the cello.", "Bob plays the viola."]
    with pytest.raises(NotFoundError):
        service.call("get", {"id": "nope"})


def test_list_pages_and_namespaces_fold_to_a_depth(mem):
    service = MemoryService(mem)
    page = service.call("list", {"limit": 2, "offset": 1})
    assert page["total"] == 3 and [r["text"] for r in page["items"]] == [
        "Alice's dog is called Max.",
        "Bob plays the cello.",
    ]
    assert service.call("namespaces", {}) == {
        "namespaces": [{"namespace": ["user-42"], "memories": 2}, {"namespace": ["user-7", "notes"], "memories": 1}]
    }
    assert service.call("namespaces", {"max_depth": 1})["namespaces"][1] == {"namespace": ["user-7"], "memories": 1}
    assert service.call("namespaces", {"prefix": "user-7"})["namespaces"] == [
        {"namespace": ["user-7", "notes"], "memories": 1}
    ]


def test_explain_names_each_memory(mem):
    service = MemoryService(mem)
    out = service.call("explain", {"query": "What is the dog called?", "ids": ["bob-1"]})
    explained = out["explanations"]["bob-1"]
    assert explained["id"] == "bob-1" and explained["namespace"] == ["user-7", "notes"]
    assert isinstance(explained["rank"], int)


def test_a_scoped_service_never_reaches_outside_its_scope(mem):
    service = MemoryService(mem, ServiceConfig(scope=("user-7",)))
    # Writes land under the scope; what the client sees is relative to it.
    (new,) = service.call("remember", {"texts": ["Bob's cello is from 1921."], "namespace": ["notes"]})["ids"]
    assert mem.get(new).namespace == ("user-7", "notes")
    (default,) = service.call("remember", {"texts": ["Bob likes tea."]})["ids"]
    assert mem.get(default).namespace == ("user-7", "default")
    hits = service.call("recall", {"query": "Where does Alice live?", "k": 10})["results"]
    assert hits and all(h["namespace"][0] in ("notes", "default") for h in hits)
    assert all("Alice" not in h["text"] for h in hits)
    alice = next(r.id for r in mem.list(namespace=("user-42",)))
    with pytest.raises(NotFoundError):
        service.call("get", {"id": alice})
    with pytest.raises(NotFoundError):
        service.call("update", {"id": alice, "text": "changed"})
    assert service.call("forget", {"ids": [alice]}) == {"forgotten": 0, "not_found": [alice]}
    with pytest.raises(IdInUseError) as e:
        service.call("remember", {"texts": ["x"], "ids": [alice]})
    assert str(e.value) == f"id {alice!r} is taken by a memory in another namespace; choose another id"
    assert service.call("ids_with_prefix", {"prefix": alice[:8]}) == {"ids": []}
    stats = service.call("stats", {})
    assert stats["memories"] == 3 and "path" not in stats and stats["scope"] == ["user-7"]
    assert [n["namespace"] for n in stats["namespaces"]] == [["default"], ["notes"]]
    assert mem.get(alice).text == "Alice moved to Lisbon in May 2023."
    # The scope takes one of the 32 segments a namespace may have, and a refusal does not show it.
    deep = [f"s{i}" for i in range(32)]
    with pytest.raises(InvalidInputError, match="a namespace here has at most 31 segments, got 32") as e:
        service.call("remember", {"texts": ["x"], "namespace": deep})
    assert "user-7" not in str(e.value)
    assert mem.get(service.call("remember", {"texts": ["x"], "namespace": deep[:31]})["ids"][0]).namespace[0] == "user-7"


def test_a_scoped_refusal_of_an_id_says_nothing_of_where_it_is(mem):
    """An id is one per store, so a scoped client's id that another memory holds is refused; the
    refusal is the same whether that memory is in another of the client's namespaces or outside the
    scope, and names neither namespace nor the scope."""
    service = MemoryService(mem, ServiceConfig(scope=("user-7",)))
    alice = next(r.id for r in mem.list(namespace=("user-42",)))
    service.call("remember", {"texts": ["Bob's cello is from 1921."], "namespace": ["other"], "ids": ["cello"]})
    refusals = {}
    for taken in (alice, "bob-1", "cello"):
        with pytest.raises(IdInUseError) as e:
            service.call("remember", {"texts": ["Bob tunes it.", "Bob plays."], "namespace": ["diary"], "ids": ["fresh", taken]})
        refusals[taken] = str(e.value).replace(repr(taken), "<id>")
    assert set(refusals.values()) == {"id <id> is taken by a memory in another namespace; choose another id"}
    assert mem.get("fresh") is None and mem.get(alice).namespace == ("user-42",)
    # the library names the namespace to an unscoped caller
    with pytest.raises(IdInUseError, match=r"exists in namespace \('user-42',\)"):
        MemoryService(mem).call("remember", {"texts": ["x"], "namespace": ["user-7"], "ids": [alice]})
    # an id held in the very namespace is updated, as unscoped
    assert service.call("remember", {"texts": ["Bob's cello is old."], "namespace": ["other"], "ids": ["cello"]})["ids"] == ["cello"]
    assert mem.get("cello").text == "Bob's cello is old."


def test_one_call_is_bounded_by_its_texts_characters_and_ids(mem):
    """A call past the limits is refused before anything is encoded or looked up, naming the limit;
    the limits are the service's config, and a call at them is served."""
    service = MemoryService(mem)
    assert ServiceConfig().max_texts == MAX_CALL_TEXTS == 1_000 and MAX_CALL_CHARS == 1_000_000
    before = mem.count()
    with pytest.raises(InputTooLargeError) as e:
        service.call("remember", {"texts": ["tea"] * 1_001})
    assert str(e.value) == "remember got 1,001 texts, over this server's 1,000 per call; send them in several calls"
    with pytest.raises(InputTooLargeError, match="remember got 1,000,001 characters of text, over this server's 1,000,000"):
        service.call("remember", {"texts": ["x" * 100_000] * 10 + ["y"]})
    for operation, extra in (("forget", {}), ("explain", {"query": "tea"})):
        with pytest.raises(InputTooLargeError, match=f"{operation} got 10,001 ids, over this server's 10,000 per call"):
            service.call(operation, {"ids": [f"id-{i}" for i in range(10_001)], **extra})
    assert mem.count() == before
    small = MemoryService(mem, ServiceConfig(max_texts=2, max_chars=10, max_ids=1))
    assert len(small.call("remember", {"texts": ["tea", "coffee"]})["ids"]) == 2
    with pytest.raises(InputTooLargeError, match="11 characters of text, over this server's 10 per call"):
        small.call("remember", {"texts": ["green tea", "xy"]})
    assert small.call("forget", {"ids": ["bob-1"]}) == {"forgotten": 1, "not_found": []}


def test_ids_complete_from_a_prefix(mem):
    service = MemoryService(mem)
    alice = next(r.id for r in mem.list(namespace=("user-42",)))
    assert service.call("ids_with_prefix", {"prefix": alice[:8]})["ids"] == [alice]
    assert mem.ids_with_prefix("bob-") == ["bob-1"]
    assert mem.ids_with_prefix("zzz") == []
