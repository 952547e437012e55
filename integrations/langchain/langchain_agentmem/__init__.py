"""langchain-agentmem: agentmem as LangGraph's store, a LangChain agent middleware, tools, a retriever
and a vector store.

- `AgentMemStore`: drop-in `BaseStore` (`create_agent(..., store=AgentMemStore("./memory"))`).
- `AgentMemMiddleware`: recall before the model call, remember after the turn (`SkipRules`: what
  it leaves out).
- `create_memory_tools()`: `remember`, `recall`, `update_memory`, `forget` for agent-directed memory.
- `AgentMemRetriever`, `AgentMemVectorStore`: recall for chains and RAG.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("langchain-agentmem")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

from langchain_agentmem.middleware import AgentMemMiddleware, SkipRules
from langchain_agentmem.retrievers import AgentMemRetriever
from langchain_agentmem.store import AgentMemStore
from langchain_agentmem.tools import create_memory_tools
from langchain_agentmem.vectorstores import AgentMemVectorStore

__all__ = [
    "AgentMemMiddleware",
    "AgentMemRetriever",
    "AgentMemStore",
    "AgentMemVectorStore",
    "SkipRules",
    "__version__",
    "create_memory_tools",
]
