"""remember / recall / update_memory / forget as tools of a real `create_agent` agent and on their own
(invoked with a tool call, as an agent does), and the agent's store reached from a custom tool through
`runtime.store`. Only the hosted LLM is mocked (conftest's scripted model)."""

from __future__ import annotations

import re

import pytest
from langchain.agents import create_agent
from langchain.tools import ToolRuntime
from langchain_agentmem import AgentMemMiddleware, AgentMemStore, create_memory_tools, items
from langchain_agentmem.tools import DESCRIPTIONS
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool
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


def tool_call(tool, /, **args) -> ToolMessage:
    """Invoke a tool as an agent does, with a tool call, outside any agent."""
    message = tool.invoke(
        {"type": "tool_call", "name": tool.name, "args": args, "id": "call-1"},
        config={"configurable": {"user_id": "u1"}},
    )
    assert isinstance(message, ToolMessage)
    return message


def test_names_descriptions_and_instructions_show_in_the_schema(store, scripted):
    tools = create_memory_tools(
        names={"remember": "save_fact", "recall": "search_memory"},
        descriptions={"forget": "Erase one memory by its key."},
        instructions={"remember": "Call it whenever the user states a preference."},
        k=3,
    )
    schemas = {t.name: convert_to_openai_tool(t)["function"] for t in tools}
    assert list(schemas) == ["save_fact", "search_memory", "update_memory", "forget"]
    assert schemas["save_fact"]["description"] == (
        f"{DESCRIPTIONS['remember']}\n\nCall it whenever the user states a preference."
    )
    assert schemas["search_memory"]["description"] == DESCRIPTIONS["recall"]
    assert schemas["forget"]["description"] == "Erase one memory by its key."
    search = schemas["search_memory"]["parameters"]
    assert list(search["properties"]) == ["query", "limit", "offset", "filter"]
    assert search["required"] == ["query"]
    assert (search["properties"]["limit"]["default"], search["properties"]["offset"]["default"]) == (3, 0)
    assert schemas["update_memory"]["parameters"]["required"] == ["key", "fact"]

    # the model calls them by their new names
    model = scripted(
        call("save_fact", fact="Prefers window seats."),
        call("search_memory", query="seat preference"),
        AIMessage("Done."),
    )
    agent = create_agent(model, tools=tools, store=store, context_schema=UserContext)
    result = agent.invoke(
        {"messages": [{"role": "user", "content": "Window, always."}]}, context={"user_id": "u1"}
    )
    assert "Prefers window seats." in last_tool_result(result["messages"])

    with pytest.raises(ValueError, match="unknown tool"):
        create_memory_tools(names={"search": "x"})
    with pytest.raises(ValueError, match="must differ"):
        create_memory_tools(names={"recall": "forget"})


def test_update_changes_a_memory_and_keeps_its_history(store, scripted):
    def update_recalled(messages):
        key = re.search(r"\[([0-9a-f-]{36})\]", last_tool_result(messages)).group(1)
        return call("update_memory", key=key, fact="The user lives in Porto.")

    model = scripted(
        call("remember", fact="The user lives in Lisbon."),
        call("recall", query="Where does the user live?"),
        update_recalled,
        call("recall", query="Where does the user live?"),
        AIMessage("Updated."),
    )
    agent = create_agent(model, tools=create_memory_tools(), store=store, context_schema=UserContext)
    result = agent.invoke(
        {"messages": [{"role": "user", "content": "I moved to Porto."}]}, context={"user_id": "u1"}
    )
    results = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    key = re.search(r"key ([0-9a-f-]{36})", results[0].text).group(1)
    assert results[2].text == f"Updated {key}." and results[2].status == "success"
    assert results[3].text.startswith(f"[{key}] The user lives in Porto. (score ")

    item = store.get(("memories", "u1"), key)
    assert item.value == {"text": "The user lives in Porto.", "role": "agent"}  # role kept
    history = store.memory.history(items.item_id(("memories", "u1"), key))
    assert [v.text for v in history] == ["The user lives in Lisbon.", "The user lives in Porto."]


def texts(result: str) -> list[str]:
    return re.findall(r"^\[[^\]]+\] (.+?)(?: \(score [0-9.]+\))?$", result, flags=re.MULTILINE)


def test_recall_limit_offset_and_filter(store):
    namespace = ("memories", "u1")
    seeded = [
        ("My dog is called Biscuit.", "user"),
        ("I work night shifts as a nurse.", "user"),
        ("Biscuit is due for his vaccine in June.", "assistant"),
        ("My sister lives in Porto.", "user"),
    ]
    for i, (text, role) in enumerate(seeded):
        store.put(namespace, f"m{i}", {"text": text, "role": role}, index=["text"])
    _, recall, _, _ = create_memory_tools(store)

    # an empty query lists in the order saved, so every page is known
    assert texts(tool_call(recall, query="").text) == [t for t, _ in seeded]
    assert texts(tool_call(recall, query="", limit=2, offset=1).text) == [
        "I work night shifts as a nurse.",
        "Biscuit is due for his vaccine in June.",
    ]
    assert texts(tool_call(recall, query="", filter={"role": "assistant"}).text) == [
        "Biscuit is due for his vaccine in June."
    ]
    assert texts(tool_call(recall, query="", filter={"role": {"$ne": "assistant"}}, offset=2).text) == [
        "My sister lives in Porto."
    ]
    assert tool_call(recall, query="", offset=4).text == "No memories found."

    # with a query: the best match, the next one, and the best among the assistant's
    query = "What is my dog called?"
    assert texts(tool_call(recall, query=query, limit=1).text) == ["My dog is called Biscuit."]
    assert texts(tool_call(recall, query=query, limit=1, offset=1).text) == [
        "Biscuit is due for his vaccine in June."
    ]
    assert texts(tool_call(recall, query=query, filter={"role": "assistant"}).text) == [
        "Biscuit is due for his vaccine in June."
    ]


def test_bad_input_comes_back_as_a_tool_error(make_store, tmp_path, scripted):
    store = make_store(tmp_path / "mem", fields=["text"])
    remember, recall, update, forget = create_memory_tools(store)
    tool_call(remember, fact="My dog is called Biscuit.")

    errors = [
        tool_call(recall, query="dog", filter={"role": {"$like": "u%"}}),
        tool_call(recall, query="dog", filter={"role": {"$regex": "u"}}, offset=0),
        tool_call(recall, query="dog", limit=0),
        tool_call(recall, query="dog", offset=-1),
        tool_call(update, key="nope", fact="My dog is called Pixel."),
        tool_call(forget, key="nope"),
        tool_call(remember, fact="   "),
        tool_call(remember, fact="a" * (17 << 20)),  # agentmem refuses: InputTooLargeError
    ]
    assert [e.status for e in errors] == ["error"] * len(errors)
    assert [e.text for e in errors[:7]] == [
        "unsupported filter operator '$like'; LangGraph supports $eq, $gt, $gte, $lt, $lte, $ne",
        "unsupported filter operator '$regex'; LangGraph supports $eq, $gt, $gte, $lt, $lte, $ne",
        "Invalid arguments: limit: Input should be greater than or equal to 1.",
        "Invalid arguments: offset: Input should be greater than or equal to 0.",
        "No memory with key nope.",
        "No memory with key nope.",
        "The fact is empty: state it as a self-contained sentence.",
    ]
    assert errors[7].text.startswith("metadata is 17,825,9") and errors[7].text.endswith("store less")
    # an unknown operator is refused even where no memory would reach it
    empty = create_memory_tools(store, namespace=("nobody",))[1]
    assert tool_call(empty, query="dog", filter={"role": {"$like": "u%"}}).status == "error"

    # inside an agent the model reads the error and carries on
    model = scripted(call("recall", query="dog", filter={"role": {"$like": "u%"}}), AIMessage("Sorry."))
    agent = create_agent(model, tools=create_memory_tools(store), context_schema=UserContext)
    result = agent.invoke({"messages": [{"role": "user", "content": "My dog?"}]}, context={"user_id": "u1"})
    message = next(m for m in result["messages"] if isinstance(m, ToolMessage))
    assert message.status == "error" and message.text.startswith("unsupported filter operator '$like'")
    assert result["messages"][-1].text == "Sorry."


async def test_outside_an_agent_with_a_namespace_from_the_config(store):
    remember, recall, _, _ = create_memory_tools(store, namespace=("memories", "{langgraph_user_id}"))
    config = {"configurable": {"langgraph_user_id": "u3"}}
    assert (await remember.ainvoke({"fact": "Allergic to cats."}, config=config)).startswith("Remembered")
    assert texts(recall.invoke({"query": "allergies"}, config=config)) == ["Allergic to cats."]
    assert [i.value["text"] for i in store.search(("memories", "u3"))] == ["Allergic to cats."]
    with pytest.raises(ValueError, match="langgraph_user_id"):
        recall.invoke({"query": "allergies"})  # a misconfigured run raises instead of answering
