"""Metrics against values computed by hand."""

from __future__ import annotations

import math

import pytest
from agentmem_eval.metrics import (
    item_scores,
    mean_scores,
    ndcg,
    paired,
    percentiles,
    recall_all,
    recall_any,
    reciprocal_rank,
    sessions_of,
    sign_test,
)

RANKING = ["a", "b", "c", "d"]
GOLD = ["b", "d"]


def test_recall_any_all():
    assert [recall_any(RANKING, GOLD, k) for k in (1, 2, 3, 4)] == [0.0, 1.0, 1.0, 1.0]
    assert [recall_all(RANKING, GOLD, k) for k in (1, 2, 3, 4)] == [0.0, 0.0, 0.0, 1.0]
    assert recall_all(RANKING, GOLD, None) == 1.0  # unranked: the whole answer counts


def test_reciprocal_rank_and_ndcg():
    assert reciprocal_rank(RANKING, GOLD) == 0.5
    assert reciprocal_rank(RANKING, ["z"]) == 0.0
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg(RANKING, GOLD, 10) == pytest.approx(expected)
    assert ndcg(["b", "d"], GOLD, 10) == pytest.approx(1.0)
    assert ndcg(RANKING, GOLD, 1) == 0.0


def test_sessions_rank_at_their_best_turn():
    session_of = {"a": "s2", "b": "s1", "c": "s2", "d": "s3"}
    assert sessions_of(RANKING, session_of) == ["s2", "s1", "s3"]


def test_item_scores_and_means():
    scores = item_scores(RANKING, GOLD, (1, 2, 4), ranked=True)
    assert scores == {"recall_any@1": 0.0, "recall_all@1": 0.0, "recall_any@2": 1.0, "recall_all@2": 0.0,
                      "recall_any@4": 1.0, "recall_all@4": 1.0, "mrr": 0.5, "ndcg@10": pytest.approx(0.6509, abs=1e-4)}
    unranked = item_scores(RANKING, GOLD, (1,), ranked=False)
    assert unranked == {"recall_any@1": 1.0, "recall_all@1": 1.0}
    assert mean_scores([{"x": 1.0}, {"x": 0.0}, {"x": 0.5}]) == {"x": 0.5}
    assert percentiles([1, 2, 3, 4, 5]) == {"p50": 3.0, "p95": pytest.approx(4.8)}


def test_sign_test_against_hand_computed_tails():
    # n = 10 discordant items, 8 to 2: p = 2 (C(10,0) + C(10,1) + C(10,2)) / 2^10 = 2 * 56 / 1024.
    assert sign_test(8, 2) == 0.109375
    assert sign_test(2, 8) == 0.109375
    assert sign_test(5, 0) == 2 / 32
    assert sign_test(3, 3) == 1.0  # the two tails overlap: capped at 1
    assert sign_test(0, 0) == 1.0  # no discordant item: no evidence either way
    assert sign_test(40, 10) == pytest.approx(2 * sum(math.comb(50, i) for i in range(11)) / 2**50)
    scipy_stats = pytest.importorskip("scipy.stats")
    for a, b in ((8, 2), (17, 4), (30, 29), (1, 0)):
        assert sign_test(a, b) == pytest.approx(scipy_stats.binomtest(a, a + b, 0.5).pvalue)
    with pytest.raises(ValueError, match="non-negative"):
        sign_test(-1, 2)


def test_paired_counts_items_each_system_alone_gets():
    a = {"q1": 1.0, "q2": 1.0, "q3": 0.0, "q4": 0.0, "q5": 1.0}
    b = {"q1": 1.0, "q2": 0.0, "q3": 1.0, "q4": 0.0, "q5": 0.0}
    assert paired(a, b) == {"n_items": 5, "a_only": 2, "b_only": 1, "both": 1, "neither": 1,
                            "p_value": 1.0}  # 2 (C(3,0) + C(3,1)) / 8 = 1
    with pytest.raises(ValueError, match="same items"):
        paired(a, {"q1": 1.0})
