"""LangMem's own memory tools (`create_manage_memory_tool`, `create_search_memory_tool`) over
AgentMemStore: a real store on disk and the real encoder, the tools invoked directly as LangMem
documents for use outside a graph. No LLM is involved, so nothing is mocked."""

from __future__ import annotations

import json
import re
import warnings

import pytest
from langchain.agents import create_agent
from langchain_agentmem import AgentMemMiddleware, AgentMemStore, items
from langchain_core.messages import AIMessage
from langgraph.warnings import LangGraphDeprecatedSinceV10

with warnings.catch_warnings():
    # langmem's dependency trustcall imports Send from its pre-1.0 place; not ours to fix
    warnings.simplefilter("ignore", LangGraphDeprecatedSinceV10)
    from langmem import create_manage_memory_tool, create_search_memory_tool

NAMESPACE = ("memories", "{langgraph_user_id}")
CONFIG = {"configurable": {"langgraph_user_id": "u1"}}
MEMORIES = [
    "The user's dog is called Biscuit.",
    "The user works night shifts as a nurse.",
    "The user's sister lives in Porto.",
]


@pytest.fixture
def store(tmp_path, encoder):
    with AgentMemStore(tmp_path / "mem") as s:  # LangMem's values are {"content": ...}: embed all of it
        yield s


def created_id(answer: str) -> str:
    return re.fullmatch(r"created memory ([0-9a-f-]{36})", answer).group(1)


def search(tool, **args) -> list[dict]:
    return json.loads(tool.invoke(args, config=CONFIG))


def test_create_search_update_delete(store):
    manage = create_manage_memory_tool(namespace=NAMESPACE, store=store)
    search_tool = create_search_memory_tool(namespace=NAMESPACE, store=store)
    ids = [created_id(manage.invoke({"content": text}, config=CONFIG)) for text in MEMORIES]

    found = search(search_tool, query="What is the name of my dog?")
    assert found[0]["key"] == ids[0]
    assert found[0]["value"] == {"content": MEMORIES[0]}
    assert found[0]["namespace"] == ["memories", "u1"]
    assert found[0]["score"] > found[1]["score"]
    assert [
        m["key"] for m in search(search_tool, query="What is the name of my dog?", limit=1, offset=1)
    ] == [found[1]["key"]]
    assert [m["key"] for m in search(search_tool, query="", filter={"content": MEMORIES[2]})] == [ids[2]]

    new_text = "The user's dog is called Pixel."
    assert manage.invoke({"action": "update", "id": ids[0], "content": new_text}, config=CONFIG) == (
        f"updated memory {ids[0]}"
    )
    assert search(search_tool, query="What is the name of my dog?")[0]["value"] == {"content": new_text}
    history = store.memory.history(items.item_id(("memories", "u1"), ids[0]))
    assert [v.metadata["content"] for v in history] == [MEMORIES[0], new_text]

    assert manage.invoke({"action": "delete", "id": ids[0]}, config=CONFIG) == f"Deleted memory {ids[0]}"
    assert store.get(("memories", "u1"), ids[0]) is None
    assert ids[0] not in [m["key"] for m in search(search_tool, query="What is the name of my dog?")]
    assert store.memory.count(namespace=("memories", "u1")) == 2


async def test_async_create_and_search(store):
    manage = create_manage_memory_tool(namespace=NAMESPACE, store=store)
    search_tool = create_search_memory_tool(namespace=NAMESPACE, store=store)
    ids = [created_id(await manage.ainvoke({"content": text}, config=CONFIG)) for text in MEMORIES]
    found = json.loads(await search_tool.ainvoke({"query": "Where does my sister live?"}, config=CONFIG))
    assert found[0]["key"] == ids[2]


def test_the_middleware_does_not_repeat_what_langmem_stored(store, scripted):
    manage = create_manage_memory_tool(namespace=NAMESPACE, store=store)
    manage.invoke({"content": "I live in Lisbon."}, config=CONFIG)
    agent = create_agent(
        scripted(AIMessage("ok")), middleware=[AgentMemMiddleware(namespace=NAMESPACE)], store=store
    )
    agent.invoke({"messages": [{"role": "user", "content": "I live in Lisbon."}]}, config=CONFIG)
    assert [i.value for i in store.search(("memories", "u1"))] == [{"content": "I live in Lisbon."}]
