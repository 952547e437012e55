"""Core benchmark: write latency, ingest throughput, recall latency at 10k and 100k, bytes on disk.

    .venv/bin/python benchmarks/core.py --out eval/results/core/bench.json

Texts are generated from templates (distinct sentences, real encoding through the default MiniLM
encoder); nothing is downloaded. Figures depend on the machine: the README's were taken on the
project's 2-core CPU machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from pathlib import Path

import numpy as np
from results_file import save
from tqdm import tqdm

os.environ.setdefault("HF_HUB_OFFLINE", "1")

NAMES = [
    "Alice",
    "Bob",
    "Carol",
    "Dmitri",
    "Esther",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemal",
    "Lena",
]
VERBS = [
    "visited",
    "wrote about",
    "cooked dinner in",
    "took photos of",
    "planned a trip to",
    "argued about",
    "bought a flat near",
    "ran a marathon in",
    "painted a mural of",
    "read a novel set in",
]
PLACES = [
    "Lisbon",
    "Kyoto",
    "Nairobi",
    "Oslo",
    "Lima",
    "Hanoi",
    "Tbilisi",
    "Quebec",
    "Perth",
    "Cusco",
    "Bergen",
    "Fez",
    "Porto",
    "Turin",
    "Busan",
    "Cork",
    "Krakow",
    "Seville",
]
WHEN = [
    "last spring",
    "on Tuesday",
    "in 2019",
    "after the wedding",
    "during the storm",
    "with her cousin",
    "with his team",
    "before moving",
    "on a whim",
    "for the third time",
]


def make_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [
        f"{rng.choice(NAMES)} {rng.choice(VERBS)} {rng.choice(PLACES)} {rng.choice(WHEN)} (note {i})."
        for i in range(n)
    ]


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000, q))


def recall_latency(mem, queries: list[str], qvecs: np.ndarray, k: int = 10) -> dict[str, float]:
    end_to_end, no_encode = [], []
    for q, v in zip(queries, qvecs, strict=True):
        t = time.perf_counter()
        mem.recall(q, k=k)
        end_to_end.append(time.perf_counter() - t)
        t = time.perf_counter()
        mem.recall(q, k=k, embedding=v)
        no_encode.append(time.perf_counter() - t)
    return {
        "recall_p50_ms": pct(end_to_end, 50),
        "recall_p95_ms": pct(end_to_end, 95),
        "recall_no_encoding_p50_ms": pct(no_encode, 50),
        "recall_no_encoding_p95_ms": pct(no_encode, 95),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="store sizes at which recall is timed")
    ap.add_argument("--singles", type=int, default=200, help="single-text remember calls timed")
    ap.add_argument("--queries", type=int, default=200, help="recall calls timed per size")
    ap.add_argument("--batch", type=int, default=256, help="batch size for bulk ingest")
    ap.add_argument(
        "--threads", type=int, default=None, help="torch threads for batch encoding (default: torch's)"
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    from agentmem import Memory, MemoryConfig
    from agentmem.encoder import EncoderConfig

    sizes = sorted(int(s) for s in args.sizes.split(","))
    config = lambda: MemoryConfig(encoder=EncoderConfig(threads=args.threads))  # noqa: E731
    result: dict = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg": os.getloadavg()},
        "threads": args.threads,
        "sizes": {},
    }
    with tempfile.TemporaryDirectory() as tmp, Memory(Path(tmp) / "store", config=config()) as mem:
        mem.encoder.encode(["warm up"])  # model load is not part of any figure
        singles = []
        for text in make_texts(args.singles, seed=1):
            t = time.perf_counter()
            mem.remember(text, namespace=("bench", "singles"))
            singles.append(time.perf_counter() - t)
        result["remember_one_p50_ms"] = pct(singles, 50)
        result["remember_one_p95_ms"] = pct(singles, 95)

        texts = make_texts(sizes[-1])
        queries = [
            f"Who {random.Random(i).choice(VERBS)} {random.Random(i + 1).choice(PLACES)}?"
            for i in range(args.queries)
        ]
        qvecs = mem.encoder.encode_queries(queries)
        done, ingest_s = 0, 0.0
        for size in sizes:
            with tqdm(total=size - done, desc=f"ingest to {size:,}", unit="mem") as bar:
                while done < size:
                    batch = texts[done : min(done + args.batch, size)]
                    t = time.perf_counter()
                    mem.remember(batch, namespace=("bench", "bulk"))
                    ingest_s += time.perf_counter() - t
                    done += len(batch)
                    bar.update(len(batch))
            result["ingest_memories_per_s"] = done / ingest_s
            row = recall_latency(mem, queries, qvecs)
            mem.close()  # flush usage and save the index so the bytes on disk are complete
            total = sum(p.stat().st_size for p in mem.path.iterdir() if p.is_file())
            row["bytes_on_disk"] = total
            row["bytes_per_1000_memories"] = total / (size + args.singles) * 1000
            result["sizes"][str(size)] = row
            print(json.dumps({str(size): row}, indent=1), flush=True)
            mem = Memory(mem.path, config=config())
            mem.encoder.encode(["warm up"])
        mem.close()
    print(json.dumps(result, indent=1))
    if args.out:
        save(result, args.out)


if __name__ == "__main__":
    main()
