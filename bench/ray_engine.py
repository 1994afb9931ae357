"""`--engine ray`: overhead against the in-process engine, scale, and approximate search at 1M passages.

a. overhead: `evaluate` on xquad_r_zh (reranking + sentence retrieval, bundled MiniLM) in process, then on a
   local Ray cluster with 1 and 2 workers (the cluster's cores shared among them: Ray sets their torch threads);
   start-up is reported apart: `ray.init`, and a worker pool's start (as many actors spawned, the model loaded)
   measured on a run of 64 short texts per worker. Medians of 3 runs each.
b. scale: synthetic passages (random words) through a tiny BERT built from a config (2 layers, 32 wide; the
   machinery is measured, not a model): every passage encoded on Ray into shards, then all vectors read back
   aligned (a memory map). Driver memory is the peak anonymous RSS above its level before the run.
c. search at the largest size: exact blockwise top-10 vs faiss IVF / HNSW for 1,000 queries (a passage with one
   word changed; its passage is the one relevant document): time, memory, recall@10 vs exact, nDCG@10 change.
e. remote: the same shards in a local folder and on an S3 API (moto's server on this machine, `pip install
   'moto[server]'`): write (one PUT per file), index, and read every vector back aligned (remote shards are
   copied once into the scratch folder), local vs S3 in the same run.

    python bench/ray_engine.py overhead
    python bench/ray_engine.py remote --passages 200000
    python bench/ray_engine.py scale --passages 100000 1000000 3000000 --no-search
    python bench/ray_engine.py scale --passages 1000000          # with (c)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _env import machine, require_data
from mining_speed import Peak

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests.conftest.make_tiny_model


def start_ray(workers: int = 2):
    import ray

    started = time.perf_counter()
    ray.init(num_cpus=workers, object_store_memory=300 << 20, include_dashboard=False, logging_level="error",
             log_to_driver=False)
    return time.perf_counter() - started


def overhead(data: Path, repeats: int = 3) -> list[dict]:
    from embedlab.demo import default_model
    from embedlab.embedding.engines import EngineOptions
    from embedlab.embedding.engines.store import ShardedStore
    from embedlab.models.registry import load_model
    from embedlab.run.evaluation import RunOptions, evaluate

    tasks = [data / "xquad_r_zh" / "reranking" / "test.jsonl", data / "xquad_r_zh" / "retrieval_sentence"]
    model = load_model(default_model())

    def timed(run=None):
        started = time.perf_counter()
        done = evaluate(model, tasks, run=run)
        return time.perf_counter() - started, done.runs[0].tasks[1].scores["ndcg@10"]

    local = [timed() for _ in range(repeats)]
    rows = [{"engine": "in process", "seconds": round(float(np.median([t for t, _ in local])), 1), "startup": 0.0,
             "runs": [round(t, 1) for t, _ in local], "ndcg": local[0][1]}]
    init = start_ray()
    for workers in (1, 2):
        pools, runs = [], []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as scratch:  # a pool of `workers` actors on a few short texts
                engine = EngineOptions(workers=workers, vectors=Path(scratch) / "warm")
                started = time.perf_counter()
                ShardedStore(model, engine, progress=False).embed([f"text {i}" for i in range(64 * workers)],
                                                                   "document")
                pools.append(time.perf_counter() - started)
            runs.append(timed(RunOptions(engine=EngineOptions(workers=workers))))
        # one worker pool per eval: every task's documents are encoded before the first task is scored
        rows.append({"engine": f"ray, {workers} worker(s)", "seconds": round(float(np.median([t for t, _ in runs])), 1),
                     "startup": round(float(np.median(pools)), 1), "init": round(init, 1),
                     "runs": [round(t, 1) for t, _ in runs], "pools": [round(p, 1) for p in pools],
                     "ndcg": runs[0][1]})
    for row in rows:
        row["ratio"] = round((row["seconds"] - row["startup"]) / rows[0]["seconds"], 3)
        print(json.dumps(row))
    return rows


def passages(n: int, seed: int = 0) -> list[str]:
    from embedlab.demo import default_model

    vocab = [w for w in (Path(default_model()) / "vocab.txt").read_text().split() if w.isalpha() and len(w) > 2]
    rng = np.random.default_rng(seed)
    words = rng.integers(0, len(vocab), (n, 10))
    return [f"{i} " + " ".join(vocab[j] for j in row) for i, row in enumerate(words)]


def scale(sizes: list[int], out: Path, with_search: bool = True) -> list[dict]:
    from embedlab.embedding.engines import EngineOptions
    from embedlab.embedding.engines.store import ShardedStore
    from embedlab.models import ModelOptions
    from embedlab.models.registry import load_model
    from tests.conftest import make_tiny_model

    tiny = make_tiny_model(out / "tiny", dropout=0.0)
    model = load_model(str(tiny), ModelOptions(batch_size=256))
    start_ray()
    rows = []
    for n in sizes:
        texts = passages(n)
        engine = EngineOptions(workers=2, vectors=out / f"vectors-{n}", shard_size=8192)
        with Peak() as peak:
            store = ShardedStore(model, engine, batch_size=256, progress=False)
            store.prepare([texts])
            encoded = time.perf_counter() - peak.t0
            vectors = store.embed(texts, "document")
            checksum = float(np.asarray(vectors[:: max(1, n // 1000)]).sum())
        rows.append({"passages": n, "encode_s": round(encoded, 1), "per_s": round(n / encoded),
                     "read_s": round(peak.seconds - encoded, 1), "driver_anon_mb": round(peak.anon / 1e6),
                     "texts_mb": round(sum(map(len, texts)) / 1e6), "shards": len(store.vectors.shards),
                     "shard_mb": round(store.vectors.bytes_on_disk() / 1e6, 1), "checksum": round(checksum, 3)})
        print(json.dumps(rows[-1]))
        del vectors, store
    if sizes and with_search:
        rows.append(search(model, passages(sizes[-1]), out / f"vectors-{sizes[-1]}"))
    return rows


def search(model, texts: list[str], folder: Path) -> dict:
    from embedlab.embedding.engines.vectors import VectorDir, text_ids
    from embedlab.embedding.store import EmbeddingStore
    from embedlab.results.stats import paired_bootstrap_ci
    from embedlab.search.ann import search_index
    from embedlab.search.approximate import recall_vs_exact
    from embedlab.search.exact import top_k

    rng = np.random.default_rng(1)
    relevant = np.sort(rng.choice(len(texts), 1000, replace=False))
    queries = []
    for i in relevant:
        words = texts[i].split(" ")
        words[1 + rng.integers(0, len(words) - 1)] = "changed"
        queries.append(" ".join(words))
    q = EmbeddingStore(model, progress=False).embed(queries, "query")
    with tempfile.TemporaryDirectory() as scratch:
        docs = VectorDir(folder, scratch=Path(scratch)).read(text_ids(texts))
        found = {}
        with Peak() as peak:
            found["exact"] = top_k(q, docs, 10)[0]
        costs = {"exact": (peak.seconds, peak.anon)}
        for method in ("faiss-ivf", "faiss-hnsw"):
            with Peak() as peak:
                index = search_index(method, docs)
                built = time.perf_counter() - peak.t0
                found[method] = index.search(q, 10)[0]
            costs[method] = (peak.seconds, peak.anon, built, index.settings)
            del index

    def ndcg(idx):
        hit = idx == relevant[:, None]
        return np.where(hit.any(1), 1 / np.log2(2 + hit.argmax(1)), 0.0)

    row = {"passages": len(texts), "queries": 1000, "exact_s": round(costs["exact"][0], 2),
           "exact_mb": round(costs["exact"][1] / 1e6), "ndcg_exact": round(float(ndcg(found["exact"]).mean()), 4)}
    for method in ("faiss-ivf", "faiss-hnsw"):
        seconds, anon, built, settings = costs[method]
        change = paired_bootstrap_ci(ndcg(found[method]), ndcg(found["exact"]), resamples=2000)
        row[method] = {"seconds": round(seconds, 1), "build_s": round(built, 1), "mb": round(anon / 1e6),
                       "recall@10": round(float(recall_vs_exact(found[method], found["exact"], 10).mean()), 4),
                       "ndcg_change": [round(change.mean, 4), round(change.low, 4), round(change.high, 4)],
                       **settings}
    print(json.dumps(row))
    return row


def remote(n: int, out: Path) -> list[dict]:
    import logging
    import socket

    from moto.server import ThreadedMotoServer
    from pyarrow.fs import S3FileSystem

    from embedlab.embedding.engines.vectors import VectorDir, manifest_for, text_ids

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto logs every request otherwise
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    S3FileSystem(endpoint_override=f"127.0.0.1:{port}", scheme="http", access_key="k", secret_key="s",
                 region="us-east-1", allow_bucket_creation=True).create_dir("bench")
    texts = passages(n)
    ids = text_ids(texts)
    vectors = np.random.default_rng(0).normal(size=(n, 384)).astype(np.float32)
    info = {"name": "synthetic", "dimension": 384}
    rows = []
    for where, spec in [("local folder", str(out / "local")),
                        ("S3 (moto)", f"s3://k:s@bench/v?endpoint_override=127.0.0.1:{port}&scheme=http"
                                      "&region=us-east-1")]:
        started = time.perf_counter()
        folder = VectorDir(spec, manifest_for(info, "key", "cpu"), scratch=out / f"scratch-{len(rows)}")
        for s0 in range(0, n, 8192):
            folder.write_shard(ids[s0:s0 + 8192], vectors[s0:s0 + 8192])
        written = time.perf_counter() - started
        started = time.perf_counter()
        reader = VectorDir(spec, scratch=out / f"reader-{len(rows)}")  # a rerun: index, then read all
        got = reader.read(ids)
        read = time.perf_counter() - started
        assert np.array_equal(got, vectors)
        rows.append({"where": where, "passages": n, "shards": len(reader.shards), "write_s": round(written, 2),
                     "index_and_read_s": round(read, 2), "mirrored_mb": round(reader.location.mirrored / 1e6, 1),
                     "bytes_mb": round(reader.bytes_on_disk() / 1e6, 1)})
        print(json.dumps(rows[-1]))
    server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["overhead", "scale", "remote"])
    parser.add_argument("--passages", type=int, nargs="+", default=[100_000])
    parser.add_argument("--no-search", action="store_true", help="scale: no search comparison (c)")
    parser.add_argument("--out", type=Path, default=None, help="where the shards go [default: a temporary folder]")
    args = parser.parse_args()
    print(machine("ray", "faiss-cpu", "torch"))
    if args.part == "overhead":
        overhead(require_data())
        return
    if args.part == "remote":
        with tempfile.TemporaryDirectory() as scratch:
            remote(args.passages[0], Path(scratch))
        return
    with tempfile.TemporaryDirectory() as scratch:
        scale(args.passages, args.out or Path(scratch), with_search=not args.no_search)


if __name__ == "__main__":
    main()
