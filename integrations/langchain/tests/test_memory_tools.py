"""remember / recall / forget as tools of a real `create_agent` agent, and the agent's store reached
from a custom tool through `runtime.store`. Only the hosted LLM is mocked (conftest's scripted model)."""

from __future__ import annotations

import re

import pytest
from langchain.agents import create_agent
from langchain.tools import ToolRuntime
from langchain_agentmem import AgentMemMiddleware, AgentMemStore, create_memory_tools
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from typing_extensions import TypedDict


@pytest.fixture
def store(tmp_path, encoder):
    with AgentMemStore(tmp_path / "mem", index={"fields": ["text"]}) as s:
        yield s


class UserContext(TypedDict):
    user_id: str


def call(tool_name: str, /, **args):
    return AIMessage("", tool_calls=[{"name": tool_name, "args": args, "id": f"call-{tool_name}"}])


def last_tool_result(messages) -> str:
    return next(m.text for m in reversed(messages) if isinstance(m, ToolMessage))


def test_remember_recall_forget(store, scripted):
    def forget_recalled(messages):
        key = re.search(r"\[([0-9a-f-]{36})\]", last_tool_result(messages)).group(1)
        return call("forget", key=key)

    model = scripted(
        call("remember", fact="The user's dog is called Biscuit."),
        call("remember", fact="The user's dog is called Biscuit."),  # again: still one memory
        call("recall", query="What is the name of the user's pet?"),
        forget_recalled,
        call("recall", query="What is the name of the user's pet?"),
        AIMessage("Done."),
    )
    agent = create_agent(model, tools=create_memory_tools(), store=store, context_schema=UserContext)
    result = agent.invoke(
        {"messages": [{"role": "user", "content": "Remember my dog."}]}, context={"user_id": "u1"}
    )
    results = [m.text for m in result["messages"] if isinstance(m, ToolMessage)]
    assert results[0].startswith("Remembered (key ") and results[0] == results[1]
    assert "The user's dog is called Biscuit." in results[2] and "(score 0." in results[2]
    assert results[3].startswith("Forgot ")
    assert results[4] == "No memories found."
    assert store.search(("memories", "u1")) == []


def test_middleware_recalls_what_the_tool_remembered(store, scripted):
    agent = create_agent(
        scripted(call("remember", fact="Prefers answers in French."), AIMessage("Noted.")),
        tools=create_memory_tools(),
        store=store,
        context_schema=UserContext,
    )
    agent.invoke(
        {"messages": [{"role": "user", "content": "Answer in French from now on."}]},
        context={"user_id": "u1"},
    )

    model = scripted(AIMessage("Bonjour !"))
    agent = create_agent(model, middleware=[AgentMemMiddleware(roles=())], store=store)
    agent.invoke(
        {"messages": [{"role": "user", "content": "Which language should you answer in?"}]},
        context={"user_id": "u1"},
    )
    assert "agent: Prefers answers in French." in model.seen[0][0].text


def test_forget_an_unknown_key_and_a_fixed_namespace(store, scripted):
    model = scripted(call("forget", key="nope"), AIMessage("ok"))
    agent = create_agent(model, tools=create_memory_tools(store, namespace=("shared",)))
    result = agent.invoke({"messages": [{"role": "user", "content": "forget"}]})
    assert last_tool_result(result["messages"]) == "No memory with key nope."


def test_custom_tool_reaches_the_store_through_runtime(store, scripted):
    @tool
    def save_preference(name: str, value: str, runtime: ToolRuntime[UserContext]) -> str:
        """Save a user preference."""
        runtime.store.put(("prefs", runtime.context["user_id"]), name, {"text": f"{name} = {value}"})
        return "saved"

    model = scripted(call("save_preference", name="theme", value="dark"), AIMessage("ok"))
    agent = create_agent(model, tools=[save_preference], store=store, context_schema=UserContext)
    agent.invoke({"messages": [{"role": "user", "content": "dark mode please"}]}, context={"user_id": "u7"})
    assert store.get(("prefs", "u7"), "theme").value == {"text": "theme = dark"}
    assert store.memory.list(namespace=("prefs",))[0].text == "theme = dark"  # an agentmem memory
