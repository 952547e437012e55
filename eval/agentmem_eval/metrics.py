"""Retrieval metrics over one ranked answer, and their aggregation.

All functions take the ranking (ids, best first) and the gold ids of one item. For a set-valued system
(full-context) the caller passes k = None: the whole answer counts, whatever k.

- recall_any@k: 1 if at least one gold id is in the top k (enough to answer a single-fact question)
- recall_all@k: 1 if every gold id is in the top k (what a multi-hop answer needs)
- reciprocal rank of the first gold id (0 when none is returned), averaged into MRR
- NDCG@k with binary gain: sum of 1/log2(rank + 1) over gold hits, over the ideal for |gold| hits
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np


def recall_any(ranking: Sequence[str], gold: Iterable[str], k: int | None) -> float:
    top = set(ranking[:k])
    return float(any(g in top for g in gold))


def recall_all(ranking: Sequence[str], gold: Iterable[str], k: int | None) -> float:
    top = set(ranking[:k])
    return float(all(g in top for g in gold))


def reciprocal_rank(ranking: Sequence[str], gold: Iterable[str]) -> float:
    gold = set(gold)
    for rank, r in enumerate(ranking, start=1):
        if r in gold:
            return 1.0 / rank
    return 0.0


def ndcg(ranking: Sequence[str], gold: Iterable[str], k: int) -> float:
    gold = set(gold)
    dcg = sum(1.0 / math.log2(rank + 1) for rank, r in enumerate(ranking[:k], start=1) if r in gold)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(gold), k) + 1))
    return dcg / ideal if ideal else 0.0


def sessions_of(ranking: Sequence[str], session_of: dict[str, str]) -> list[str]:
    """Turn ranking -> session ranking: each session at the rank of its best turn."""
    return list(dict.fromkeys(session_of[t] for t in ranking))


def item_scores(ranking: Sequence[str], gold: Sequence[str], ks: Sequence[int], ranked: bool) -> dict[str, float]:
    """Every metric of one item at one level (turn or session). Unranked answers get no MRR / NDCG."""
    out: dict[str, float] = {}
    for k in ks:
        cut = k if ranked else None
        out[f"recall_any@{k}"] = recall_any(ranking, gold, cut)
        out[f"recall_all@{k}"] = recall_all(ranking, gold, cut)
    if ranked:
        out["mrr"] = reciprocal_rank(ranking, gold)
        out["ndcg@10"] = ndcg(ranking, gold, 10)
    return out


def mean_scores(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """Average each metric over items (all rows have the same keys)."""
    if not rows:
        return {}
    return {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}


def percentiles(values: Sequence[float], qs: Sequence[int] = (50, 95)) -> dict[str, float]:
    """{"p50": ..., "p95": ...} of `values` (NaN-free; empty -> zeros)."""
    if not len(values):
        return {f"p{q}": 0.0 for q in qs}
    return {f"p{q}": float(np.percentile(values, q)) for q in qs}


def sign_test(a_only: int, b_only: int) -> float:
    """Exact two-sided sign test (McNemar's exact test) on the discordant pairs of a paired comparison:
    under "neither system is better", each of the n = a_only + b_only items one system alone gets right
    is a fair coin, so p = min(1, 2 P(Binomial(n, 1/2) <= min(a_only, b_only))). 1.0 when n = 0.

    Computed exactly with integers: the normal approximation is off for the few discordant items a
    per-category comparison has."""
    if a_only < 0 or b_only < 0:
        raise ValueError(f"counts must be non-negative, got {a_only} and {b_only}")
    n = a_only + b_only
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(a_only, b_only) + 1))
    return min(1.0, 2 * tail / 2**n)


def paired(a: dict[str, float], b: dict[str, float]) -> dict[str, float | int]:
    """Two systems' 0/1 scores on the same items (item id -> score): how many items each alone gets
    right, how many both and neither, and the sign test's p-value on the discordant ones."""
    if a.keys() != b.keys():
        missing = sorted(a.keys() ^ b.keys())[:3]
        raise ValueError(f"paired scores need the same items; these are in one only: {missing}")
    a_only = sum(1 for i in a if a[i] > b[i])
    b_only = sum(1 for i in a if b[i] > a[i])
    both = sum(1 for i in a if a[i] == b[i] and a[i] > 0)
    return {"n_items": len(a), "a_only": a_only, "b_only": b_only, "both": both,
            "neither": len(a) - a_only - b_only - both, "p_value": sign_test(a_only, b_only)}
