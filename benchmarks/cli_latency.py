"""The `agentmem` command's latency, end to end, as a user's shell sees it: each figure is the wall time
of a whole `agentmem ...` process (interpreter start, imports, query encoding, reading, printing).

    .venv/bin/python benchmarks/cli_latency.py --out eval/results/cli/latency.json

- with a running server (`agentmem serve`, AGENTMEM_SERVER set): `recall` into a pipe (tab-separated
  lines), as --json, and as a terminal's table (TTY_COMPATIBLE=1: rendered as for a terminal), and
  `add`, over a store of --memories generated memories;
- without one: `recall` with a bad filter, and in a namespace that holds nothing, which must fail or
  warn before any model loads; and a plain `recall` that loads the model, for comparison.

The commands are those of the Python environment running this script (`agentmem` beside
`sys.executable`), so running it from a wheel install measures that install.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core import make_texts
from results_file import save

AGENTMEM = str(Path(sys.executable).with_name("agentmem"))
ENV = {k: v for k, v in os.environ.items() if not k.startswith("AGENTMEM_")}
ENV |= {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def timed(args: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    """p50 / p90 / min wall milliseconds of `agentmem ARGS` over `runs` runs (each must succeed)."""
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run([AGENTMEM, *args], env=env, capture_output=True, text=True)
        walls.append((time.perf_counter() - t) * 1000)
        if out.returncode not in (0, 1):
            raise SystemExit(f"agentmem {' '.join(args)} exited {out.returncode}: {out.stderr}")
    walls.sort()
    return {
        "p50_ms": round(statistics.median(walls), 1),
        "p90_ms": round(walls[int(0.9 * (len(walls) - 1))], 1),
        "min_ms": round(walls[0], 1),
        "runs": runs,
        "last_stderr": out.stderr.strip()[:200],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--memories", type=int, default=2000, help="memories in the store")
    ap.add_argument("--runs", type=int, default=30, help="runs of each command")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    result: dict = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg": os.getloadavg()},
        "agentmem": AGENTMEM,
        "memories": args.memories,
    }
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        env = {**ENV, "AGENTMEM_STORE": str(store)}
        texts = make_texts(args.memories)
        subprocess.run([AGENTMEM, "add", "-n", "user-42"], input="\n".join(texts), env=env, text=True,
                       check=True, capture_output=True)
        query = ["recall", "Who ran a marathon in Lisbon?", "-k", "5", "-n", "user-42"]

        server = subprocess.Popen([AGENTMEM, "serve", "--port", "0"], env=env, stderr=subprocess.PIPE, text=True)
        try:
            line = server.stderr.readline()
            m = re.match(r"agentmem server at (http://\S+) ", line)
            if not m:
                raise SystemExit(f"the server did not start: {line}{server.stderr.read()}")
            warm = {**env, "AGENTMEM_SERVER": m.group(1)}
            timed(query, warm, 3)  # the server's first calls settle caches
            result["with_server"] = {
                "recall": timed(query, warm, args.runs),
                "recall_json": timed([*query, "--json"], warm, args.runs),
                "recall_table": timed(query, {**warm, "TTY_COMPATIBLE": "1", "COLUMNS": "120"}, args.runs),
                "add": timed(["add", "Alice moved to Porto in June.", "-n", "user-42"], warm, args.runs),
            }
        finally:
            server.terminate()
            server.wait(timeout=60)

        result["without_server"] = {
            "bad_filter": timed([*query, "--filter", '{"a": {"$near": 1}}'], env, args.runs),
            "missing_namespace": timed(["recall", "Who ran a marathon?", "-n", "user-43"], env, args.runs),
            "recall_loading_the_model": timed(query, env, max(3, args.runs // 10)),
        }
    for group in ("with_server", "without_server"):
        for name, figures in result[group].items():
            print(f"{group:15s} {name:26s} p50 {figures['p50_ms']:8.1f} ms   p90 {figures['p90_ms']:8.1f} ms")
    if args.out:
        save(result, args.out)


if __name__ == "__main__":
    main()
