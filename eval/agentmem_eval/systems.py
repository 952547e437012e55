"""Systems under test, all behind one interface.

A system is one memory, filled with an episode's turns in order (`add`) and asked questions in between
(`search`). It answers with the positions of turns in the episode, best first. The vectors every
vector-based system needs are computed once by the runner (`CachedEncoder`) and handed in, so encoding
time is shared, cached, and kept out of the latency figures of every system alike.

- agentmem: `agentmem.Memory` with its default controller (event_time from session dates, speaker in
  metadata); one private store per episode.
- zsum: the same Memory, written by the same write gate, read over the same candidates (dense top-K,
  lexical top-K, temporal neighbours), but ranked by an untrained scorer: z(cos) + z(BM25), the
  standardised sum of the two, nothing learned. A fresh `Scorer(config)` is exactly that (read
  strength softplus(0.55) ~ 1, lexical weight 1, every other weight 0), so the system loads agentmem's
  controller and replaces its scorer with a fresh one built from the controller's own scoring config:
  what the trained read adds over its untrained starting point, with writes and candidates held fixed.
- lexical: the same Memory ranked by its own BM25 index alone (`SlotReader.lexical`): what agentmem's
  lexical candidates give without the dense half or any scoring.
- dense: a flat inner-product FAISS index over the same unit vectors (exact cosine).
- bm25: bm25s (Lucene BM25 variant by default), re-indexed after each batch of additions (bm25s has no
  incremental add).
- hybrid: reciprocal rank fusion (RRF, k=60) of dense and bm25.
- recency: the last k turns, most recent first.
- full-context: every turn that fits in the last T tokens; a set, not a ranking (`ranked = False`):
  what an LLM with a T-token window would see, so its recall@k does not depend on k.

The agentmem family (agentmem, zsum, lexical) maps a hit to the turn named in the memory's metadata
(`pos`). agentmem's write gate may fold a turn into an earlier memory (a duplicate is skipped; an update
rewrites the memory with the newer turn's text and metadata), so one memory can hold several turns
while naming one. These systems also keep which memory each turn went to (`AbsorbingSystem`), so the
runner can score both ways: the raw ranking of named turns, and the ranking of memories with each gold
turn found when the memory that absorbed it is returned.
"""

from __future__ import annotations

import copy
import functools
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import numpy as np

from agentmem.episodes import Turn


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    vector: np.ndarray | None = None  # (d,) unit query vector, when the system needs one
    time: datetime | None = None


class System(Protocol):
    """name; needs_vectors: whether `add`/`search` need vectors; ranked: False for set-valued answers."""

    name: str
    needs_vectors: bool
    ranked: bool

    def add(self, turns: Sequence[Turn], vectors: np.ndarray | None) -> None:
        """Observe more turns (appended after those already added; positions continue)."""

    def search(self, query: Query, k: int) -> list[int]:
        """Positions of the best turns, best first (at most k for ranked systems)."""

    def footprint(self) -> int:
        """Bytes the memory holds now."""

    def close(self) -> None: ...


@runtime_checkable
class AbsorbingSystem(Protocol):
    """A system whose memories may each hold several turns (agentmem's write gate merges them).

    memory_of: the id of the memory each added turn went to, by position (what `remember` returned).
    shown: the position of the turn each memory names now (its metadata's `pos`): the turn its hits
        count as in the raw ranking.
    last_hits: the memory ids of the last `search`, best first (the same hits as its positions).
    """

    memory_of: list[str]
    shown: dict[str, int]
    last_hits: list[str]


class DenseSystem:
    """Exact cosine search over unit vectors (FAISS IndexFlatIP)."""

    name, needs_vectors, ranked = "dense", True, True

    def __init__(self, dim: int) -> None:
        import faiss

        # Small query batches are 11-13x slower through BLAS on this kind of CPU, and one query at a time
        # gains nothing from OpenMP threads, which spin against each other on a shared machine.
        faiss.cvar.distance_compute_blas_threshold = 20
        faiss.omp_set_num_threads(1)
        self.index = faiss.IndexFlatIP(dim)

    def add(self, turns: Sequence[Turn], vectors: np.ndarray | None) -> None:
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, query: Query, k: int) -> list[int]:
        k = min(k, self.index.ntotal)
        if k == 0:
            return []
        _, ids = self.index.search(query.vector.reshape(1, -1).astype(np.float32), k)
        return [int(i) for i in ids[0] if i >= 0]

    def footprint(self) -> int:
        return self.index.ntotal * self.index.d * 4

    def close(self) -> None:
        self.index.reset()


# bm25s's 33 English stop words plus question words, auxiliaries and pronouns: questions are full of
# them ("What did Caroline ...?"), and on locomo-dev leaving them in costs BM25 ~5 points of recall@10.
_STOPWORDS = (
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these "
    "they this to was will with what did when how who where why which does do were has have had you your "
    "i me my we our he she his her them"
)
STOPWORDS = tuple(_STOPWORDS.split())


@dataclass
class BM25Config:
    """bm25s settings. method: "lucene" (default), "robertson" (textbook), "atire", "bm25l", "bm25+".
    stopwords: a word list, a bm25s list name ("en"), or None; stemmer: a PyStemmer language or None."""

    k1: float = 1.5
    b: float = 0.75
    method: str = "lucene"
    stopwords: list[str] | str | None = field(default_factory=lambda: list(STOPWORDS))
    stemmer: str | None = None


@functools.cache
def _bm25s() -> Any:
    """bm25s, imported on first use, with its logger at WARNING: importing bm25s sets that logger to DEBUG,
    which sends lines such as "Building index from IDs objects" to every handler the application set up
    (the terminal, under `agentmem`), while its warnings still show."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class BM25System:
    """Lexical retrieval with bm25s; the index is rebuilt after each `add` (bm25s cannot append)."""

    name, needs_vectors, ranked = "bm25", False, True

    def __init__(self, config: BM25Config | None = None) -> None:
        self.config = config or BM25Config()
        self.texts: list[str] = []
        self.retriever: Any = None
        self._stemmer = None
        if self.config.stemmer:
            import Stemmer

            self._stemmer = Stemmer.Stemmer(self.config.stemmer).stemWord

    def _tokenize(self, texts: list[str], ids: bool) -> Any:
        return _bm25s().tokenize(texts, stopwords=self.config.stopwords or [], stemmer=self._stemmer,
                              return_ids=ids, show_progress=False)

    def add(self, turns: Sequence[Turn], vectors: np.ndarray | None) -> None:
        self.texts.extend(t.text for t in turns)
        self.retriever = _bm25s().BM25(k1=self.config.k1, b=self.config.b, method=self.config.method)
        self.retriever.index(self._tokenize(self.texts, True), show_progress=False)

    def search(self, query: Query, k: int) -> list[int]:
        k = min(k, len(self.texts))
        if k == 0:
            return []
        tokens = self._tokenize([query.text], False)
        if not any(t in self.retriever.vocab_dict for t in tokens[0]):
            return []  # nothing in common with any turn: no evidence, not an arbitrary order
        ids, scores = self.retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return [int(i) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]

    def footprint(self) -> int:
        if self.retriever is None:
            return 0
        arrays = [v for v in self.retriever.scores.values() if isinstance(v, np.ndarray)]
        return sum(a.nbytes for a in arrays) + sum(len(w) + 8 for w in self.retriever.vocab_dict)

    def close(self) -> None:
        self.texts, self.retriever = [], None


@dataclass
class HybridConfig:
    """rrf_k: the RRF constant (60, as in Cormack et al. 2009); depth: how deep each list is fused."""

    rrf_k: int = 60
    depth: int = 100
    bm25: BM25Config = field(default_factory=BM25Config)


class HybridSystem:
    """Reciprocal rank fusion of dense and bm25: score(d) = sum over lists of 1 / (rrf_k + rank(d))."""

    name, needs_vectors, ranked = "hybrid", True, True

    def __init__(self, dim: int, config: HybridConfig | None = None) -> None:
        self.config = config or HybridConfig()
        self.dense, self.bm25 = DenseSystem(dim), BM25System(self.config.bm25)

    def add(self, turns: Sequence[Turn], vectors: np.ndarray | None) -> None:
        self.dense.add(turns, vectors)
        self.bm25.add(turns, vectors)

    def search(self, query: Query, k: int) -> list[int]:
        depth = max(k, self.config.depth)
        scores: dict[int, float] = {}
        for ranking in (self.dense.search(query, depth), self.bm25.search(query, depth)):
            for rank, pos in enumerate(ranking, start=1):
                scores[pos] = scores.get(pos, 0.0) + 1.0 / (self.config.rrf_k + rank)
        # sorted() is stable and dense came first, so ties keep the dense order.
        return sorted(scores, key=scores.__getitem__, reverse=True)[:k]

    def footprint(self) -> int:
        return self.dense.footprint() + self.bm25.footprint()

    def close(self) -> None:
        self.dense.close()
        self.bm25.close()


class RecencySystem:
    """The last k turns, most recent first: what a sliding-window chat history keeps."""

    name, needs_vectors, ranked = "recency", False, True

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def add(self, turns: Sequence[Turn], vectors: np.ndarray | None) -> None:
        self.sizes.extend(len(t.text.encode()) for t in turns)

    def search(self, query: Query, k: int) -> list[int]:
        n = len(self.sizes)
        return list(range(n - 1, max(n - k, 0) - 1, -1))

    def footprint(self) -> int:
        return sum(self.sizes)

    def close(self) -> None:
        self.sizes = []


@dataclass
class FullContextConfig:
    """tokens: the context window T; chars_per_token: the usual ~4 characters per token estimate,
    so the window does not depend on one model's tokenizer."""

    tokens: int = 8192
    chars_per_token: float = 4.0


class FullContextSystem:
    """Every turn that fits, newest first, in the last `tokens` tokens of the history (k is ignored)."""

    name, needs_vectors, ranked = "full-context", False, False

    def __init__(self, config: FullContextConfig | None = None) -> None:
        self.config = config or FullContextConfig()
        self.lengths: list[int] = []

    def add(self, turns: Sequence[Turn], vectors: np.ndarray | None) -> None:
        self.lengths.extend(len(t.text) for t in turns)

    def search(self, query: Query, k: int) -> list[int]:
        budget = self.config.tokens * self.config.chars_per_token
        out: list[int] = []
        for pos in range(len(self.lengths) - 1, -1, -1):
            budget -= self.lengths[pos]
            if budget < 0:
                break
            out.append(pos)
        return out

    def footprint(self) -> int:
        return sum(self.lengths)

    def close(self) -> None:
        self.lengths = []


@dataclass
class AgentMemConfig:
    """controller / index / memory (a `MemoryConfig`): passed to `agentmem.Memory` (None: the library's
    defaults). postgres: a postgresql:// URL to keep each episode's store in, a PostgreSQL schema of its
    own in that database, dropped when the episode ends (None: a temporary directory)."""

    controller: Any = None
    index: str | None = None
    memory: Any = None
    postgres: str | None = None


class AgentMemSystem:
    """`agentmem.Memory`, one private temporary store per episode, fed the shared vectors.

    controller: the controller to use instead of `config.controller` (zsum passes its own)."""

    name, needs_vectors, ranked = "agentmem", True, True

    def __init__(self, encoder: Any, config: AgentMemConfig | None = None, controller: Any = None) -> None:
        from agentmem import Memory

        self.config = config or AgentMemConfig()
        kwargs: dict[str, Any] = {"encoder": encoder}
        if controller is None:
            controller = self.config.controller
        if controller is not None:
            kwargs["controller"] = controller
        if self.config.index is not None:
            kwargs["index"] = self.config.index
        if self.config.memory is not None:
            kwargs["config"] = copy.deepcopy(self.config.memory)  # a Memory may set fields of its config
        self.schema: str | None = None
        if self.config.postgres is None:
            self.memory = Memory(None, **kwargs)
        else:
            from agentmem import MemoryConfig

            kwargs.setdefault("config", MemoryConfig())
            self.schema = kwargs["config"].postgres.schema = f"eval_{uuid.uuid4().hex[:12]}"
            self.memory = Memory(self.config.postgres, **kwargs)
        self.n = 0
        self.memory_of: list[str] = []
        self.shown: dict[str, int] = {}
        self.last_hits: list[str] = []

    def add(self, turns: Sequence[Turn], vectors: np.ndarray | None) -> None:
        metadata = [{"pos": self.n + i, "turn": t.id, "session": t.session, "speaker": t.speaker}
                    for i, t in enumerate(turns)]
        ids = self.memory.remember([t.text for t in turns], metadata=metadata, event_time=[t.time for t in turns],
                                   embeddings=np.ascontiguousarray(vectors, dtype=np.float32))
        merged: set[str] = set()
        for i, memory_id in enumerate(ids):
            if memory_id in self.shown:
                merged.add(memory_id)  # skipped into, or updated by, this turn: which turn it names is read back
            else:
                self.shown[memory_id] = self.n + i
        for memory_id in merged:
            record = self.memory.get(memory_id)
            if record is not None:
                self.shown[memory_id] = int(record.metadata["pos"])
        self.memory_of.extend(ids)
        self.n += len(turns)

    def search(self, query: Query, k: int) -> list[int]:
        # Reads leave usage untouched so results do not depend on the order questions are asked.
        hits = self.memory.recall(query.text, k=k, embedding=query.vector, query_time=query.time, track_usage=False)
        self.last_hits = [h.id for h in hits]
        return [int(h.metadata["pos"]) for h in hits]

    def footprint(self) -> int:
        return int(self.memory.stats().get("bytes_on_disk", 0))

    def close(self) -> None:
        self.memory.close()
        if self.schema is not None:
            import psycopg

            with psycopg.connect(self.config.postgres, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {self.schema} CASCADE")


def zsum_controller(spec: Any = None) -> Any:
    """agentmem's controller (`spec`: what `AgentMemConfig.controller` holds; None: the packaged learned
    one) with its scorer replaced by a fresh, untrained one built from the controller's own scoring
    config. The write gate and the candidate gathering stay as trained, so writes and candidates are
    agentmem's, and a fresh scorer ranks by z(cos) + z(BM25) whatever parameters the trained one has;
    its hits are the top k by that score (no redundancy penalty, which the recipe chooses for the
    trained scorer).

    Raises ValueError for a controller with no learned scorer (the cosine baseline)."""
    from agentmem.controller import resolve_controller
    from agentmem.controller.learned import LearnedController
    from agentmem.controller.scoring import Scorer

    loaded = resolve_controller("learned" if spec is None else spec)
    if not isinstance(loaded, LearnedController):
        raise ValueError(f"zsum ranks agentmem's candidates with an untrained learned scorer, and controller "
                         f"{getattr(loaded, 'name', spec)!r} has none; drop zsum from the systems or use the "
                         "learned controller")
    controller = copy.deepcopy(loaded)  # a controller instance may be shared with the agentmem system
    controller.config.scoring.redundancy = 0.0
    controller.scorer = Scorer(controller.config.scoring)
    controller.eval()
    return controller


class ZSumSystem(AgentMemSystem):
    """agentmem's memory read by the untrained z(cos) + z(BM25) sum (`zsum_controller`)."""

    name = "zsum"


class LexicalSystem(AgentMemSystem):
    """agentmem's memory ranked by its own lexical (BM25) index alone.

    The evaluation reads each memory from one thread, so the reader is taken without the Memory's lock."""

    name = "lexical"

    def search(self, query: Query, k: int) -> list[int]:
        backend = self.memory.backend
        with backend.errors():
            reader = backend.reader()
            found = reader.lexical(query.text, k)
            rows = reader.rows([slot for slot, _ in found])
        hits = [rows[slot] for slot, _ in found if slot in rows]
        self.last_hits = [row.id for row in hits]
        return [int(row.metadata["pos"]) for row in hits]


SYSTEMS = ("agentmem", "zsum", "lexical", "dense", "bm25", "hybrid", "recency", "full-context")
# The runner encodes only when one of these runs (zsum and lexical write through agentmem's write gate,
# which weighs each turn by its vector).
NEEDS_VECTORS = frozenset({"agentmem", "zsum", "lexical", "dense", "hybrid"})


@dataclass
class SystemsConfig:
    """Settings of every system; `factory` turns a name into a fresh system for one episode."""

    bm25: BM25Config = field(default_factory=BM25Config)
    hybrid: HybridConfig = field(default_factory=HybridConfig)
    full_context: FullContextConfig = field(default_factory=FullContextConfig)
    agentmem: AgentMemConfig = field(default_factory=AgentMemConfig)

    def factory(self, name: str, encoder: Any) -> Callable[[], System]:
        """`encoder` is the agentmem Encoder (for its dim, and for Memory so store and vectors agree).
        zsum's controller is built here, once for every episode."""
        if name == "zsum":
            controller = zsum_controller(self.agentmem.controller)
            return lambda: ZSumSystem(encoder, self.agentmem, controller)
        makers: dict[str, Callable[[], System]] = {
            "agentmem": lambda: AgentMemSystem(encoder, self.agentmem),
            "lexical": lambda: LexicalSystem(encoder, self.agentmem),
            "dense": lambda: DenseSystem(encoder.dim),
            "bm25": lambda: BM25System(self.bm25),
            "hybrid": lambda: HybridSystem(encoder.dim, self.hybrid),
            "recency": RecencySystem,
            "full-context": lambda: FullContextSystem(self.full_context),
        }
        if name not in makers:
            raise ValueError(f"unknown system {name!r}; choose from {', '.join(SYSTEMS)}")
        return makers[name]
