"""LexicalIndex: BM25 top-K over the slot texts, in memory, a cache of the store like the dense index.

A memory's document is its text, then the distinct texts of the versions it superseded. An updated
memory's key merges the old and new keys (controller/write_gate.py, `merge_keys`), so it stays findable
by how the fact was first put; its words should too: "What car does Ana drive?" must find "Ana sold the
Fiat and bought a Dacia", which updated "Ana drives a Fiat". The versions are joined by " ¶ ", no word
and no space, so no name phrase ("Dacia Ana") spans two versions; a metadata edit keeps the text, so it
adds no second copy of it.

Why not SQLite FTS5: FTS5 scores every row that shares a word with the query before it can rank them,
which at a hundred thousand memories costs more than the rest of a learned read. Here a term's postings
are numpy arrays and a query is one vectorised pass over each query term's postings.

Scoring is FTS5's BM25 (Robertson & Zaragoza 2009), with N, n(t) and avgdl over the live memories:

    score(q, D) = Σ_{t ∈ q} idf(t) · f(t, D)(k1 + 1) / (f(t, D) + k1 (1 − b + b |D| / avgdl))
    idf(t)      = ln((N − n(t) + 0.5) / (n(t) + 0.5)), floored at 1e-6 (a term in most memories
                  still counts a little, as in FTS5)

Tokens are lower-cased words with diacritics folded, stemmed by the Snowball English stemmer; |D|
counts every token, stop words included, but stop words are neither indexed nor queried. Names are
terms too: each pair of capitalised words in a row ("Ana Silva", "New York") is indexed and queried
as one phrase term ("ana silva"), so a question about Yusuf Fischer favours memories that name him over
those about Omar Fischer or Yusuf Sato, which the single words score alike.

Tenants (a namespace's first segment, tenants.py): a read scoped to a namespace scores its tenant's
memories only, with its tenant's statistics (N, n(t) and avgdl over the tenant's live memories), so
what one tenant stores never moves another's scores, and a scoped read's cost follows its tenant's
postings, not the store's. The base numbers its docs tenant by tenant, so one tenant's postings of a
term are one contiguous run, found by binary search. Unscoped reads score every memory with the store's
statistics.

Layout, log-structured as a search engine's segments: an immutable CSR *base* (term -> doc numbers
ascending, and term frequencies) plus a small *tail* of postings added since. A removed memory's doc number is
marked dead and skipped; once the tail or the dead docs pass a share of the base, both are merged into
a new base. Like the FAISS index, it is saved to `lexical.npz` with the change-log position it reflects
and caught up by replaying the log; a missing, stale or unreadable file is rebuilt from the store.
"""

from __future__ import annotations

import functools
import logging
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import Stemmer

from agentmem.storage.local.changelog import ChangeLogCache, read_stamp, save_npz
from agentmem.storage.local.sqlite import SlotStore
from agentmem.storage.local.tenants import tenant_of
from agentmem.text import STOPWORDS, WORD, fold, name_phrases

log = logging.getLogger("agentmem")
LEXICAL_FILE = "lexical.npz"
_FORMAT = "agentmem-lexical/4"
VERSION_SEPARATOR = " ¶ "  # between a memory's text and the texts it superseded, in its document


@dataclass
class LexicalConfig:
    """k1, b: BM25's term-frequency saturation and length normalisation (FTS5's values).
    merge_share: merge the tail into the base once it holds this share of the base's postings, or
    once this share of the docs are dead; merge_min: ... but never for fewer tail postings than this.
    name_phrases: index and query each pair of capitalised words as one term (text.name_phrases).
    superseded: a memory's document holds the texts of the versions it superseded (module docstring).
    exhaustive_postings: a read across tenants scores a term with more postings than this only on
        the docs its rarer terms reached (`scores`)."""

    k1: float = 1.2
    b: float = 0.75
    merge_share: float = 0.05
    merge_min: int = 4096
    name_phrases: bool = True
    superseded: bool = True
    exhaustive_postings: int = 16_384


class LexicalIndex(ChangeLogCache):
    """BM25 top-k over slot texts, addressed by slot number (see the module docstring)."""

    what = "lexical index"

    def __init__(self, config: LexicalConfig | None = None) -> None:
        self.config = config or LexicalConfig()
        self.seq = 0  # change-log position this index reflects
        self._stemmer = Stemmer.Stemmer("english")
        self._stems: dict[str, str] = {}
        self._reset()

    def _reset(self) -> None:
        self.vocab: dict[str, int] = {}
        # Base CSR: postings of term t at [offsets[t], offsets[t + 1]) for t < len(offsets) - 1.
        self.offsets = np.zeros(1, dtype=np.int64)
        self.post_doc = np.zeros(0, dtype=np.int32)
        self.post_tf = np.zeros(0, dtype=np.float32)
        self.tail: dict[int, tuple[list[int], list[int]]] = {}  # term -> (docs, tfs) since the base
        self.tail_size = 0
        self.n_docs = 0  # doc numbers handed out; arrays below have room for at least this many
        self.doc_slot = np.zeros(0, dtype=np.int64)
        self.doc_len = np.zeros(0, dtype=np.float32)
        self.alive = np.zeros(0, dtype=bool)
        self.doc_of = np.zeros(0, dtype=np.int32)  # slot -> its live doc (-1: none): 4 bytes a slot
        self.live = 0
        self.total_len = 0.0  # tokens over the live docs
        # Tenants, numbered in order of first sight: each doc's, and each tenant's live docs and tokens.
        self.tenant_code: dict[str, int] = {}
        self.doc_tenant = np.zeros(0, dtype=np.int32)
        self.tenant_docs = np.zeros(0, dtype=np.int64)
        self.tenant_len = np.zeros(0, dtype=np.float64)
        self.tenant_base: dict[int, tuple[int, int]] = {}  # tenant -> its base docs [lo, hi)

    @property
    def size(self) -> int:
        """Live (searchable) memories."""
        return self.live

    def docs_of(self, slots: Iterable[int]) -> np.ndarray:
        """The live docs of those of `slots` indexed."""
        at = np.fromiter(slots, dtype=np.int64)
        at = at[(at >= 0) & (at < len(self.doc_of))]
        docs = self.doc_of[at]
        return docs[docs >= 0].astype(np.int64)

    def slots(self) -> set[int]:
        """The slots indexed."""
        return set(np.flatnonzero(self.doc_of >= 0).tolist())

    def _map_slots(self) -> None:
        """`doc_of` from the live docs' slots."""
        top = int(self.doc_slot[: self.n_docs].max()) + 1 if self.n_docs else 0
        self.doc_of = np.full(top, -1, dtype=np.int32)
        live = np.flatnonzero(self.alive[: self.n_docs])
        self.doc_of[self.doc_slot[live]] = live
        self.live = len(live)

    # -- tokens --------------------------------------------------------------------------------

    def _stem(self, word: str) -> str:
        s = self._stems.get(word)
        if s is None:
            s = self._stems[word] = self._stemmer.stemWord(word)
        return s

    def terms(self, text: str) -> list[str]:
        """The distinct indexed terms of a query, in order (words, then name phrases)."""
        words = [self._stem(w) for w in WORD.findall(fold(text)) if w not in STOPWORDS]
        return list(dict.fromkeys(words + self._phrases(text)))

    def _tokens(self, text: str) -> tuple[Counter[str], int]:
        """Term frequencies and |D| (words only: a phrase term adds no length)."""
        words = WORD.findall(fold(text))
        counts = Counter(self._stem(w) for w in words if w not in STOPWORDS)
        counts.update(self._phrases(text))
        return counts, len(words)

    def _phrases(self, text: str) -> list[str]:
        return name_phrases(text) if self.config.name_phrases else []

    # -- mutation ------------------------------------------------------------------------------

    def add(self, slots: Sequence[int], texts: Sequence[str], namespaces: Sequence[str] | None = None) -> None:
        """Index `texts` under `slots` (a slot already present is replaced); `namespaces`: their namespace
        keys (storage.base.ns_key), which decide their tenants (None: all in the tenant "")."""
        self.remove([s for s in slots if 0 <= s < len(self.doc_of) and self.doc_of[s] >= 0])
        top = max(slots, default=-1) + 1
        if top > len(self.doc_of):
            grown = np.full(max(top, 2 * len(self.doc_of)), -1, dtype=np.int32)
            grown[: len(self.doc_of)] = self.doc_of
            self.doc_of = grown
        self._grow(self.n_docs + len(slots))
        namespaces = [""] * len(slots) if namespaces is None else namespaces
        for slot, text, ns in zip(slots, texts, namespaces, strict=True):
            counts, length = self._tokens(text)
            doc = self.n_docs
            self.n_docs += 1
            self.doc_slot[doc], self.doc_len[doc], self.alive[doc] = slot, length, True
            self.doc_of[slot] = doc
            self.live += 1
            self.total_len += length
            tenant = self._tenant(tenant_of(ns))
            self.doc_tenant[doc] = tenant
            self.tenant_docs[tenant] += 1
            self.tenant_len[tenant] += length
            for term, tf in counts.items():
                docs, tfs = self.tail.setdefault(self.vocab.setdefault(term, len(self.vocab)), ([], []))
                docs.append(doc)
                tfs.append(tf)
            self.tail_size += len(counts)
        self._maybe_merge()

    def remove(self, slots: Iterable[int]) -> None:
        for slot in slots:
            doc = int(self.doc_of[slot]) if 0 <= slot < len(self.doc_of) else -1
            if doc >= 0:
                self.doc_of[slot] = -1
                self.live -= 1
                self.alive[doc] = False
                self.total_len -= float(self.doc_len[doc])
                tenant = self.doc_tenant[doc]
                self.tenant_docs[tenant] -= 1
                self.tenant_len[tenant] -= float(self.doc_len[doc])
        self._maybe_merge()

    def _tenant(self, name: str) -> int:
        code = self.tenant_code.get(name)
        if code is None:
            code = self.tenant_code[name] = len(self.tenant_code)
            if code >= len(self.tenant_docs):
                self.tenant_docs = np.resize(self.tenant_docs, max(16, 2 * code))
                self.tenant_docs[code:] = 0
                self.tenant_len = np.resize(self.tenant_len, max(16, 2 * code))
                self.tenant_len[code:] = 0.0
        return code

    def _grow(self, n: int) -> None:
        if n <= len(self.alive):
            return
        cap = max(n, 2 * len(self.alive), 1024)
        self.doc_slot = np.resize(self.doc_slot, cap)
        self.doc_len = np.resize(self.doc_len, cap)
        self.doc_tenant = np.resize(self.doc_tenant, cap)
        alive = np.zeros(cap, dtype=bool)
        alive[: len(self.alive)] = self.alive
        self.alive = alive

    def _maybe_merge(self) -> None:
        c = self.config
        dead = self.n_docs - self.size
        if self.tail_size > max(c.merge_min, c.merge_share * len(self.post_doc)) or (
            dead > c.merge_min and dead > c.merge_share * self.n_docs
        ):
            self.merge()

    def merge(self) -> None:
        """Fold the tail into the base and drop dead docs and terms no live doc uses (renumbering both)."""
        n_base_terms = len(self.offsets) - 1
        base_terms = np.repeat(np.arange(n_base_terms, dtype=np.int64), np.diff(self.offsets))
        tail_terms = [np.full(len(d), t, dtype=np.int64) for t, (d, _) in self.tail.items()]
        terms = np.concatenate([base_terms, *tail_terms])
        docs = np.concatenate([self.post_doc, *(np.asarray(d, np.int32) for d, _ in self.tail.values())])
        tfs = np.concatenate([self.post_tf, *(np.asarray(f, np.float32) for _, f in self.tail.values())])
        live = self.alive[docs]
        terms, docs, tfs = terms[live], docs[live], tfs[live]
        # Renumber the live docs 0..n-1 tenant by tenant (write order kept within each), and the used
        # terms 0..m-1; postings sorted by term, then doc.
        keep = np.flatnonzero(self.alive[: self.n_docs])
        keep = keep[np.argsort(self.doc_tenant[keep], kind="stable")]
        new_doc = np.zeros(self.n_docs, dtype=np.int64)
        new_doc[keep] = np.arange(len(keep))
        used = np.bincount(terms, minlength=len(self.vocab)) > 0
        new_term = np.cumsum(used) - 1
        order = np.lexsort((new_doc[docs], new_term[terms]))
        self.post_doc = new_doc[docs[order]].astype(np.int32)
        self.post_tf = tfs[order]
        counts = np.bincount(new_term[terms], minlength=int(used.sum()))
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        words = list(self.vocab)
        self.vocab = {words[t]: int(new_term[t]) for t in np.flatnonzero(used).tolist()}
        self.doc_slot = self.doc_slot[keep].copy()
        self.doc_len = self.doc_len[keep].copy()
        self.doc_tenant = self.doc_tenant[keep].copy()
        self.alive = np.ones(len(keep), dtype=bool)
        self.n_docs = len(keep)
        self._map_slots()
        self.tail, self.tail_size = {}, 0
        self._tenant_ranges()

    def _tenant_ranges(self) -> None:
        """Each tenant's run of base docs (the base numbers them tenant by tenant)."""
        tenants = self.doc_tenant[: self.n_docs]
        codes = np.unique(tenants)
        lo = np.searchsorted(tenants, codes, side="left")
        hi = np.searchsorted(tenants, codes, side="right")
        self.tenant_base = {int(c): (int(a), int(b)) for c, a, b in zip(codes, lo, hi, strict=True)}

    # -- search --------------------------------------------------------------------------------

    def _postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """(docs, term frequencies) of one term, base then tail."""
        if term < len(self.offsets) - 1:
            lo, hi = self.offsets[term], self.offsets[term + 1]
            docs, tfs = self.post_doc[lo:hi], self.post_tf[lo:hi]
        else:
            docs, tfs = self.post_doc[:0], self.post_tf[:0]
        if term in self.tail:
            d, f = self.tail[term]
            docs = np.concatenate([docs, np.asarray(d, np.int32)])
            tfs = np.concatenate([tfs, np.asarray(f, np.float32)])
        return docs, tfs

    def _tenant_postings(self, term: int, *, tenant: int) -> tuple[np.ndarray, np.ndarray]:
        """(docs, term frequencies) of one term among one tenant's docs: a binary search of the term's
        base postings for the tenant's run, and the tail's of that tenant."""
        docs, tfs = self.post_doc[:0], self.post_tf[:0]
        span = self.tenant_base.get(tenant)
        if term < len(self.offsets) - 1 and span is not None:
            lo, hi = int(self.offsets[term]), int(self.offsets[term + 1])
            run = self.post_doc[lo:hi]
            a, b = np.searchsorted(run, span[0]), np.searchsorted(run, span[1])
            docs, tfs = run[a:b], self.post_tf[lo + a : lo + b]
        if term in self.tail:
            d, f = self.tail[term]
            d = np.asarray(d, np.int32)
            mine = self.doc_tenant[d] == tenant
            docs = np.concatenate([docs, d[mine]])
            tfs = np.concatenate([tfs, np.asarray(f, np.float32)[mine]])
        return docs, tfs

    def naming(self, phrases: Sequence[str], tenant: str | None = None) -> np.ndarray:
        """The slots (sorted) of the live memories whose document holds one of the name `phrases`
        (text.name_phrases: "ana silva"), from the phrase terms' postings; empty when none does.
        `tenant`: of that tenant's memories only."""
        terms = [t for p in phrases if (t := self.vocab.get(p)) is not None]
        code = None if tenant is None else self.tenant_code.get(tenant)
        if not terms or (tenant is not None and code is None):
            return np.zeros(0, dtype=np.int64)
        docs = np.concatenate(
            [(self._postings(t) if code is None else self._tenant_postings(t, tenant=code))[0] for t in terms]
        )
        return np.unique(self.doc_slot[docs[self.alive[docs]]])

    def scores(self, text: str, tenant: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """BM25 of `text`: (docs (m,), scores (m,)) of the live docs holding a query term, each doc once,
        ascending. With `tenant`, against that tenant's docs with its statistics (N, n(t), avgdl);
        without, against the whole store with the store's.

        Across the whole store, terms go rarest first, and a term with more than `exhaustive_postings`
        postings (a word in a good share of a large store) is scored only on the docs the rarer terms
        reached, as MaxScore does with its non-essential terms: a doc holding nothing but common words
        cannot outrank the docs that hold a rare one, and the read stays a few milliseconds at a million
        memories. A tenant's read scores every doc holding any query term. The scores are summed over
        the docs reached (no array over every doc), so a read's cost follows the postings it reads."""
        none = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if tenant is None:
            n, total, postings, cap = self.size, self.total_len, self._postings, self.config.exhaustive_postings
        else:
            code = self.tenant_code.get(tenant)
            if code is None:
                return none
            n, total, cap = int(self.tenant_docs[code]), float(self.tenant_len[code]), None
            postings = functools.partial(self._tenant_postings, tenant=code)
        if n == 0:
            return none
        k1, b = self.config.k1, self.config.b
        avgdl = max(total / n, 1e-9)
        exact_df = self.size == self.n_docs  # no dead docs: a term's df is the length of its postings
        found = [postings(t) for term in self.terms(text) if (t := self.vocab.get(term)) is not None]
        if cap is not None:
            found.sort(key=lambda p: len(p[0]))
        hits: list[np.ndarray] = []
        parts: list[np.ndarray] = []
        reached: np.ndarray | None = None  # the docs the rare terms reached (a common term adds none)
        for docs, tfs in found:
            df = len(docs) if exact_df else int(np.count_nonzero(self.alive[docs]))
            if df == 0:
                continue
            idf = max(math.log((n - df + 0.5) / (df + 0.5)), 1e-6)
            if cap is not None and len(docs) > cap and hits:
                # Postings are in doc order (base, then the tail's later docs): look the reached docs up.
                if reached is None:
                    reached = np.unique(np.concatenate(hits))
                at = np.minimum(np.searchsorted(docs, reached), len(docs) - 1)
                keep = at[docs[at] == reached]
                docs, tfs = docs[keep], tfs[keep]
            live = self.alive[docs]
            docs, tfs = docs[live], tfs[live]
            norm = k1 * (1.0 - b + b * self.doc_len[docs] / avgdl)
            hits.append(docs)
            parts.append((idf * (k1 + 1.0)) * tfs / (tfs + norm))
        if not hits:
            return none
        docs, at = np.unique(np.concatenate(hits), return_inverse=True)
        return docs.astype(np.int64), np.bincount(at, weights=np.concatenate(parts)).astype(np.float32)

    def search(
        self, text: str, k: int, *, allowed: Sequence[int] | None = None, tenant: str | None = None
    ) -> list[tuple[int, float]]:
        """BM25 top-k [(slot, score)], best first; `allowed`: only these slots; `tenant`: among that
        tenant's memories, with its statistics."""
        docs, scores = self.scores(text, tenant)
        if allowed is not None:
            mine = np.isin(docs, self.docs_of(allowed))
            docs, scores = docs[mine], scores[mine]
        if len(docs) > k:
            # The k best without sorting them all: every doc above the k-th score, then the docs tied
            # with it in doc order (docs are ascending), as a full stable sort would take them.
            kth = -np.partition(-scores, k - 1)[k - 1]
            above, tied = np.flatnonzero(scores > kth), np.flatnonzero(scores == kth)
            keep = np.concatenate([above, tied[: k - len(above)]])
            docs, scores = docs[keep], scores[keep]
        order = np.argsort(-scores, kind="stable")
        docs, scores = docs[order], scores[order]
        return list(zip(self.doc_slot[docs].tolist(), scores.astype(float).tolist(), strict=True))

    # -- keeping up with the store -------------------------------------------------------------

    def _present(self, store: SlotStore, slots: list[int]) -> tuple[list[int], list[str], list[str]]:
        return store.present_documents(slots, self._separator)

    def _all(self, store: SlotStore) -> Iterator[tuple[list[int], list[str], list[str]]]:
        return store.iter_documents(self._separator)

    @property
    def _separator(self) -> str | None:
        return VERSION_SEPARATOR if self.config.superseded else None

    def _stamp(self) -> dict[str, object]:
        """What a saved index must match to be loaded: its format and what its documents hold."""
        return {
            "format": _FORMAT,
            "name_phrases": self.config.name_phrases,
            "superseded": self.config.superseded,
        }

    def _rebuild_locked(self, store: SlotStore) -> None:
        super()._rebuild_locked(store)
        self.merge()

    # -- persistence ---------------------------------------------------------------------------

    def save(self, directory: Path, store_id: str) -> None:
        """Merge (dropping dead docs and the terms only they used), then write the base and the stamp as
        one file, atomically (changelog.save_npz)."""
        self.merge()
        stamp = {
            **self._stamp(),
            "store_id": store_id,
            "seq": self.seq,
            "tx": self.tx,
            "total_len": self.total_len,
        }
        save_npz(
            Path(directory) / LEXICAL_FILE,
            stamp,
            vocab=np.frombuffer("\n".join(self.vocab).encode(), dtype=np.uint8),
            offsets=self.offsets,
            post_doc=self.post_doc,
            post_tf=self.post_tf,
            doc_slot=self.doc_slot,
            doc_len=self.doc_len,
            doc_tenant=self.doc_tenant[: self.n_docs],
            tenants=np.frombuffer("\n".join(self.tenant_code).encode(), dtype=np.uint8),
        )

    @classmethod
    def open(cls, directory: Path, store: SlotStore, config: LexicalConfig | None = None) -> LexicalIndex:
        """Load the saved index and catch it up, or rebuild it when missing or unusable."""
        path = Path(directory) / LEXICAL_FILE
        index = cls(config)
        if not path.exists():
            index.rebuild(store)  # no warning: a store opened for the first time by a lexical read
            return index
        try:
            with np.load(path) as z:
                stamp = read_stamp(z)
                expected = {**index._stamp(), "store_id": store.get_meta("store_id") or ""}
                if stamp != {**stamp, **expected}:
                    raise ValueError(f"built for another store or format ({stamp})")
                words = z["vocab"].tobytes().decode()
                index.vocab = {w: i for i, w in enumerate(words.split("\n"))} if words else {}
                index.offsets, index.post_doc, index.post_tf = z["offsets"], z["post_doc"], z["post_tf"]
                index.doc_slot, index.doc_len = z["doc_slot"], z["doc_len"]
                index.doc_tenant = z["doc_tenant"].astype(np.int32)
                names = z["tenants"].tobytes().decode()
            for name in names.split("\n") if names or len(index.doc_slot) else ():
                index._tenant(name)
            index.n_docs = len(index.doc_slot)
            np.add.at(index.tenant_docs, index.doc_tenant, 1)
            np.add.at(index.tenant_len, index.doc_tenant, index.doc_len.astype(np.float64))
            index._tenant_ranges()
            index.alive = np.ones(index.n_docs, dtype=bool)
            index._map_slots()
            index.total_len = float(stamp["total_len"])
            index.seq, index.tx, index.from_file = int(stamp["seq"]), stamp.get("tx"), True
            index.file_seq = index.seq
        except Exception as e:  # noqa: BLE001 - any unreadable cache is rebuilt, never fatal
            log.warning("lexical index file %s is unreadable (%s): rebuilding it from the store", path, e)
            index = cls(config)
            index.rebuild(store)
            return index
        index.sync(store)
        return index
