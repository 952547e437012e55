"""remember / recall / forget: tools an agent calls to manage its own long-term memory.

They use the same store and namespace rules as `AgentMemMiddleware`, so a fact the agent chose to
remember is recalled by the middleware too, and `forget` removes what either of them wrote (recall
shows each memory's key for that purpose).
"""

from __future__ import annotations

import uuid
from typing import Any

from langchain.tools import BaseTool, ToolRuntime, tool
from langgraph.store.base import BaseStore

from langchain_agentmem.namespaces import DEFAULT_NAMESPACE, NamespaceSpec, resolve_namespace

# Facts are keyed by their text, so remembering the same fact twice keeps one memory.
_FACT_KEYS = uuid.UUID("0b7c8f0e-3f57-4c1e-9d0a-5a3f0f4d2e61")


def create_memory_tools(
    store: BaseStore | None = None, *, namespace: NamespaceSpec = DEFAULT_NAMESPACE, k: int = 5
) -> list[BaseTool]:
    """The `remember`, `recall` and `forget` tools.

    Args:
        store: where memories live; `None` uses the agent's store (`create_agent(store=...)`).
        namespace: as in `AgentMemMiddleware`: a context template or a function of the runtime.
        k: how many memories `recall` returns.
    """

    def where(runtime: ToolRuntime) -> tuple[BaseStore, tuple[str, ...]]:
        chosen = store or runtime.store
        if chosen is None:
            raise ValueError("memory tools need a store: pass store= or create_agent(..., store=...)")
        return chosen, resolve_namespace(namespace, runtime)

    @tool
    def remember(fact: str, runtime: ToolRuntime[Any]) -> str:
        """Save a fact worth knowing in later conversations (a preference, a detail about the user,
        a decision). State it as a self-contained sentence."""
        target, ns = where(runtime)
        key = str(uuid.uuid5(_FACT_KEYS, " ".join(fact.lower().split())))
        target.put(ns, key, {"text": fact.strip(), "role": "agent"}, index=["text"])
        return f"Remembered (key {key})."

    @tool
    def recall(query: str, runtime: ToolRuntime[Any]) -> str:
        """Search long-term memory for what is relevant to the query. Returns one memory per line
        with its key."""
        target, ns = where(runtime)
        found = target.search(ns, query=query, limit=k)
        if not found:
            return "No memories found."
        return "\n".join(
            f"[{item.key}] {item.value.get('text', item.value)}"
            + (f" (score {item.score:.2f})" if item.score is not None else "")
            for item in found
        )

    @tool
    def forget(key: str, runtime: ToolRuntime[Any]) -> str:
        """Delete one memory by the key `recall` showed, e.g. when the user asks you to forget it
        or it is no longer true."""
        target, ns = where(runtime)
        if target.get(ns, key, refresh_ttl=False) is None:
            return f"No memory with key {key}."
        target.delete(ns, key)
        return f"Forgot {key}."

    return [remember, recall, forget]
