"""BM25 in the database, scored as the local backend's lexical index scores (storage/local/lexical.py).

Tokens are the local index's own (its `terms` for a query, its `_tokens` for a document: words folded
and Snowball-stemmed without stop words, plus name phrases), so both backends index and query the
same terms. A memory's document is its text then the distinct texts of the versions it superseded,
joined by the same separator. Each indexed memory stores its distinct terms (`terms text[]`, under a
GIN index), their frequencies (`tfs`) and its length in tokens (`doc_len`); each tenant's number of
indexed memories, their total length and every term's document frequency are kept in `lexical_docs`
and `lexical_terms`, changed in the transaction that changes the memories.

The score is FTS5's BM25, as there:

    score(q, D) = Σ_{t ∈ q} idf(t) · f(t, D)(k1 + 1) / (f(t, D) + k1 (1 − b + b |D| / avgdl))
    idf(t)      = max(ln((N − n(t) + 0.5) / (n(t) + 0.5)), 1e-6)

N, n(t) and avgdl count the indexed memories of the read's tenant (a read of the whole store sums
every tenant's): with one tenant, they are the local index's store-wide figures. Per tenant, a
tenant's scores depend on its own memories only, its statistics live beside its memories when the
tables are distributed by tenant, and writers of different tenants never wait on a shared row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agentmem.filters import Filter
from agentmem.storage.base import Namespace
from agentmem.storage.local.lexical import VERSION_SEPARATOR, LexicalConfig, LexicalIndex
from agentmem.storage.postgres.sql import visible_sql
from agentmem.storage.postgres.steps import Sql, Steps

# How this backend's documents are tokenised. A store records it, and a store tokenised otherwise is
# re-tokenised when opened (backend.py): a change to the tokenisation of the local index
# (storage/local/lexical.py, `terms` and `_tokens`) changes this too.
FORMAT = "agentmem-postgres-lexical/1"


@dataclass(frozen=True)
class Document:
    """A memory's lexical entry: its distinct terms, their frequencies (aligned) and its length."""

    terms: list[str]
    tfs: list[float]
    length: int


class Tokeniser:
    """The local lexical index's tokenisation, for queries and for documents."""

    def __init__(self, config: LexicalConfig) -> None:
        self.config = config
        self._index = LexicalIndex(config)  # its stemmer and stem cache; it indexes nothing here

    def stamp(self) -> str:
        """How documents are tokenised, as recorded in a store's meta."""
        c = self.config
        return f"{FORMAT};name_phrases={int(c.name_phrases)};superseded={int(c.superseded)}"

    def query(self, text: str) -> list[str]:
        """The distinct terms of a query, in order."""
        return self._index.terms(text)

    def document(self, text: str, superseded: Sequence[str] = ()) -> Document:
        """The entry of a memory whose text is `text` and whose past versions held `superseded` (the
        distinct texts other than `text`; ignored unless the config keeps them in the document)."""
        if self.config.superseded:
            text = text + "".join(VERSION_SEPARATOR + t for t in superseded if t != text)
        counts, length = self._index._tokens(text)
        return Document(list(counts), [float(n) for n in counts.values()], int(length))


@dataclass
class StatsDelta:
    """Changes to the lexical statistics made by one transaction, applied just before it commits."""

    df: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    docs: dict[str, list[int]] = field(default_factory=dict)  # tenant -> [docs, total length]

    def add(self, tenant: str, terms: Sequence[str], length: int, sign: int) -> None:
        """Count a document in (sign 1) or out (sign -1) of its tenant's statistics."""
        for t in terms:
            self.df[(tenant, t)] += sign
        d = self.docs.setdefault(tenant, [0, 0])
        d[0] += sign
        d[1] += sign * length

    def __bool__(self) -> bool:
        return bool(self.docs)

    def apply(self, schema: str) -> Steps[None]:
        """Write the changes in one order every writer shares (tenant, then term), so that two
        transactions updating the same rows wait for each other instead of deadlocking; a term no
        document holds any more is dropped."""
        df = sorted((k, v) for k, v in self.df.items() if v)
        if df:
            yield Sql(
                f"INSERT INTO {schema}.lexical_terms AS t (tenant, term, df) "
                "SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[]) ORDER BY 1, 2 "
                "ON CONFLICT (tenant, term) DO UPDATE SET df = t.df + EXCLUDED.df",
                ([k[0] for k, _ in df], [k[1] for k, _ in df], [v for _, v in df]),
            )
            gone = [k for k, v in df if v < 0]
            if gone:
                yield Sql(
                    f"DELETE FROM {schema}.lexical_terms t USING unnest(%s::text[], %s::text[]) AS g(tenant, term) "
                    "WHERE t.tenant = g.tenant AND t.term = g.term AND t.df <= 0",
                    ([k[0] for k in gone], [k[1] for k in gone]),
                )
        docs = sorted((k, v) for k, v in self.docs.items() if v[0] or v[1])
        if docs:
            yield Sql(
                f"INSERT INTO {schema}.lexical_docs AS d (tenant, docs, total_len) "
                "SELECT * FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) ORDER BY 1 "
                "ON CONFLICT (tenant) DO UPDATE SET docs = d.docs + EXCLUDED.docs, "
                "total_len = d.total_len + EXCLUDED.total_len",
                ([k for k, _ in docs], [v[0] for _, v in docs], [v[1] for _, v in docs]),
            )
        self.df.clear()
        self.docs.clear()


def bm25_sql(
    schema: str,
    config: LexicalConfig,
    terms: list[str],
    k: int,
    *,
    namespace: Namespace | None,
    filter: Filter,
    now: float,
    own: StatsDelta | None = None,
) -> tuple[str, list[Any]]:
    """One statement: the tenant's (or the store's) statistics for the query `terms`, then the BM25
    top-k [(slot, score)] of the visible memories holding one of them, best first. Scores are rounded
    to 6 decimals, so that memories scored alike tie exactly, whatever order the terms were summed in,
    and go in write order, as in the local index. A read inside a transaction counts, through `own`,
    the statistics of what the transaction wrote, which it sends only at its commit.

    A scoped read walks its namespace's rows (the (tenant, ns, slot) index) and keeps those holding a
    query term: it costs what the namespace holds. A read of the whole store goes through the terms'
    postings (the GIN index). A document's frequency of a term is found by its position in `terms`."""
    s = schema
    where, params = visible_sql(namespace, filter, now, indexed_only=True, alias="s")
    tenant = namespace[0] if namespace else None
    docs, length, dfs = _own(own, tenant, terms)
    if tenant is not None:
        stats = (
            f"st AS MATERIALIZED (SELECT coalesce(sum(docs), 0)::float8 + %s AS n, "
            f"coalesce(sum(total_len), 0)::float8 + %s AS len FROM {s}.lexical_docs WHERE tenant = %s), "
            f"df AS MATERIALIZED (SELECT u.term, coalesce((SELECT t.df FROM {s}.lexical_terms t "
            "WHERE t.tenant = %s AND t.term = u.term), 0)::float8 + u.d AS df "
            "FROM unnest(%s::text[], %s::float8[]) AS u(term, d))"
        )
        stats_params: list[Any] = [docs, length, tenant, tenant, terms, dfs]
        match, match_params = "", []  # the join on the query's terms keeps the namespace's matching rows
    else:
        stats = (
            f"st AS MATERIALIZED (SELECT coalesce(sum(docs), 0)::float8 + %s AS n, "
            f"coalesce(sum(total_len), 0)::float8 + %s AS len FROM {s}.lexical_docs), "
            f"df AS MATERIALIZED (SELECT u.term, coalesce((SELECT sum(t.df) FROM {s}.lexical_terms t "
            "WHERE t.term = u.term), 0)::float8 + u.d AS df FROM unnest(%s::text[], %s::float8[]) AS u(term, d))"
        )
        stats_params = [docs, length, terms, dfs]
        match, match_params = "s.terms && %s::text[] AND ", [terms]  # the terms' postings (GIN)
    k1, b = float(config.k1), float(config.b)
    sql = (
        f"WITH {stats}, "
        "q AS MATERIALIZED (SELECT df.term, greatest(ln((st.n - df.df + 0.5) / (df.df + 0.5)), 1e-6) AS idf, "
        "greatest(st.len / st.n, 1e-9) AS avgdl FROM df, st WHERE df.df > 0 AND st.n > 0) "
        f"SELECT s.slot, round(sum(q.idf * x.tf * {k1 + 1.0!r} / "
        f"(x.tf + {k1!r} * (1 - {b!r} + {b!r} * s.doc_len / q.avgdl)))::numeric, 6)::float8 AS score "
        f"FROM {s}.slots s JOIN q ON q.term = ANY(s.terms) "
        "CROSS JOIN LATERAL (SELECT s.tfs[array_position(s.terms, q.term)] AS tf) x "
        f"WHERE {match}{where} "
        "GROUP BY s.slot ORDER BY score DESC, s.slot LIMIT %s"
    )
    return sql, [*stats_params, *match_params, *params, int(k)]


def _own(own: StatsDelta | None, tenant: str | None, terms: list[str]) -> tuple[float, float, list[float]]:
    """What a transaction's own writes add to the statistics a read counts (its tenant's, or every
    tenant's when `tenant` is None): documents, total length and each query term's document frequency."""
    if own is None:
        return 0.0, 0.0, [0.0] * len(terms)
    docs = [d for t, d in own.docs.items() if tenant is None or t == tenant]
    by_term: dict[str, int] = defaultdict(int)
    for (t, term), n in own.df.items():
        if tenant is None or t == tenant:
            by_term[term] += n
    return float(sum(d[0] for d in docs)), float(sum(d[1] for d in docs)), [float(by_term[t]) for t in terms]
