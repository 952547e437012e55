"""AgentMemRetriever: agentmem's recall as a LangChain retriever, for chains and RAG pipelines."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from agentmem import Memory
from agentmem.records import RecallResult


def to_document(hit: RecallResult) -> Document:
    """A recalled memory as a Document; agentmem's view of it (score, why, ...) under "agentmem"."""
    return Document(
        id=hit.id,
        page_content=hit.text,
        metadata={
            **hit.metadata,
            "agentmem": {
                "score": hit.score,
                "weight": hit.weight,
                "why": hit.why,
                "namespace": list(hit.namespace),
                "created_at": hit.record.created_at.isoformat(),
            },
        },
    )


class AgentMemRetriever(BaseRetriever):
    """Recall the `k` memories most relevant to a query.

    `retriever.invoke("where does Ada live?", k=3)` overrides `k` per call.

    Args:
        memory: the open `agentmem.Memory` to recall from.
        k: how many memories to return.
        namespace: a namespace prefix to search under (None: the whole memory).
        filter: an agentmem metadata filter, e.g. `{"role": "user"}` or `{"n": {"$gte": 3}}`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memory: Memory
    k: int = 4
    namespace: tuple[str, ...] | None = None
    filter: dict[str, Any] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        hits = self.memory.recall(query, k=k or self.k, namespace=self.namespace, filter=self.filter)
        return [to_document(hit) for hit in hits]
