"""AgentMemMiddleware inside real `create_agent` agents. Only the hosted LLM is mocked (a scripted
chat model, see conftest); the agent graph, middleware chain, store and encoder are the real ones."""

from __future__ import annotations

import pytest
from langchain.agents import create_agent
from langchain_agentmem import AgentMemMiddleware, AgentMemStore, SkipRules
from langchain_core.messages import AIMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver


@pytest.fixture
def store(tmp_path, encoder):
    with AgentMemStore(tmp_path / "mem", index={"fields": ["text"]}) as s:
        yield s


def system_text(messages) -> str:
    return "".join(m.text for m in messages if isinstance(m, SystemMessage))


def ask(agent, text: str, user: str, **config):
    return agent.invoke(
        {"messages": [{"role": "user", "content": text}]}, context={"user_id": user}, **config
    )


def test_remembers_a_turn_and_recalls_it_in_a_new_conversation(store, scripted):
    first = scripted(AIMessage("Nice to meet you, Ada!"))
    agent = create_agent(
        first, system_prompt="You are helpful.", middleware=[AgentMemMiddleware()], store=store
    )
    ask(agent, "Hi, I'm Ada. I live in Lisbon and I'm allergic to peanuts.", "u1")
    assert "<memories>" not in system_text(first.seen[0])  # nothing to recall yet

    stored = store.search(("memories", "u1"))
    assert [(i.value["role"], i.value["text"]) for i in stored] == [
        ("user", "Hi, I'm Ada. I live in Lisbon and I'm allergic to peanuts."),
        ("assistant", "Nice to meet you, Ada!"),
    ]

    second = scripted(AIMessage("You live in Lisbon."))
    agent = create_agent(
        second, system_prompt="You are helpful.", middleware=[AgentMemMiddleware()], store=store
    )
    ask(agent, "Which city do I live in?", "u1")
    prompt = system_text(second.seen[0])
    assert prompt.startswith("You are helpful.")
    block = prompt[prompt.index("<memories>") : prompt.index("</memories>")]
    assert "user: Hi, I'm Ada. I live in Lisbon" in block
    # the injected block is for the model call only, never part of the conversation state
    assert all("<memories>" not in m.text for m in second.seen[0][1:])

    stranger = scripted(AIMessage("I don't know."))
    agent = create_agent(stranger, middleware=[AgentMemMiddleware()], store=store)
    ask(agent, "Which city do I live in?", "u2")
    assert "Lisbon" not in system_text(stranger.seen[0])  # another user's namespace is separate


def test_a_resumed_thread_stores_each_message_once(store, scripted):
    model = scripted(AIMessage("Noted."), AIMessage("Blue, you said."))
    keep_all = AgentMemMiddleware(skip=SkipRules(filler=False, questions=False, duplicates=False))
    agent = create_agent(model, middleware=[keep_all], store=store, checkpointer=InMemorySaver())
    thread = {"configurable": {"thread_id": "t1"}}
    ask(agent, "My favourite colour is blue.", "u1", config=thread)
    ask(agent, "What is my favourite colour?", "u1", config=thread)
    texts = [i.value["text"] for i in store.search(("memories", "u1"))]
    assert texts == [
        "My favourite colour is blue.",
        "Noted.",
        "What is my favourite colour?",
        "Blue, you said.",
    ]
    # messages already in the prompt are not injected again as memories
    assert "<memories>" not in system_text(model.seen[1])


def test_tool_results_k_and_template_are_configurable(store, scripted):
    @tool
    def weather(city: str) -> str:
        """Current weather in a city."""
        return f"Sunny and 24 degrees in {city}."

    model = scripted(
        AIMessage("", tool_calls=[{"name": "weather", "args": {"city": "Lisbon"}, "id": "c1"}]),
        AIMessage("It is sunny."),
    )
    middleware = AgentMemMiddleware(roles=("user", "tool"), k=1, template="MEMORY:\n{memories}\nEND")
    agent = create_agent(model, tools=[weather], middleware=[middleware], store=store)
    ask(agent, "I fly to Lisbon tomorrow, check the weather there.", "u1")
    values = [i.value for i in store.search(("memories", "u1"))]
    assert [(v["role"], v.get("tool")) for v in values] == [("user", None), ("tool", "weather")]
    assert values[1]["text"] == "Sunny and 24 degrees in Lisbon."

    model = scripted(AIMessage("Sunny."))
    agent = create_agent(model, middleware=[middleware], store=store)
    ask(agent, "What was the weather like in Lisbon?", "u1")
    prompt = system_text(model.seen[0])
    assert prompt.startswith("MEMORY:\n- [") and prompt.endswith("\nEND")
    assert prompt.count("- [") == 1  # k=1: one memory line


def test_namespace_from_a_function_and_a_clear_error_without_user_id(store, scripted):
    model = scripted(AIMessage("ok"))
    team = AgentMemMiddleware(namespace=lambda runtime: ("teams", runtime.context["team"]))
    create_agent(model, middleware=[team], store=store).invoke(
        {"messages": [{"role": "user", "content": "We ship on Fridays."}]}, context={"team": "core"}
    )
    assert [i.value["text"] for i in store.search(("teams", "core"))][0] == "We ship on Fridays."

    agent = create_agent(scripted(AIMessage("ok")), middleware=[AgentMemMiddleware()], store=store)
    with pytest.raises(ValueError, match="user_id"):
        agent.invoke({"messages": [{"role": "user", "content": "hi"}]})
    with pytest.raises(ValueError, match="roles"):
        AgentMemMiddleware(roles=("system",))


def test_needs_a_store(scripted):
    agent = create_agent(scripted(AIMessage("ok")), middleware=[AgentMemMiddleware()])
    with pytest.raises(ValueError, match="store"):
        ask(agent, "hi", "u1")


async def test_async_agent(store, scripted):
    model = scripted(AIMessage("Got it."), lambda messages: AIMessage(system_text(messages)))
    agent = create_agent(model, middleware=[AgentMemMiddleware()], store=store)
    await agent.ainvoke(
        {"messages": [{"role": "user", "content": "I play the cello."}]}, context={"user_id": "u9"}
    )
    result = await agent.ainvoke(
        {"messages": [{"role": "user", "content": "Which instrument do I play?"}]}, context={"user_id": "u9"}
    )
    assert "I play the cello." in result["messages"][-1].text
    assert not any(isinstance(m, ToolMessage) for m in result["messages"])


def stored_texts(store, *namespace: str) -> list[str]:
    return [i.value["text"] for i in store.search(namespace, limit=100)]


FACTS = [
    "Hi! I'm Ada and I live in Lisbon.",
    "I'm allergic to peanuts, please keep that in mind when suggesting recipes.",
    "My dog is called Biscuit.",
]
QUESTIONS = ["Where do I live?", "What should a dessert recipe for me leave out?", "What's my dog's name?"]
ANSWERS = ["You live in Lisbon.", "Leave out the peanuts.", "Your dog is Biscuit."]


def test_filler_questions_and_duplicates_are_not_remembered(store, scripted):
    # Each message its own conversation, as in examples/agent_memory.py: the run that stored
    # "Thanks, I'll remember that." three times and every question.
    model = scripted(*[AIMessage("Thanks, I'll remember that.")] * 3, *map(AIMessage, ANSWERS))
    agent = create_agent(model, middleware=[AgentMemMiddleware()], store=store)
    for text in FACTS + QUESTIONS:
        ask(agent, text, "ada")
    assert stored_texts(store, "memories", "ada") == FACTS + ANSWERS
    # the questions still recalled what was stored
    assert "user: Hi! I'm Ada and I live in Lisbon." in system_text(model.seen[3])

    # the same text again, in another case and spacing, and twice within one turn: nothing new
    model = scripted(AIMessage("Got it."))
    agent = create_agent(model, middleware=[AgentMemMiddleware()], store=store)
    agent.invoke(
        {"messages": [{"role": "user", "content": "my dog is   called BISCUIT."}] * 2},
        context={"user_id": "ada"},
    )
    assert stored_texts(store, "memories", "ada") == FACTS + ANSWERS

    model = scripted(AIMessage("Noted, I'll remember that."))
    agent = create_agent(model, middleware=[AgentMemMiddleware()], store=store)
    agent.invoke(
        {"messages": [{"role": "user", "content": "I play the cello."}] * 2}, context={"user_id": "ada"}
    )
    assert stored_texts(store, "memories", "ada") == [*FACTS, *ANSWERS, "I play the cello."]


@pytest.mark.parametrize(
    ("rule", "kept"),
    [
        ("filler", ["I live in Lisbon.", "Thanks, I'll remember that.", "Sure!", "You live in Lisbon."]),
        ("questions", ["I live in Lisbon.", "Where do I live?", "You live in Lisbon."]),
        ("duplicates", ["I live in Lisbon.", "i live in  LISBON.", "You live in Lisbon."]),
    ],
)
def test_each_rule_can_be_turned_off(store, scripted, rule, kept):
    model = scripted(*map(AIMessage, ["Thanks, I'll remember that.", "Sure!", "You live in Lisbon."]))
    middleware = AgentMemMiddleware(skip=SkipRules(**{rule: False}))
    agent = create_agent(model, middleware=[middleware], store=store)
    for text in ["I live in Lisbon.", "i live in  LISBON.", "Where do I live?"]:
        ask(agent, text, "u1")
    assert stored_texts(store, "memories", "u1") == kept


def test_a_fact_said_again_is_stored_once(store, scripted):
    model = scripted(*map(AIMessage, ["Noted.", "You said so before.", "Okay!", "Yes, you are vegetarian."]))
    agent = create_agent(model, middleware=[AgentMemMiddleware()], store=store, checkpointer=InMemorySaver())
    first, second = ({"configurable": {"thread_id": t}} for t in ("t1", "t2"))
    ask(agent, "I am vegetarian.", "u1", config=first)
    ask(agent, "I am vegetarian.", "u1", config=first)  # the same thread: a new message, same text
    ask(agent, "I am vegetarian.", "u1", config=first)
    ask(agent, "I am  Vegetarian.", "u1", config=second)  # another conversation
    assert stored_texts(store, "memories", "u1") == [
        "I am vegetarian.",
        "You said so before.",
        "Yes, you are vegetarian.",
    ]


async def test_async_agent_skips_too(store, scripted):
    model = scripted(AIMessage("Got it."), AIMessage("Sure, I'll keep that in mind!"))
    agent = create_agent(model, middleware=[AgentMemMiddleware()], store=store)
    for text in ("I play the cello.", "I play the CELLO."):
        await agent.ainvoke({"messages": [{"role": "user", "content": text}]}, context={"user_id": "u9"})
    assert stored_texts(store, "memories", "u9") == ["I play the cello."]


def test_namespace_from_the_config_as_langmem_names_it(store, scripted):
    middleware = AgentMemMiddleware(namespace=("memories", "{langgraph_user_id}"))
    agent = create_agent(scripted(AIMessage("ok")), middleware=[middleware], store=store)
    agent.invoke(
        {"messages": [{"role": "user", "content": "I work night shifts."}]},
        config={"configurable": {"langgraph_user_id": "u5"}},
    )
    assert stored_texts(store, "memories", "u5") == ["I work night shifts."]
