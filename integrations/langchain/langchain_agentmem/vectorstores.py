"""AgentMemVectorStore: a LangChain `VectorStore` whose documents are agentmem memories.

Documents live in one namespace of a Memory (default `("documents",)`); a document's id is its
memory id, its metadata the memory's metadata, unchanged. Adding a document with an id that exists
updates that memory, keeping the old version in agentmem's history.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from agentmem import Memory


class AgentMemVectorStore(VectorStore):
    """Vector store over an agentmem Memory.

    Args:
        embedding: LangChain embeddings to encode with; `None` uses agentmem's default encoder.
        path: directory of the agentmem store (`None`: a private temporary one).
        memory: an open Memory to use instead of opening `path` (then `embedding` must be None).
        namespace: where the documents live inside the memory.
    """

    def __init__(
        self,
        embedding: Embeddings | None = None,
        *,
        path: str | Path | None = None,
        memory: Memory | None = None,
        namespace: tuple[str, ...] = ("documents",),
        controller: str = "cosine",
    ) -> None:
        if memory is not None and (path is not None or embedding is not None):
            raise ValueError("pass either memory= or path=/embedding=, not both")
        self._embedding = embedding
        self._owns_memory = memory is None
        # A VectorStore promises similarity search (cosine scores, relevance in [0, 1]), so its own
        # Memory reads with the cosine controller; a Memory passed in reads with its own controller.
        self.memory = memory if memory is not None else Memory(path, encoder=embedding, controller=controller)
        self.namespace = tuple(namespace)

    @property
    def embeddings(self) -> Embeddings | None:
        return self._embedding

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: Sequence[str | None] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        texts = list(texts)
        if not texts:
            return []
        chosen = [i or uuid.uuid4().hex for i in (ids or [None] * len(texts))]
        return self.memory.remember(texts, namespace=self.namespace, metadata=metadatas, ids=chosen)

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        """Delete these documents (all of this store's documents when `ids` is None)."""
        if ids is None:
            self.memory.forget(namespace=self.namespace)
        elif ids:
            self.memory.forget(ids=[i for i in ids if self._owns(i)])
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        records = [self.memory.get(i) for i in ids]
        return [
            Document(id=r.id, page_content=r.text, metadata=r.metadata)
            for r in records
            if r is not None and r.namespace == self.namespace
        ]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """The k best documents with agentmem's recall score: the cosine similarity under the cosine
        controller (this store's default), the learned controller's score under that one."""
        hits = self.memory.recall(query, k=k, namespace=self.namespace, filter=filter)
        return [(Document(id=h.id, page_content=h.text, metadata=h.metadata), h.score) for h in hits]

    def similarity_search(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter=filter)]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        return lambda cosine: (cosine + 1.0) / 2.0  # [-1, 1] -> [0, 1]

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | None,
        metadatas: list[dict] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> AgentMemVectorStore:
        store = cls(embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    def close(self) -> None:
        """Close the memory if this store opened it."""
        if self._owns_memory:
            self.memory.close()

    def _owns(self, id: str) -> bool:
        record = self.memory.get(id)
        return record is not None and record.namespace == self.namespace
