"""remember / recall / update_memory / forget: tools an agent calls to manage its own long-term memory.

They cover what LangMem's `create_manage_memory_tool` and `create_search_memory_tool` do, one tool
per action: create (`remember`), search with `limit`, `offset` and `filter` (`recall`), update
(`update_memory`: agentmem keeps the earlier text in the memory's history) and delete (`forget`).
Each tool's name and description can be set, and instructions on when to call it added.

They use the same store and namespace rules as `AgentMemMiddleware`, so a fact the agent chose to
remember is recalled by the middleware too, and `update_memory` and `forget` change what either of
them wrote (`recall` shows each memory's key for that purpose). They also run outside an agent:
pass `store=` and invoke them with a config whose `configurable` fills the namespace
(`config={"configurable": {"user_id": "u42"}}`).

What the model gets wrong (an empty fact, an unknown key, an unknown filter operator, an argument
out of range, anything agentmem refuses) comes back to it as the tool's error message, so it can
try again; a misconfigured agent (no store, no user id in the run) raises.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langgraph.runtime import Runtime, get_runtime
from langgraph.store.base import BaseStore
from pydantic import BaseModel, Field, ValidationError

from agentmem.errors import AgentMemError
from agentmem.validate import MAX_K
from langchain_agentmem.filters import check
from langchain_agentmem.namespaces import DEFAULT_NAMESPACE, Namespace, NamespaceSpec, resolve_namespace

# Facts are keyed by their text, so remembering the same fact twice keeps one memory.
_FACT_KEYS = uuid.UUID("0b7c8f0e-3f57-4c1e-9d0a-5a3f0f4d2e61")

TOOLS = ("remember", "recall", "update_memory", "forget")
"""The tools `create_memory_tools` makes, by their default names (the keys of its mappings)."""

DESCRIPTIONS: Mapping[str, str] = {
    "remember": (
        "Save a fact worth knowing in later conversations (a preference, a detail about the user, a "
        "decision). State it as a self-contained sentence."
    ),
    "recall": (
        "Search long-term memory for what is relevant to the query. Returns one memory per line with "
        "its key, best match first; `limit` and `offset` page through the matches, `filter` keeps "
        "memories whose fields match."
    ),
    "update_memory": (
        "Change the text of one memory, by the key `recall` showed, when what it says has changed or "
        "was wrong. Its earlier text stays in its history."
    ),
    "forget": (
        "Delete one memory by the key `recall` showed, e.g. when the user asks you to forget it or it "
        "is no longer true."
    ),
}
"""Each tool's description unless `create_memory_tools(descriptions=...)` replaces it."""


_FACT_HELP = 'The fact as one self-contained sentence, e.g. "The user\'s dog is called Biscuit."'
_KEY_HELP = "The memory's key, as `recall` shows it in brackets."


class _FactArgs(BaseModel):
    fact: str = Field(description=_FACT_HELP)


class _KeyArgs(BaseModel):
    key: str = Field(description=_KEY_HELP)


class _UpdateArgs(BaseModel):
    key: str = Field(description=_KEY_HELP)
    fact: str = Field(description=f"The memory's new text. {_FACT_HELP}")


def _recall_args(k: int) -> type[BaseModel]:
    """recall's arguments, with `k` as the default limit."""

    class RecallArgs(BaseModel):
        query: str = Field(description="What to look for, in words; empty lists memories in the order saved.")
        limit: int = Field(default=k, ge=1, le=MAX_K, description="How many memories to return.")
        offset: int = Field(default=0, ge=0, description="How many of the best matches to skip, to page on.")
        filter: dict[str, Any] | None = Field(
            default=None,
            description=(
                'Only memories whose fields match, e.g. {"role": "user"}. Fields: text, role (user, '
                "assistant, tool, agent), tool. A field may take operators $eq $ne $gt $gte $lt $lte, "
                'e.g. {"role": {"$ne": "assistant"}}.'
            ),
        )

    return RecallArgs


def create_memory_tools(
    store: BaseStore | None = None,
    *,
    namespace: NamespaceSpec = DEFAULT_NAMESPACE,
    k: int = 5,
    names: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
    instructions: Mapping[str, str] | None = None,
) -> list[BaseTool]:
    """The `remember`, `recall`, `update_memory` and `forget` tools, in that order.

    Args:
        store: where memories live; `None` uses the agent's store (`create_agent(store=...)`).
        namespace: as in `AgentMemMiddleware`: a template filled from the run's context or its
            config's `configurable` (`("memories", "{langgraph_user_id}")` reads LangMem's key), or
            a function of the run's `Runtime`.
        k: how many memories `recall` returns unless the model asks for another `limit`.
        names: tool names to use instead of the defaults, e.g. `{"recall": "search_memory"}`.
        descriptions: descriptions to use instead of `DESCRIPTIONS`, by default tool name.
        instructions: text added to a tool's description, by default tool name: when to call it,
            e.g. `{"remember": "Call it whenever the user states a preference."}`.
    """
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}; got {k}")
    tool_names = {tool: tool for tool in TOOLS} | dict(_per_tool(names, "names"))
    if len(set(tool_names.values())) < len(TOOLS):
        raise ValueError(f"tool names must differ; got {tool_names}")
    tool_descriptions = dict(DESCRIPTIONS) | dict(_per_tool(descriptions, "descriptions"))
    for tool, extra in _per_tool(instructions, "instructions").items():
        tool_descriptions[tool] = f"{tool_descriptions[tool]}\n\n{extra}"

    def where() -> tuple[BaseStore, Namespace]:
        runtime = _graph_runtime()
        chosen = store or (runtime.store if runtime else None)
        if chosen is None:
            raise ValueError("memory tools need a store: pass store= or create_agent(..., store=...)")
        return chosen, resolve_namespace(namespace, runtime or Runtime(store=chosen))

    def remember(fact: str) -> str:
        target, ns = where()
        text = _fact_text(fact)
        key = str(uuid.uuid5(_FACT_KEYS, " ".join(text.lower().split())))
        with _model_errors():
            target.put(ns, key, {"text": text, "role": "agent"}, index=["text"])
        return f"Remembered (key {key})."

    def recall(query: str, limit: int = k, offset: int = 0, filter: dict[str, Any] | None = None) -> str:
        target, ns = where()
        with _model_errors():
            check(filter)
            found = target.search(ns, query=query, filter=filter, limit=limit, offset=offset)
        if not found:
            return "No memories found."
        return "\n".join(
            f"[{item.key}] {item.value.get('text', item.value)}"
            + (f" (score {item.score:.2f})" if item.score is not None else "")
            for item in found
        )

    def update_memory(key: str, fact: str) -> str:
        target, ns = where()
        text = _fact_text(fact)
        with _model_errors():
            old = target.get(ns, key, refresh_ttl=False)
            if old is None:
                raise ToolException(f"No memory with key {key}.")
            # The same key: AgentMemStore updates that memory in place, its old text kept as history.
            target.put(ns, key, {**old.value, "text": text}, index=["text"])
        return f"Updated {key}."

    def forget(key: str) -> str:
        target, ns = where()
        with _model_errors():
            if target.get(ns, key, refresh_ttl=False) is None:
                raise ToolException(f"No memory with key {key}.")
            target.delete(ns, key)
        return f"Forgot {key}."

    functions: dict[str, tuple[Callable[..., str], type[BaseModel]]] = {
        "remember": (remember, _FactArgs),
        "recall": (recall, _recall_args(k)),
        "update_memory": (update_memory, _UpdateArgs),
        "forget": (forget, _KeyArgs),
    }
    return [
        StructuredTool.from_function(
            func,
            name=tool_names[tool],
            description=tool_descriptions[tool],
            args_schema=schema,
            handle_tool_error=True,
            handle_validation_error=_invalid_arguments,
        )
        for tool, (func, schema) in functions.items()
    ]


def _per_tool(given: Mapping[str, str] | None, label: str) -> Mapping[str, str]:
    unknown = set(given or {}) - set(TOOLS)
    if unknown:
        raise ValueError(f"{label} has unknown tool(s) {sorted(unknown)}; the tools are {list(TOOLS)}")
    return given or {}


def _graph_runtime() -> Runtime | None:
    """The LangGraph run the tool is called from: None when invoked on its own."""
    try:
        return get_runtime()
    except RuntimeError:  # no runnable config in this context (Python 3.10 async tasks have none)
        return None


def _fact_text(fact: str) -> str:
    text = fact.strip()
    if not text:
        raise ToolException("The fact is empty: state it as a self-contained sentence.")
    return text


@contextmanager
def _model_errors() -> Iterator[None]:
    """Input the store refuses becomes the tool's error message, for the model to correct."""
    try:
        yield
    except (AgentMemError, ValueError) as error:
        raise ToolException(str(error)) from error


def _invalid_arguments(error: ValidationError) -> str:
    problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in error.errors())
    return f"Invalid arguments: {problems}."
