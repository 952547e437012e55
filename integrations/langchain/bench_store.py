"""Latency of AgentMemStore's put, get and search at N items (default 10k), one operation per call.

    .venv/bin/python integrations/langchain/bench_store.py                 # agentmem's default encoder
    .venv/bin/python integrations/langchain/bench_store.py --embed fake    # store cost without encoding

With the default encoder a put and a query search each include encoding one text with MiniLM on
this machine's CPU; `--embed fake` (LangChain's DeterministicFakeEmbedding, 384-d) isolates what the
store itself costs: SQLite commit, FAISS update, the item/facet bookkeeping.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable

from langchain_agentmem import AgentMemStore
from langchain_core.embeddings import DeterministicFakeEmbedding

SUBJECTS = ["Ada", "the user", "Sam", "my sister", "the team", "our landlord", "the dentist", "Grandpa"]
VERBS = ["moved to", "prefers", "is allergic to", "booked", "asked about", "forgot", "recommended", "hates"]
OBJECTS = [
    "Lisbon",
    "green tea",
    "peanuts",
    "a table for four",
    "the quarterly report",
    "the cello",
    "vintage cameras",
    "Friday meetings",
    "the blue sofa",
    "hiking in the Alps",
    "dark mode",
    "sushi",
]


def sentence(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} (note {rng.randrange(10**6)})."


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def summary(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    return f"{name:<22} n={len(ms):<6} p50={statistics.median(ms):7.2f} ms  p95={p95:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10_000, help="items in the store")
    parser.add_argument("--queries", type=int, default=200, help="timed reads of each kind")
    parser.add_argument("--embed", choices=["default", "fake"], default="default")
    parser.add_argument("--users", type=int, default=100, help="items are spread over this many namespaces")
    args = parser.parse_args()

    rng = random.Random(0)
    index = {"fields": ["text"]}
    if args.embed == "fake":
        index = {**index, "dims": 384, "embed": DeterministicFakeEmbedding(size=384)}
    with tempfile.TemporaryDirectory() as tmp, AgentMemStore(tmp, index=index) as store:
        store.put(("warmup",), "w", {"text": "warm up the encoder"})  # model loading is not a put
        puts = []
        for i in range(args.n):
            ns = ("users", f"u{i % args.users}", "memories")
            value = {"text": sentence(rng), "n": i}
            puts.append(timed(lambda ns=ns, i=i, value=value: store.put(ns, f"k{i}", value)))
        print(
            f"store: {args.n} items over {args.users} namespaces, embed={args.embed}, {store.memory.stats()['index']} index"
        )
        print(summary("put (new item)", puts))
        print(
            summary(
                "put (update)",
                [
                    timed(
                        lambda i=i: store.put(
                            ("users", f"u{i % args.users}", "memories"),
                            f"k{i}",
                            {"text": sentence(rng), "n": i},
                        )
                    )
                    for i in rng.sample(range(args.n), args.queries)
                ],
            )
        )
        print(
            summary(
                "get",
                [
                    timed(lambda i=i: store.get(("users", f"u{i % args.users}", "memories"), f"k{i}"))
                    for i in rng.sample(range(args.n), args.queries)
                ],
            )
        )
        queries = [sentence(rng) for _ in range(args.queries)]
        print(
            summary(
                "search (query, all)",
                [timed(lambda q=q: store.search(("users",), query=q, limit=10)) for q in queries],
            )
        )
        print(
            summary(
                "search (query, 1 user)",
                [timed(lambda q=q: store.search(("users", "u7"), query=q, limit=10)) for q in queries],
            )
        )
        print(
            summary(
                "search (filter only)",
                [
                    timed(lambda i=i: store.search(("users",), filter={"n": i}, limit=10))
                    for i in rng.sample(range(args.n), args.queries)
                ],
            )
        )


if __name__ == "__main__":
    main()
