"""The chat model the examples use: a real provider when one is configured, else a scripted stand-in.

Set `AGENTMEM_CHAT_MODEL` to any `init_chat_model` spec (e.g. `openai:gpt-4o-mini`, with the
provider's package installed and its API key set) to run the examples against a real LLM.

Without it, `OfflineChatModel` answers by rule so the examples run offline and deterministically:
a statement gets an acknowledgement, a question gets the user's own words from the memories that
`AgentMemMiddleware` injected into its system prompt. It has no knowledge of its own, so whatever it
answers about the user came through agentmem.
"""

from __future__ import annotations

import os
import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult

# A memory line as AgentMemMiddleware formats it: "- [2026-05-08] user: I live in Lisbon."
_USER_MEMORY = re.compile(r"^- \[[^\]]*\] user: (.+)$", re.MULTILINE)


class OfflineChatModel(BaseChatModel):
    """Acknowledges statements; answers questions by quoting the two most relevant user memories."""

    @property
    def _llm_type(self) -> str:
        return "offline-scripted"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        system = "".join(m.text for m in messages if isinstance(m, SystemMessage))
        question = next(m.text for m in reversed(messages) if m.type == "human").strip()
        if not question.endswith("?"):
            answer = "Thanks, I'll remember that."
        elif recalled := _USER_MEMORY.findall(system)[:2]:
            answer = "From what you told me before: " + " ".join(f'"{text}"' for text in recalled)
        else:
            answer = "I don't know that yet."
        return ChatResult(generations=[ChatGeneration(message=AIMessage(answer))])

    def bind_tools(self, tools: Any, **kwargs: Any) -> OfflineChatModel:
        return self  # it never calls tools


def chat_model() -> BaseChatModel:
    """The configured provider's model, or the offline stand-in."""
    spec = os.environ.get("AGENTMEM_CHAT_MODEL")
    if not spec:
        return OfflineChatModel()
    from langchain.chat_models import init_chat_model

    return init_chat_model(spec)
