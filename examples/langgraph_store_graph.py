"""A LangGraph graph that uses agentmem directly as its store: no LLM, no agent.

    python examples/langgraph_store_graph.py [--store ./notes-memory]

Nodes reach the store through `runtime.store`, exactly as they would reach an `InMemoryStore`:
`put` a note (its `text` field embedded, its other fields filterable), `search` by meaning within
the user's namespace, optionally with a filter. Run it twice with the same --store: the notes of
the first run are still there.
"""

from __future__ import annotations

import argparse
import tempfile
import uuid
from dataclasses import dataclass

from langchain_agentmem import AgentMemStore
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from typing_extensions import TypedDict


@dataclass
class UserContext:
    user_id: str


class State(TypedDict, total=False):
    note: str  # something to remember
    topic: str  # the note's topic, filterable
    question: str  # something to look up
    only_topic: str  # restrict the lookup to one topic
    found: list[str]


def save_note(state: State, runtime: Runtime[UserContext]) -> dict:
    if state.get("note"):
        value = {"text": state["note"], "topic": state.get("topic", "misc")}
        runtime.store.put(("notes", runtime.context.user_id), uuid.uuid4().hex, value)
    return {}


def look_up(state: State, runtime: Runtime[UserContext]) -> dict:
    if not state.get("question"):
        return {"found": []}
    topic = state.get("only_topic")
    hits = runtime.store.search(
        ("notes", runtime.context.user_id),
        query=state["question"],
        filter={"topic": topic} if topic else None,
        limit=2,
    )
    return {"found": [f"{hit.value['text']}  [{hit.value['topic']}, score {hit.score:.2f}]" for hit in hits]}


def build(store: AgentMemStore):
    graph = StateGraph(State, context_schema=UserContext)
    graph.add_node("save_note", save_note)
    graph.add_node("look_up", look_up)
    graph.add_edge(START, "save_note")
    graph.add_edge("save_note", "look_up")
    graph.add_edge("look_up", END)
    return graph.compile(store=store)


NOTES = [
    ("The quarterly report is due on the 14th.", "work"),
    ("Book the car for its annual service.", "errands"),
    ("Mum's birthday dinner is at the Italian place on Friday.", "family"),
    ("The staging database password rotates every 30 days.", "work"),
]
QUESTIONS = [
    ("When is the report deadline?", None),
    ("Any plans with my family?", None),
    ("What about cars?", "work"),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", default=None, help="agentmem store directory (default: a temporary one)")
    args = parser.parse_args()
    path = args.store or tempfile.mkdtemp(prefix="agentmem-notes-")
    ctx = UserContext("sam")
    # Only the text is embedded; the topic stays a plain field for filters.
    with AgentMemStore(path, index={"fields": ["text"]}) as store:
        app = build(store)
        for note, topic in NOTES:
            app.invoke({"note": note, "topic": topic}, context=ctx)
        for question, topic in QUESTIONS:
            found = app.invoke({"question": question, "only_topic": topic}, context=ctx)["found"]
            scope = f" (topic {topic} only)" if topic else ""
            print(f"Q: {question}{scope}\n" + "\n".join(f"   - {line}" for line in found))
        print(f"namespaces: {store.list_namespaces()}")
        print(f"notes stored for sam: {len(store.search(('notes', 'sam'), limit=100))}")


if __name__ == "__main__":
    main()
