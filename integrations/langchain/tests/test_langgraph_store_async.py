"""Async parity: every operation through aput / aget / asearch / alist_namespaces / adelete / abatch
gives what the sync API gives, and async embedding functions are awaited natively."""

from __future__ import annotations

import asyncio

from langchain_agentmem import AgentMemStore
from langgraph.store.base import GetOp, PutOp, SearchOp


async def test_async_operations_match_sync(tmp_path, make_store):
    with make_store(tmp_path / "m", fields=["text"]) as store:
        ns = ("users", "u1")
        await store.aput(ns, "a", {"text": "red apple", "n": 1})
        await store.aput(ns, "b", {"text": "blue car", "n": 2})
        await store.aput(("users", "u2"), "c", {"text": "green apple", "n": 3})
        assert (await store.aget(ns, "a")).value == {"text": "red apple", "n": 1}
        assert [i.key for i in await store.asearch(("users",), query="red apple", limit=1)] == ["a"]
        assert [i.key for i in await store.asearch(("users",), filter={"n": {"$gte": 2}})] == ["b", "c"]
        assert await store.alist_namespaces(prefix=("users",)) == [("users", "u1"), ("users", "u2")]
        sync = [(i.key, round(i.score, 6)) for i in store.search(("users",), query="apple")]
        assert [(i.key, round(i.score, 6)) for i in await store.asearch(("users",), query="apple")] == sync
        await store.adelete(ns, "a")
        assert await store.aget(ns, "a") is None
        results = await store.abatch(
            [PutOp(ns, "d", {"text": "dd"}), GetOp(ns, "b"), SearchOp(("users",), query="car", limit=1)]
        )
        assert results[0] is None and results[1].key == "b" and results[2][0].key == "b"


async def test_async_embedding_function_is_awaited(tmp_path, char_embeddings):
    calls = []

    async def aembed(texts: list[str]) -> list[list[float]]:
        calls.append(len(texts))
        await asyncio.sleep(0)
        return char_embeddings.embed_documents(texts)

    with AgentMemStore(tmp_path / "m", index={"dims": char_embeddings.dims, "embed": aembed}) as store:
        await store.aput(("t",), "x", {"text": "xxxx"})
        await store.aput(("t",), "y", {"text": "yyyy"})
        assert [i.key for i in await store.asearch(("t",), query='{"text": "yyyy"}', limit=1)] == ["y"]
    assert calls  # the async function did the embedding


async def test_concurrent_async_writers(tmp_path, make_store):
    with make_store(tmp_path / "m", fields=["text"]) as store:
        await asyncio.gather(*(store.aput(("t",), f"k{i}", {"text": f"note {i}"}) for i in range(20)))
        assert len(await store.asearch(("t",), limit=50)) == 20
