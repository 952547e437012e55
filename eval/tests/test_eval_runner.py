"""The runner end to end on tiny fixtures: values computed by hand, JSON shape, mid-story questions."""

from __future__ import annotations

from agentmem_eval.embeddings import CacheConfig
from agentmem_eval.runner import RunConfig, evaluate

from agentmem.episodes import Dataset, Episode, Item, Turn, load_babi, load_locomo


def test_locomo_recency_and_full_context_by_hand(locomo_file):
    ds = load_locomo(locomo_file)
    results, runs = evaluate(ds, RunConfig(systems=("recency", "full-context"), ks=(1, 2), progress=False))
    assert set(results) >= {"dataset", "n_items", "skipped", "systems"}
    assert results["n_items"] == 5
    rec = results["systems"]["recency"]
    # Last turns are D2:2, D2:1. Gold: D1:1 | D1:2+D2:1 | D1:3 | D1:2 | D2:2.
    # recall_any@1: only "What did Rex chew?" (D2:2) -> 1/5; @2 adds the violin item (D2:1) -> 2/5.
    assert rec["recall_any@1"] == 0.2
    assert rec["recall_any@2"] == 0.4
    assert rec["recall_all@2"] == 0.2  # the violin item also needs D1:2
    assert rec["mrr"] == (1 + 0.5) / 5
    # Session level: session_2 ranks first; session_1 is never reached within 2 turns.
    assert rec["session"]["recall_any@1"] == 0.4
    assert rec["by_category"]["single-hop"]["n_items"] == 2
    assert rec["by_category"]["single-hop"]["recall_any@1"] == 0.5
    assert set(rec["latency_ms"]) == {"ingest_per_turn_p50", "ingest_per_turn_p95", "recall_p50", "recall_p95"}
    # 8192 tokens hold the whole conversation: every item is fully covered, whatever k.
    assert results["systems"]["full-context"]["recall_all@1"] == 1.0
    assert "mrr" not in results["systems"]["full-context"]
    assert runs["recency"].items[0].ranking == ["D2:2", "D2:1"]


def test_babi_questions_see_only_earlier_lines(babi_dir):
    results, runs = evaluate(load_babi(babi_dir), RunConfig(systems=("recency",), ks=(1,), progress=False))
    # "Where is Zara?" comes after lines 1-2: recency@1 answers line 2 (miss). "Where is Lio?" comes
    # after lines 4-5: line 5 (miss; line 7's question was dropped). Story 2's question sees line 1 (hit).
    assert [r.ranking for r in runs["recency"].items] == [["2"], ["5"], ["1"]]
    assert results["systems"]["recency"]["recall_any@1"] == 1 / 3
    assert results["systems"]["recency"]["n_items"] == 3


def test_vector_systems_share_one_encoding(locomo_file, fake_encoder, tmp_path):
    config = RunConfig(systems=("dense", "hybrid", "bm25", "agentmem"), ks=(1, 5), encoder=fake_encoder,
                       cache=CacheConfig(directory=tmp_path / "cache"), progress=False)
    results, _ = evaluate(load_locomo(locomo_file), config)
    assert results["encoder"] == "test-hashed-bow"
    systems = results["systems"]
    # Five turns: every gold turn is within the top 5 of any ranking system that returns 5 turns.
    assert systems["dense"]["recall_all@5"] == 1.0
    # Whatever its controller, a memory asked for 5 of 5 turns returns them all.
    assert systems["agentmem"]["recall_all@5"] == 1.0
    assert systems["agentmem"]["memory_bytes"]["max_episode"] > 0


def test_a_gold_turn_folded_into_another_memory_counts_raw_and_merged(fake_encoder, tmp_path):
    """Turn 2 repeats turn 0 word for word: the write gate skips it into turn 0's memory, which keeps
    naming turn 0. A question whose gold is turn 2 misses in the raw ranking and is found, merged, when
    that memory comes back."""
    turns = [Turn(str(i), "s", text) for i, text in enumerate([
        "Ann: I adopted a puppy named Rex.", "Bo: I started learning the violin.",
        "Ann: I adopted a puppy named Rex.", "Ann: My sister lives in Porto."])]
    items = [Item("q1", "What is the name of the puppy Ann adopted?", "Rex", "single-hop", ("2",), ("s",)),
             Item("q2", "Where does the sister live?", "Porto", "single-hop", ("3",), ("s",))]
    dataset = Dataset("dup", [Episode("e", turns, items)])
    config = RunConfig(systems=("agentmem", "zsum", "lexical", "bm25"), ks=(1, 3), encoder=fake_encoder,
                       cache=CacheConfig(directory=tmp_path / "cache"), progress=False)
    results, runs = evaluate(dataset, config)
    for name in ("agentmem", "zsum", "lexical"):
        block = results["systems"][name]
        assert runs[name].merged_turns == [1]
        assert "2" not in runs[name].items[0].ranking  # the memory names turn 0
        assert block["recall_any@3"] == 0.5  # q1 can never be found raw
        merged = block["merged"]
        assert (merged["turns_merged"], merged["gold_turns"], merged["gold_merged"]) == (1, 2, 1)
        assert merged["items_with_merged_gold"] == 1
        assert merged["recall_any@3"] == 1.0
        assert merged["by_category"]["single-hop"]["n_items"] == 2
    assert "merged" not in results["systems"]["bm25"]
    # Default pairs: agentmem against each other system, on recall@3 (10 is not evaluated).
    assert [(p["a"], p["b"], p["k"]) for p in results["paired"]] == [
        ("agentmem", "zsum", 3), ("agentmem", "lexical", 3), ("agentmem", "bm25", 3)]
    # bm25 ranks turns 0 and 2 alike (the same words) and finds both items; agentmem, raw, only q2.
    assert results["paired"][2]["recall_any@3"] == {
        "n_items": 2, "a_only": 0, "b_only": 1, "both": 1, "neither": 0, "p_value": 1.0}


def test_compare_pairs_must_be_evaluated():
    import pytest

    with pytest.raises(ValueError, match="cannot compare bm25 with dense"):
        evaluate(Dataset("x", []), RunConfig(systems=("bm25",), compare=(("bm25", "dense"),), progress=False))
