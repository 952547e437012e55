"""Turning item texts and search queries into vectors, on the sync or the async path.

The store embeds everything a batch needs in one call before it touches the memory, then hands the
vectors to `Memory.remember(embeddings=...)` / `Memory.recall(embedding=...)`. That keeps one code
path for `batch` and `abatch`: only the embedding differs, and an async `Embeddings` (or async
embedding function) is awaited natively instead of blocking the event loop.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from agentmem.encoder import Encoder, normalize

_SURROGATE = re.compile("[\ud800-\udfff]")


class Embedder:
    """Embeds with the memory's encoder; awaits `embeddings` natively on the async path when given."""

    def __init__(self, encoder: Encoder, embeddings: Embeddings | None = None) -> None:
        self.encoder = encoder
        self.embeddings = embeddings

    def documents(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode(self._given(texts)) if texts else self._empty()

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode_queries(self._given(texts)) if texts else self._empty()

    async def adocuments(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return self._empty()
        if self.embeddings is None:  # a local model: run it off the event loop
            return await asyncio.to_thread(self.encoder.encode, self._given(texts))
        return normalize(np.asarray(await self.embeddings.aembed_documents(list(texts)), dtype=np.float32))

    async def aqueries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return self._empty()
        if self.embeddings is None:
            return await asyncio.to_thread(self.encoder.encode_queries, self._given(texts))
        vectors = await asyncio.gather(*(self.embeddings.aembed_query(t) for t in texts))
        return normalize(np.asarray(vectors, dtype=np.float32))

    def _given(self, texts: Sequence[str]) -> list[str]:
        """The texts as the encoder takes them: LangChain embeddings get them as they are (as
        InMemoryStore gives them), a local model's tokenizer without lone surrogates (U+FFFD)."""
        if self.embeddings is not None:
            return list(texts)
        return [_SURROGATE.sub("\ufffd", t) for t in texts]

    def _empty(self) -> np.ndarray:
        return np.zeros((0, self.encoder.dim), dtype=np.float32)
