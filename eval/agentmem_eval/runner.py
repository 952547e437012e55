"""Run systems over a dataset and collect metrics, latency and footprint.

For each system and each episode a fresh memory is built and fed the episode's turns in order; each
question is asked once the turns it may see have been added (`Item.at`), and is scored only against its
own episode. Vectors are computed once for all systems (`CachedEncoder`); latency excludes encoding.

The agentmem family (systems.AbsorbingSystem) is scored twice: the raw ranking of the turns its hits
name, and the ranking of memories, where a gold turn folded into another turn's memory counts as found
when that memory is returned (the `merged` block). Pairs of systems are compared item by item on
recall_any and recall_all at the headline cut-off, with an exact sign test (the `paired` list).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from agentmem.episodes import Dataset, Episode
from agentmem_eval.embeddings import CacheConfig, CachedEncoder
from agentmem_eval.metrics import item_scores, mean_scores, paired, percentiles, sessions_of
from agentmem_eval.systems import NEEDS_VECTORS, SYSTEMS, AbsorbingSystem, Query, System, SystemsConfig


@dataclass
class RunConfig:
    """systems: names to evaluate; ks: cut-offs for recall@k (the deepest is how many turns are asked for);
    compare: pairs (a, b) of systems to compare item by item (None: agentmem against every other system
    that runs, when agentmem runs)."""

    systems: tuple[str, ...] = SYSTEMS
    ks: tuple[int, ...] = (1, 5, 10, 20)
    compare: tuple[tuple[str, str], ...] | None = None
    settings: SystemsConfig = field(default_factory=SystemsConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    encoder: Any = None  # an agentmem encoder spec (None: the packaged default)
    progress: bool = True


@dataclass
class ItemResult:
    """One item's answer from one system: the ranking (turn ids) and its scores at each level.

    merged: turn-level scores with gold turns mapped to the memories that absorbed them (AbsorbingSystem
    only, else None); n_gold: the item's gold turns; gold_merged: how many of them sit in a memory that
    names another turn, so the raw ranking cannot show them."""

    item_id: str
    category: str
    ranking: list[str]
    turn: dict[str, float]
    session: dict[str, float]
    merged: dict[str, float] | None = None
    n_gold: int = 0
    gold_merged: int = 0


@dataclass
class SystemRun:
    """Everything one system produced on a dataset: item results, timings (ms), footprint per episode."""

    name: str
    items: list[ItemResult] = field(default_factory=list)
    ingest_ms_per_turn: list[float] = field(default_factory=list)
    recall_ms: list[float] = field(default_factory=list)
    footprint: list[int] = field(default_factory=list)
    turns: list[int] = field(default_factory=list)
    merged_turns: list[int] = field(default_factory=list)  # per episode: turns without a memory of their own


class Vectors:
    """Turn and question vectors of a dataset, computed once (and only when a system needs them)."""

    def __init__(self, dataset: Dataset, encoder: CachedEncoder, progress: bool) -> None:
        texts = [t.text for ep in dataset.episodes for t in ep.turns]
        questions = [i.question for ep in dataset.episodes for i in ep.items]
        start = time.perf_counter()
        # The encoder warns once per text longer than its window (LongMemEval has hundreds); the harness
        # embeds them by the encoder's chunk policy on purpose, so the warnings are noise here.
        log = logging.getLogger("agentmem")
        level = log.level
        log.setLevel(max(level, logging.ERROR))
        try:
            docs = encoder.encode(texts, progress=progress)
            queries = encoder.encode_queries(questions, progress=progress)
        finally:
            log.setLevel(level)
        self.seconds = time.perf_counter() - start
        self.turns: dict[str, np.ndarray] = {}
        self.items: dict[str, np.ndarray] = {}
        t = q = 0
        for ep in dataset.episodes:
            self.turns[ep.id] = docs[t : t + len(ep.turns)]
            t += len(ep.turns)
            for item in ep.items:
                self.items[item.id] = queries[q]
                q += 1


def run_episode(system: System, episode: Episode, vectors: Vectors | None, ks: tuple[int, ...],
                run: SystemRun) -> None:
    """Feed `episode` to `system`, asking each question (for max(ks) turns) once its visible turns are in."""
    session_of = {t.id: t.session for t in episode.turns}
    position = {t.id: i for i, t in enumerate(episode.turns)}
    turn_vecs = vectors.turns[episode.id] if vectors and system.needs_vectors else None
    done = 0
    by_at: dict[int, list] = defaultdict(list)
    for item in episode.items:
        by_at[len(episode.turns) if item.at is None else item.at].append(item)
    for at in sorted(by_at) + [len(episode.turns)]:
        if at > done:
            start = time.perf_counter()
            system.add(episode.turns[done:at], None if turn_vecs is None else turn_vecs[done:at])
            run.ingest_ms_per_turn.append((time.perf_counter() - start) * 1000 / (at - done))
            done = at
        for item in by_at.pop(at, []):
            qvec = vectors.items[item.id] if vectors and system.needs_vectors else None
            # An undated question is asked right after the last turn it sees (what a recency-aware
            # controller should treat as "now"), not at the wall-clock time of the evaluation.
            when = item.time or (episode.turns[done - 1].time if done else None)
            start = time.perf_counter()
            positions = system.search(Query(item.question, qvec, when), max(ks))
            run.recall_ms.append((time.perf_counter() - start) * 1000)
            ranking = [episode.turns[p].id for p in positions]
            result = ItemResult(
                item.id, item.category, ranking,
                item_scores(ranking, item.evidence, ks, system.ranked),
                item_scores(sessions_of(ranking, session_of), item.sessions, ks, system.ranked),
                n_gold=len(item.evidence))
            if isinstance(system, AbsorbingSystem):
                _score_merged(system, item.evidence, position, ks, result)
            run.items.append(result)
    run.footprint.append(system.footprint())
    run.turns.append(len(episode.turns))
    if isinstance(system, AbsorbingSystem):
        run.merged_turns.append(len(system.memory_of) - len(set(system.memory_of)))


def _score_merged(system: AbsorbingSystem, evidence: tuple[str, ...], position: dict[str, int],
                  ks: tuple[int, ...], result: ItemResult) -> None:
    """Score the memories `system` last returned against the memories holding the gold turns."""
    gold: list[str] = []
    for turn in evidence:
        pos = position.get(turn, len(system.memory_of))
        if pos >= len(system.memory_of):
            gold.append(f"unobserved turn {turn}")  # matches no memory id
            continue
        memory = system.memory_of[pos]
        gold.append(memory)
        result.gold_merged += system.shown.get(memory) != pos
    result.merged = item_scores(system.last_hits, gold, ks, True)


def summarise(run: SystemRun) -> dict[str, Any]:
    """The JSON block of one system: overall turn-level metrics at the top, session level, categories."""
    out: dict[str, Any] = {"n_items": len(run.items), **mean_scores([r.turn for r in run.items])}
    out["session"] = mean_scores([r.session for r in run.items])
    groups: dict[str, list[ItemResult]] = defaultdict(list)
    for r in run.items:
        groups[r.category].append(r)
    out["by_category"] = {
        cat: {"n_items": len(rows), **mean_scores([r.turn for r in rows]),
              "session": mean_scores([r.session for r in rows])}
        for cat, rows in sorted(groups.items())
    }
    ingest, recall = percentiles(run.ingest_ms_per_turn), percentiles(run.recall_ms)
    out["latency_ms"] = {"ingest_per_turn_p50": ingest["p50"], "ingest_per_turn_p95": ingest["p95"],
                         "recall_p50": recall["p50"], "recall_p95": recall["p95"]}
    total_turns = sum(run.turns)
    out["memory_bytes"] = {"max_episode": max(run.footprint, default=0),
                           "per_turn": sum(run.footprint) / total_turns if total_turns else 0.0}
    if run.merged_turns:
        out["merged"] = _summarise_merged(run, groups)
    return out


def _summarise_merged(run: SystemRun, groups: dict[str, list[ItemResult]]) -> dict[str, Any]:
    """The `merged` block: how many turns and gold turns went into another turn's memory, and turn-level
    scores with each gold turn counted as found when the memory that absorbed it is returned."""
    def scores(items: list[ItemResult]) -> dict[str, float]:
        return mean_scores([r.merged for r in items if r.merged is not None])

    rows = [r for r in run.items if r.merged is not None]
    return {
        "turns_merged": sum(run.merged_turns),
        "gold_turns": sum(r.n_gold for r in rows),
        "gold_merged": sum(r.gold_merged for r in rows),
        "items_with_merged_gold": sum(1 for r in rows if r.gold_merged),
        **scores(rows),
        "by_category": {cat: {"n_items": len(items), **scores(items)} for cat, items in sorted(groups.items())},
    }


def headline_k(ks: tuple[int, ...] | list[int]) -> int:
    """The cut-off paired comparisons use: 10 when evaluated, else the deepest."""
    return 10 if 10 in ks else max(ks)


def default_pairs(systems: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """agentmem against every other system that runs (none without agentmem)."""
    if "agentmem" not in systems:
        return ()
    return tuple(("agentmem", other) for other in systems if other != "agentmem")


def compare(runs: dict[str, SystemRun], pairs: tuple[tuple[str, str], ...], k: int) -> list[dict[str, Any]]:
    """Item-by-item comparison of each pair on recall_any@k and recall_all@k, overall and by category:
    items each system alone gets right, and the exact sign test on them (metrics.paired)."""
    out = []
    for a, b in pairs:
        for name in (a, b):
            if name not in runs:
                raise ValueError(f"cannot compare {a} with {b}: {name} did not run; add it to the systems")
        category = {r.item_id: r.category for r in runs[a].items}
        entry: dict[str, Any] = {"a": a, "b": b, "k": k}
        by_category: dict[str, dict[str, Any]] = {c: {} for c in sorted(set(category.values()))}
        for metric in (f"recall_any@{k}", f"recall_all@{k}"):
            scores = [{r.item_id: r.turn[metric] for r in runs[name].items} for name in (a, b)]
            entry[metric] = paired(*scores)
            for cat, block in by_category.items():
                block[metric] = paired(*({i: s[i] for i in s if category.get(i) == cat} for s in scores))
        entry["by_category"] = by_category
        out.append(entry)
    return out


def evaluate(dataset: Dataset, config: RunConfig | None = None) -> tuple[dict[str, Any], dict[str, SystemRun]]:
    """Evaluate every system of `config` on `dataset`; returns (results JSON, per-system runs)."""
    from tqdm import tqdm

    config = config or RunConfig()
    pairs = default_pairs(config.systems) if config.compare is None else config.compare
    for a, b in pairs:
        if a == b or a not in config.systems or b not in config.systems:
            raise ValueError(f"cannot compare {a} with {b}: a pair needs two different systems among "
                             f"those evaluated ({', '.join(config.systems)})")
    base_encoder = None
    vectors = None
    if NEEDS_VECTORS.intersection(config.systems):
        from agentmem.encoder import resolve_encoder

        base_encoder = resolve_encoder(config.encoder)
        cached = CachedEncoder(base_encoder, config.cache)
        vectors = Vectors(dataset, cached, config.progress)
        cached.close()
    runs: dict[str, SystemRun] = {}
    for name in config.systems:
        make = config.settings.factory(name, base_encoder)
        run = runs[name] = SystemRun(name)
        for episode in tqdm(dataset.episodes, desc=name, unit="episode", disable=not config.progress):
            system = make()
            try:
                run_episode(system, episode, vectors, config.ks, run)
            finally:
                system.close()
    results: dict[str, Any] = {
        "dataset": dataset.name,
        "n_items": dataset.n_items,
        "skipped": dict(sorted(dataset.skipped.items())),
        "repaired": dict(sorted(dataset.repaired.items())),
        "n_episodes": len(dataset.episodes),
        "n_turns": dataset.n_turns,
        "encoder": getattr(base_encoder, "name", None),
        "encode_seconds": round(vectors.seconds, 2) if vectors else 0.0,
        "ks": list(config.ks),
        "settings": asdict(config.settings),
        "systems": {name: summarise(run) for name, run in runs.items()},
        "paired": compare(runs, pairs, headline_k(config.ks)),
    }
    return results, runs
