"""Shared fixtures: deterministic character embeddings (as in LangGraph's own store tests) for the
store's behaviour; the real default encoder, where meaning matters, comes from ../../../conftest.py."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from typing import Any

import pytest
from langchain_agentmem import AgentMemStore
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field


class CharacterEmbeddings(Embeddings):
    """Character-frequency vectors through fixed random projections: texts sharing characters are
    close, so rankings are predictable without a model (the embeddings LangGraph tests its stores with).
    """

    def __init__(self, dims: int = 500, seed: int = 42) -> None:
        rng = random.Random(seed)
        self.dims = dims
        self._projections: dict[str, list[float]] = defaultdict(
            lambda: [rng.gauss(0, 1 / math.sqrt(dims)) for _ in range(dims)]
        )

    def _embed(self, text: str) -> list[float]:
        counts = Counter(text)
        total = sum(counts.values())
        vec = [0.0] * self.dims
        for char, n in counts.items():
            for i, p in enumerate(self._projections[char]):
                vec[i] += n / total * p
        norm = math.sqrt(sum(x * x for x in vec)) or 1.0
        return [x / norm for x in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


@pytest.fixture(scope="session")
def char_embeddings() -> CharacterEmbeddings:
    return CharacterEmbeddings()


@pytest.fixture
def make_store(char_embeddings):
    """Open an AgentMemStore at a path with the character embeddings, embedding `fields`."""

    def make(path, fields: list[str] | None = None, **kwargs) -> AgentMemStore:
        index = {"dims": char_embeddings.dims, "embed": char_embeddings}
        if fields is not None:
            index["fields"] = fields
        return AgentMemStore(path, index=index, **kwargs)

    return make


class ScriptedChatModel(BaseChatModel):
    """Stands in for the hosted LLM, the one thing these tests mock.

    Each call answers with the next scripted reply: an AIMessage, or a function of the messages the
    model was sent (to echo what it saw, or call a tool with an id read from an earlier result).
    Every call's messages are kept in `seen`, so tests can check what the middleware injected.
    """

    replies: list[Any]
    seen: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs: Any
    ) -> ChatResult:
        self.seen.append(list(messages))
        reply = self.replies[len(self.seen) - 1]
        message = reply(messages) if callable(reply) else reply
        return ChatResult(generations=[ChatGeneration(message=message)])

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedChatModel:
        return self


@pytest.fixture
def scripted():
    """`scripted(reply, ...)` -> a ScriptedChatModel answering with these replies in turn."""
    return lambda *replies: ScriptedChatModel(replies=list(replies))
