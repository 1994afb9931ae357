"""Exact top-k search: `embedlab.search.top_k` vs faiss `IndexFlatIP`, time and peak memory.

Random unit-norm float32 vectors (seeded) are written once to a temporary folder. Each method runs in
its own child process, which loads the vectors, notes its peak RSS (`ru_maxrss`) as the baseline,
then searches; the extra peak over that baseline is what the method needed. For faiss the index
copy made by `add` is shown apart from the search itself.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _env import machine

MB = 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB  # Linux: KiB


def child(method: str, folder: Path, k: int, repeat: int) -> None:
    """Runs in a fresh process: load, note the baseline, search, report as JSON on stdout."""
    import faiss  # imported by both children so that library code is in both baselines

    from embedlab.search.exact import top_k

    docs, queries = np.load(folder / "docs.npy"), np.load(folder / "queries.npy")
    baseline = peak_mb()
    build_s = 0.0
    if method == "faiss":
        start = time.perf_counter()
        index = faiss.IndexFlatIP(docs.shape[1])
        index.add(docs)
        build_s = time.perf_counter() - start
    after_build = peak_mb()
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        if method == "faiss":
            scores, idx = index.search(queries, k)
        else:
            idx, scores = top_k(queries, docs, k)
        seconds.append(time.perf_counter() - start)
    np.save(folder / f"{method}_idx.npy", idx)
    np.save(folder / f"{method}_scores.npy", scores)
    print(json.dumps({"build_s": build_s, "search_s": min(seconds),
                      "build_mb": after_build - baseline, "search_mb": peak_mb() - after_build,
                      "total_mb": peak_mb() - baseline}))


def unit_vectors(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    vectors /= np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None]
    return vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("-k", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="timed searches per method (best kept)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.k, args.repeat)
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rng = np.random.default_rng(args.seed)
        np.save(folder / "docs.npy", unit_vectors(rng, args.docs, args.dim))
        np.save(folder / "queries.npy", unit_vectors(rng, args.queries, args.dim))
        stats, idx, scores = {}, {}, {}
        for method in ("embedlab", "faiss"):
            out = subprocess.run([sys.executable, __file__, "--child", method, tmp, "-k", str(args.k),
                                  "--repeat", str(args.repeat)], check=True, capture_output=True,
                                 text=True).stdout
            stats[method] = json.loads(out.strip().splitlines()[-1])
            idx[method] = np.load(folder / f"{method}_idx.npy")
            scores[method] = np.load(folder / f"{method}_scores.npy")

    ours, theirs = stats["embedlab"], stats["faiss"]
    overlap = np.mean([len(np.intersect1d(a, b)) / args.k for a, b in zip(idx["embedlab"], idx["faiss"])])
    same_rows = np.mean((idx["embedlab"] == idx["faiss"]).all(axis=1))
    score_diff = np.abs(scores["embedlab"] - scores["faiss"]).max()
    data_mb = args.docs * args.dim * 4 / MB
    naive_mb = args.queries * args.docs * 4 / MB

    print(machine("faiss-cpu"))
    print(f"{args.docs:,} docs x {args.dim} float32 ({data_mb:,.0f} MB), {args.queries:,} queries, "
          f"top-{args.k}; best of {args.repeat} searches; memory = extra peak RSS over the "
          "loaded data\n")
    print("| | embedlab `top_k` | faiss `IndexFlatIP` | embedlab / faiss |\n|---|---|---|---|")
    print(f"| search (s) | {ours['search_s']:.2f} | {theirs['search_s']:.2f} | "
          f"**{ours['search_s'] / theirs['search_s']:.2f}x** |")
    print(f"| index build (s) | – | {theirs['build_s']:.2f} | |")
    print(f"| extra peak memory, search (MB) | {ours['search_mb']:.0f} | {theirs['search_mb']:.0f} | |")
    print(f"| extra peak memory, build + search (MB) | {ours['total_mb']:.0f} | "
          f"{theirs['total_mb']:.0f} | {ours['total_mb'] / max(theirs['total_mb'], 1):.2f}x |")
    print(f"| naive full score matrix, Q x N x 4 B (MB) | {naive_mb:,.0f} | | |")
    print(f"\nagreement: mean top-{args.k} set overlap {overlap:.4%}, identical ranked lists "
          f"{same_rows:.2%} of queries, largest score difference at the same rank {score_diff:.1e}")


if __name__ == "__main__":
    main()
