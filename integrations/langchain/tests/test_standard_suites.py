"""langchain-tests' standard integration suites for the retriever and the vector store.

The vector store suite brings its own deterministic fake embeddings (agentmem takes any
Embeddings); the retriever runs on agentmem's real default encoder. Both run on each storage backend.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langchain_agentmem import AgentMemRetriever, AgentMemVectorStore
from langchain_tests.integration_tests import RetrieversIntegrationTests, VectorStoreIntegrationTests

from agentmem import Memory

pytestmark = pytest.mark.backends("local", "postgres")

FACTS = [
    "Ada lives in Lisbon.",
    "Ada is allergic to peanuts.",
    "Ada's dog is called Biscuit.",
    "Ada works as a marine biologist.",
    "Ada plays the cello on Sundays.",
]


@pytest.fixture(scope="module", params=["local", "postgres"])
def ada_memory(request, tmp_path_factory, encoder) -> Iterator[Memory]:
    server = request.getfixturevalue("postgres") if request.param == "postgres" else None
    location = tmp_path_factory.mktemp("ada") if server is None else server.new_database()
    with Memory(location, encoder=encoder) as mem:
        mem.remember(FACTS, namespace=("user", "ada"))
        yield mem
    if server is not None:
        server.drop(location)


class TestAgentMemRetriever(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _memory(self, ada_memory: Memory) -> None:
        self.memory = ada_memory

    @property
    def retriever_constructor(self) -> type[AgentMemRetriever]:
        return AgentMemRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"memory": self.memory, "namespace": ("user", "ada")}

    @property
    def retriever_query_example(self) -> str:
        return "Where does Ada live?"


class TestAgentMemVectorStore(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, store_at) -> Iterator[AgentMemVectorStore]:
        store = AgentMemVectorStore(self.get_embeddings(), path=store_at("vs"))
        yield store
        store.close()


def test_retriever_ranks_by_meaning_and_reports_agentmem_view(ada_memory):
    [doc] = AgentMemRetriever(memory=ada_memory, namespace=("user", "ada"), k=1).invoke(
        "What pet does Ada have?"
    )
    assert doc.page_content == "Ada's dog is called Biscuit."
    assert (
        doc.metadata["agentmem"]["namespace"] == ["user", "ada"] and doc.metadata["agentmem"]["score"] > 0.3
    )


def test_vector_store_scores_filters_and_shared_memory(store_at, char_embeddings):
    with Memory(store_at("m"), encoder=char_embeddings, controller="cosine") as mem:
        store = AgentMemVectorStore(memory=mem, namespace=("docs",))
        store.add_texts(["aaaa", "aaab", "zzzz"], [{"n": 1}, {"n": 2}, {"n": 3}], ids=["a", "b", "z"])
        mem.remember("aaaa", namespace=("elsewhere",))  # outside the store's namespace
        pairs = store.similarity_search_with_score("aaaa", k=3)
        # a local store keeps keys as float16 (storage/local/sqlite.py): cosines move by under 1e-3
        assert [d.id for d, _ in pairs] == ["a", "b", "z"] and pairs[0][1] == pytest.approx(1.0, abs=1e-3)
        assert [d.id for d in store.similarity_search("aaaa", k=3, filter={"n": {"$gte": 2}})] == ["b", "z"]
        relevance = store.similarity_search_with_relevance_scores("aaaa", k=1)
        assert relevance[0][1] == pytest.approx(1.0, abs=1e-3)
        store.delete(["a", "missing"])
        assert store.get_by_ids(["a", "b"])[0].id == "b"
        store.delete()
        assert store.similarity_search("aaaa", k=3) == [] and len(mem) == 1
