"""Scoring of learned sparse and multi-vector outputs: embedlab's kernels vs the reference of each kind on the same
vectors, time and memory, at a corpus size and 10x it.

Sparse: SPLADE-like rows (30,522 terms, Zipf-distributed term ids: common terms have long postings; ~120 terms a
document, ~25 a query), top-100. embedlab `search.sparse.SparseIndex` (chunked inverted index, scipy sparse-sparse
products, trec tie order) vs `splade-index` (its numpy scoring: `np.add.at` over each posting list, then its top-k
selection) and vs one scipy product `Q @ D.T` (the bm25s-style matrix product, whose Q x N result grows with the
corpus). MaxSim: unit token vectors (dim 64; ~40 tokens a document, 32 a query), top-100 by exact MaxSim:
embedlab `search.maxsim.top_k` vs sentence-transformers' `maxsim` (what mteb's MultiVectorWrapper scores with;
pylate's `colbert_scores` when pylate is importable, which it is not here: pylate 1.6 pins sentence-transformers
5.3.0) followed by a top-k. Each method runs in its own child process; memory is the extra peak RSS (VmHWM) over
the vectors already loaded.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _env import machine

MB = 2**20
VOCAB = 30522


def peak_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) * 1024 / MB


def sparse_rows(rng, n: int, terms: int):
    import scipy.sparse as sp

    lengths = rng.poisson(terms, n).clip(1)
    ids = (rng.zipf(1.3, lengths.sum()) - 1) % VOCAB
    rows = sp.csr_matrix((rng.random(lengths.sum()).astype(np.float32) * 2, ids,
                          np.concatenate([[0], np.cumsum(lengths)])), shape=(n, VOCAB))
    rows.sum_duplicates()
    return rows


def token_blocks(rng, n: int, tokens: int, dim: int) -> list[np.ndarray]:
    out = []
    for length in rng.poisson(tokens, n).clip(2):
        block = rng.standard_normal((int(length), dim)).astype(np.float32)
        out.append(block / np.linalg.norm(block, axis=1, keepdims=True))
    return out


def write(folder: Path, docs: int, queries: int, seed: int) -> None:
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    sp.save_npz(folder / "sparse_docs.npz", sparse_rows(rng, docs, 120))
    sp.save_npz(folder / "sparse_queries.npz", sparse_rows(rng, queries, 25))
    for name, (n, tokens) in {"tok_docs": (docs // 10, 40), "tok_queries": (max(queries // 10, 20), 32)}.items():
        blocks = token_blocks(rng, n, tokens, 64)
        np.save(folder / f"{name}.npy", np.concatenate(blocks))
        np.save(folder / f"{name}_lengths.npy", np.array([len(b) for b in blocks]))


def run_sparse(method: str, folder: Path, k: int) -> tuple[np.ndarray, float, float]:
    import scipy.sparse as sp
    from splade_index import (
        SPLADE,  # every method imports the same libraries before its baseline
    )
    from splade_index.selection import topk

    from embedlab.search.sparse import SparseIndex

    docs, queries = sp.load_npz(folder / "sparse_docs.npz").tocsr(), sp.load_npz(folder / "sparse_queries.npz").tocsr()
    base = peak_mb()
    start = time.perf_counter()
    if method == "embedlab":
        idx, _ = SparseIndex(docs).search(queries, k)
    elif method == "splade-index":
        csc = docs.tocsc()
        scores = {"data": csc.data, "indices": csc.indices.astype(np.int32), "indptr": csc.indptr.astype(np.int32),
                  "num_docs": docs.shape[0]}
        idx = np.empty((queries.shape[0], k), dtype=np.int64)
        for i in range(queries.shape[0]):
            row = queries[i]
            dense = SPLADE._compute_relevance_from_scores(scores["data"], scores["indptr"], scores["indices"],
                                                          scores["num_docs"], row.indices, row.data, np.float32)
            _, idx[i] = topk(dense, k, backend="numpy", sorted=True)
    else:  # one scipy product, the bm25s-style matrix of every query against every document
        product = (queries @ docs.T).toarray()
        part = np.argpartition(-product, k, axis=1)[:, :k]
        idx = np.take_along_axis(part, np.argsort(-np.take_along_axis(product, part, 1), axis=1, kind="stable"), 1)
    return idx, time.perf_counter() - start, peak_mb() - base


def run_maxsim(method: str, folder: Path, k: int) -> tuple[np.ndarray, float, float]:
    import torch

    from embedlab.search.maxsim import top_k
    from embedlab.search.ragged import Ragged

    try:
        from pylate.scores import colbert_scores as reference
    except ImportError:
        from sentence_transformers.util.similarity import maxsim as reference

    def ragged(name):
        vectors, lengths = np.load(folder / f"{name}.npy"), np.load(folder / f"{name}_lengths.npy")
        return Ragged(vectors, np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)

    docs, queries = ragged("tok_docs"), ragged("tok_queries")
    base = peak_mb()
    start = time.perf_counter()
    if method == "embedlab":
        idx, _ = top_k(queries, docs, k)
    else:
        scores = reference([torch.from_numpy(b) for b in queries.blocks()],
                           [torch.from_numpy(b) for b in docs.blocks()]).numpy()
        idx = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return idx, time.perf_counter() - start, peak_mb() - base


def child(kind: str, method: str, folder: Path, k: int) -> None:
    idx, seconds, extra = (run_sparse if kind == "sparse" else run_maxsim)(method, folder, k)
    np.save(folder / f"{kind}_{method}_idx.npy", idx)
    print(json.dumps({"seconds": seconds, "extra_mb": extra}))


METHODS = {"sparse": ("embedlab", "splade-index", "scipy-product"), "maxsim": ("embedlab", "reference")}


def measure(folder: Path, k: int, repeat: int) -> dict:
    out = {}
    for kind, methods in METHODS.items():
        for method in methods:
            runs = [json.loads(subprocess.run([sys.executable, __file__, "--child", kind, method, str(folder),
                                               "-k", str(k)], check=True, capture_output=True, text=True)
                               .stdout.strip().splitlines()[-1]) for _ in range(repeat)]
            out[(kind, method)] = {"seconds": min(r["seconds"] for r in runs),
                                   "extra_mb": min(r["extra_mb"] for r in runs),
                                   "idx": np.load(folder / f"{kind}_{method}_idx.npy")}
    return out


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([len(np.intersect1d(x, y)) / len(y) for x, y in zip(a, b)]))


def report(docs: int, queries: int, stats: dict, folder: Path) -> None:
    import scipy.sparse as sp

    d = sp.load_npz(folder / "sparse_docs.npz")
    tokens = np.load(folder / "tok_docs_lengths.npy")
    print(f"\n**{docs:,} sparse documents** ({d.nnz / docs:.0f} terms each, {d.nnz * 8 / MB:.0f} MB as CSR), "
          f"{queries:,} queries; **{len(tokens):,} multi-vector documents** ({tokens.mean():.0f} tokens x 64 each, "
          f"{tokens.sum() * 64 * 4 / MB:.0f} MB), top-100\n")
    print("| kind | method | time (s) | embedlab speed-up | extra peak RSS (MB) | top-100 overlap with embedlab |")
    print("|---|---|---|---|---|---|")
    for (kind, method), row in stats.items():
        ours = stats[(kind, "embedlab")]
        print(f"| {kind} | {method} | {row['seconds']:.2f} | {row['seconds'] / ours['seconds']:.2f}x | "
              f"{row['extra_mb']:.0f} | {overlap(row['idx'], ours['idx']):.4f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("-k", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "METHOD", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], Path(args.child[2]), args.k)
        return
    print(machine("scipy", "splade-index", "sentence-transformers", "torch"))
    for docs in args.docs:
        with tempfile.TemporaryDirectory() as tmp:
            write(Path(tmp), docs, args.queries, args.seed)
            report(docs, args.queries, measure(Path(tmp), args.k, args.repeat), Path(tmp))


if __name__ == "__main__":
    main()
