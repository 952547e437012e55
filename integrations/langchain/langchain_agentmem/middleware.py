"""AgentMemMiddleware: long-term memory for a LangChain 1.x agent, with no change to its prompt or tools.

Before each model call it recalls what is relevant to the latest user message from the run's
namespace and adds it to the system message as one delimited block; the block lives only in that
model request, never in the conversation state. After the agent's turn it remembers the turn's new
messages (user and assistant by default, tool results when asked), keyed by message id, so a message
is written once however often the thread is resumed. Messages that hold nothing to remember are left
out (`SkipRules`): filler ("Thanks, I'll remember that."), questions, and texts the namespace
already holds.

It talks to a LangGraph `BaseStore`: the one given, or the agent's own (`create_agent(...,
store=...)`). With an `AgentMemStore` the memories are agentmem's, recalled by its controller; any
other store with an index works too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain_core.messages import AnyMessage, SystemMessage
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore, GetOp, Item, PutOp, SearchOp

from langchain_agentmem.content import is_filler, is_question, normalized
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

# How many of the most similar memories a duplicate check compares with. A stored copy of a text
# (even in another case or spacing) embeds the same or nearly, so it ranks first; a few spare hits
# cover ties.
_DUPLICATE_PROBE = 5

_Candidate = tuple[str, dict[str, Any]]  # (message id, value to store)


@dataclass(frozen=True)
class SkipRules:
    """Which messages `AgentMemMiddleware` leaves out when it remembers a turn (the rules are in
    `langchain_agentmem.content`). Each is on by default; turn one off to store those messages too.

    Attributes:
        filler: messages with no content word, only acknowledgement, politeness and function words
            ("Thanks, I'll remember that.", "Sure!", "Got it.").
        questions: messages that ask and state nothing ("Where do I live?"): asking is not a fact.
        duplicates: messages whose text (case and whitespace aside) the namespace already holds,
            or that an earlier message of the same turn already said.
    """

    filler: bool = True
    questions: bool = True
    duplicates: bool = True


def format_memory(item: Item) -> str:
    """One memory as a line of the block: `- [2026-05-08] user: I moved to Lisbon.`"""
    value = item.value
    return f"- [{item.updated_at.date().isoformat()}] {value.get('role', 'note')}: {value.get('text', value)}"


class AgentMemMiddleware(AgentMiddleware):
    """Recall before the model call, remember after the agent turn.

    Args:
        store: where memories live; `None` uses the agent's store (`create_agent(store=...)`).
        namespace: a template filled from the run's context or its config's `configurable`
            (default `("memories", "{user_id}")`, so `agent.invoke(..., context={"user_id":
            "u42"})`), or a function of the `Runtime`.
        k: how many memories to inject.
        roles: which messages to remember: any of "user", "assistant", "tool".
        template: the injected block; `{memories}` receives one `format_memory` line per memory.
        formatter: turns a recalled `Item` into its line.
        skip: which messages not to remember (filler, questions, duplicates: all skipped by default).
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
        skip: SkipRules = SkipRules(),
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
        self.skip = skip

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
        new: list[_Candidate] = []
        for chunk in _newest_first_chunks(candidates):
            stored = store.batch([GetOp(namespace, key, refresh_ttl=False) for key, _ in chunk])
            if _take_unstored(chunk, stored, new):
                break
        new.reverse()  # collected newest first; written and checked oldest first
        if new and self.skip.duplicates:
            new = _unique(new, store.batch(_duplicate_probes(namespace, new)))
        if new:
            store.batch(self._puts(store, namespace, new))

    async def aafter_agent(self, state: AgentState, runtime: Runtime) -> None:
        store, namespace = self._where(runtime)
        candidates = self._candidates(state["messages"])
        new: list[_Candidate] = []
        for chunk in _newest_first_chunks(candidates):
            stored = await store.abatch([GetOp(namespace, key, refresh_ttl=False) for key, _ in chunk])
            if _take_unstored(chunk, stored, new):
                break
        new.reverse()  # collected newest first; written and checked oldest first
        if new and self.skip.duplicates:
            new = _unique(new, await store.abatch(_duplicate_probes(namespace, new)))
        if new:
            await store.abatch(self._puts(store, namespace, new))

    def _candidates(self, messages: Sequence[AnyMessage]) -> list[_Candidate]:
        """(key, value) of every message worth remembering, oldest first."""
        out = []
        for m in messages:
            role = _ROLES.get(m.type)
            text = str(m.text).strip()
            if role not in self.roles or not text or not m.id:
                continue
            if (self.skip.filler and is_filler(text)) or (self.skip.questions and is_question(text)):
                continue
            value = {"text": text, "role": role}
            if role == "tool" and getattr(m, "name", None):
                value["tool"] = m.name
            out.append((m.id, value))
        return out

    def _puts(self, store: BaseStore, namespace: tuple[str, ...], new: list[_Candidate]) -> list[PutOp]:
        ttl = (store.ttl_config or {}).get("default_ttl")
        # Oldest first, so write order (and agentmem's temporal links) follows the conversation.
        return [PutOp(namespace, key, value, index=["text"], ttl=ttl) for key, value in new]

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


def _newest_first_chunks(candidates: list[_Candidate]) -> list[list[_Candidate]]:
    newest_first = candidates[::-1]
    return [newest_first[i : i + _CHECK_CHUNK] for i in range(0, len(newest_first), _CHECK_CHUNK)]


def _take_unstored(chunk: list[_Candidate], stored: list[Any], new: list[_Candidate]) -> bool:
    """Collect the chunk's messages newer than the newest stored one; True once one was stored."""
    for candidate, item in zip(chunk, stored, strict=True):
        if item is not None:
            return True
        new.append(candidate)
    return False


def _duplicate_probes(namespace: tuple[str, ...], new: list[_Candidate]) -> list[SearchOp]:
    """Two searches per message for a stored copy of its text: an exact match on the `text` field
    (any store, indexed or not) and the most similar memories (a copy in another case or spacing,
    or under another field, as LangMem's `content`)."""
    ops = []
    for _, value in new:
        # A check is not a use: it leaves the TTL of what it finds alone.
        ops.append(SearchOp(namespace, filter={"text": value["text"]}, limit=1, refresh_ttl=False))
        ops.append(SearchOp(namespace, query=value["text"], limit=_DUPLICATE_PROBE, refresh_ttl=False))
    return ops


def _unique(new: list[_Candidate], found: list[Any]) -> list[_Candidate]:
    """The messages whose text neither the namespace nor an earlier message of the batch holds."""
    seen: set[str] = set()
    for hits in found:
        for item in hits:
            seen.update(normalized(v) for k in ("text", "content") if isinstance(v := item.value.get(k), str))
    out = []
    for key, value in new:
        text = normalized(value["text"])
        if text not in seen:
            seen.add(text)
            out.append((key, value))
    return out
