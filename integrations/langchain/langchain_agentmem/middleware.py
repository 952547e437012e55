"""AgentMemMiddleware: long-term memory for a LangChain 1.x agent, with no change to its prompt or tools.

Before each model call it recalls what is relevant to the latest user message from the run's
namespace and adds it to the system message as one delimited block; the block lives only in that
model request, never in the conversation state. After the agent's turn it remembers the turn's new
messages (user and assistant by default, tool results when asked), keyed by message id, so a message
is written once however often the thread is resumed.

It talks to a LangGraph `BaseStore`: the one given, or the agent's own (`create_agent(...,
store=...)`). With an `AgentMemStore` the memories are agentmem's, recalled by its controller; any
other store with an index works too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain_core.messages import AnyMessage, SystemMessage
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore, GetOp, Item, PutOp

from langchain_agentmem.namespaces import DEFAULT_NAMESPACE, NamespaceSpec, resolve_namespace

DEFAULT_TEMPLATE = (
    "<memories>\n"
    "What you remember from earlier conversations, most relevant first (dates are when it was said; "
    "newer wins). Use it when it helps; do not mention this block.\n"
    "{memories}\n"
    "</memories>"
)

# LangChain message types -> the role names the memories carry.
_ROLES = {"human": "user", "ai": "assistant", "tool": "tool"}

# How many stored-or-not checks one round trip to the store makes when looking for new messages.
_CHECK_CHUNK = 16


def format_memory(item: Item) -> str:
    """One memory as a line of the block: `- [2026-05-08] user: I moved to Lisbon.`"""
    value = item.value
    return f"- [{item.updated_at.date().isoformat()}] {value.get('role', 'note')}: {value.get('text', value)}"


class AgentMemMiddleware(AgentMiddleware):
    """Recall before the model call, remember after the agent turn.

    Args:
        store: where memories live; `None` uses the agent's store (`create_agent(store=...)`).
        namespace: a template filled from the run's context (default `("memories", "{user_id}")`,
            so `agent.invoke(..., context={"user_id": "u42"})`), or a function of the `Runtime`.
        k: how many memories to inject.
        roles: which messages to remember: any of "user", "assistant", "tool".
        template: the injected block; `{memories}` receives one `format_memory` line per memory.
        formatter: turns a recalled `Item` into its line.
    """

    def __init__(
        self,
        store: BaseStore | None = None,
        *,
        namespace: NamespaceSpec = DEFAULT_NAMESPACE,
        k: int = 5,
        roles: Collection[str] = ("user", "assistant"),
        template: str = DEFAULT_TEMPLATE,
        formatter: Callable[[Item], str] = format_memory,
    ) -> None:
        super().__init__()
        unknown = set(roles) - set(_ROLES.values())
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)}; choose from {sorted(_ROLES.values())}")
        if "{memories}" not in template:
            raise ValueError("template must contain '{memories}'")
        self.store = store
        self.namespace = namespace
        self.k = k
        self.roles = frozenset(roles)
        self.template = template
        self.formatter = formatter

    # -- recall, before each model call ----------------------------------------------------------

    def wrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
    ) -> ModelResponse:
        query = _latest_user_text(request.messages)
        if query is None:
            return handler(request)
        store, namespace = self._where(request.runtime)
        found = store.search(namespace, query=query, limit=2 * self.k)
        return handler(self._inject(request, found))

    async def awrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], Awaitable[ModelResponse]]
    ) -> ModelResponse:
        query = _latest_user_text(request.messages)
        if query is None:
            return await handler(request)
        store, namespace = self._where(request.runtime)
        found = await store.asearch(namespace, query=query, limit=2 * self.k)
        return await handler(self._inject(request, found))

    def _inject(self, request: ModelRequest, found: Sequence[Item]) -> ModelRequest:
        # Messages already in the prompt would only repeat themselves (hence 2k were fetched).
        in_prompt = {m.id for m in request.messages if m.id}
        recalled = [item for item in found if item.key not in in_prompt][: self.k]
        if not recalled:
            return request
        block = self.template.format(memories="\n".join(self.formatter(item) for item in recalled))
        return request.override(system_message=_with_block(request.system_message, block))

    # -- remember, after the agent turn ---------------------------------------------------------

    def after_agent(self, state: AgentState, runtime: Runtime) -> None:
        store, namespace = self._where(runtime)
        candidates = self._candidates(state["messages"])
        new: list[tuple[str, dict[str, Any]]] = []
        for chunk in _newest_first_chunks(candidates):
            stored = store.batch([GetOp(namespace, key, refresh_ttl=False) for key, _ in chunk])
            if _take_unstored(chunk, stored, new):
                break
        if new:
            store.batch(self._puts(store, namespace, new))

    async def aafter_agent(self, state: AgentState, runtime: Runtime) -> None:
        store, namespace = self._where(runtime)
        candidates = self._candidates(state["messages"])
        new: list[tuple[str, dict[str, Any]]] = []
        for chunk in _newest_first_chunks(candidates):
            stored = await store.abatch([GetOp(namespace, key, refresh_ttl=False) for key, _ in chunk])
            if _take_unstored(chunk, stored, new):
                break
        if new:
            await store.abatch(self._puts(store, namespace, new))

    def _candidates(self, messages: Sequence[AnyMessage]) -> list[tuple[str, dict[str, Any]]]:
        """(key, value) of every message worth remembering, oldest first."""
        out = []
        for m in messages:
            role = _ROLES.get(m.type)
            text = str(m.text).strip()
            if role in self.roles and text and m.id:
                value = {"text": text, "role": role}
                if role == "tool" and getattr(m, "name", None):
                    value["tool"] = m.name
                out.append((m.id, value))
        return out

    def _puts(self, store: BaseStore, namespace: tuple[str, ...], new: list[tuple[str, dict]]) -> list[PutOp]:
        ttl = (store.ttl_config or {}).get("default_ttl")
        # Oldest first, so write order (and agentmem's temporal links) follows the conversation.
        return [PutOp(namespace, key, value, index=["text"], ttl=ttl) for key, value in reversed(new)]

    def _where(self, runtime: Any) -> tuple[BaseStore, tuple[str, ...]]:
        store = self.store or getattr(runtime, "store", None)
        if store is None:
            raise ValueError("AgentMemMiddleware needs a store: pass store= or create_agent(..., store=...)")
        return store, resolve_namespace(self.namespace, runtime)


def _latest_user_text(messages: Sequence[AnyMessage]) -> str | None:
    for m in reversed(messages):
        if m.type == "human":
            return str(m.text).strip() or None
    return None


def _with_block(system: SystemMessage | None, block: str) -> SystemMessage:
    if system is None:
        return SystemMessage(content=block)
    if isinstance(system.content, str):
        return SystemMessage(content=f"{system.content}\n\n{block}" if system.content else block)
    return SystemMessage(content=[*system.content, {"type": "text", "text": block}])


def _newest_first_chunks(candidates: list[tuple[str, dict]]) -> list[list[tuple[str, dict]]]:
    newest_first = candidates[::-1]
    return [newest_first[i : i + _CHECK_CHUNK] for i in range(0, len(newest_first), _CHECK_CHUNK)]


def _take_unstored(chunk: list[tuple[str, dict]], stored: list[Any], new: list[tuple[str, dict]]) -> bool:
    """Collect the chunk's messages newer than the newest stored one; True once one was stored."""
    for candidate, item in zip(chunk, stored, strict=True):
        if item is not None:
            return True
        new.append(candidate)
    return False
