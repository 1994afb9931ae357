"""Approximate top-k inner-product search with faiss (`--search faiss-ivf|faiss-hnsw`), and what it costs.

For corpora where the exact blockwise search (`search.exact`) is too slow. An approximate list may miss
documents the exact one has: `recall_vs_exact` measures that on a seeded sample of queries (the share of
each exact top-k the approximate top-k also holds), which every run reports next to its scores.

Settings are fixed and recorded, so a run is reproducible: IVF with nlist = 4 sqrt(n) lists (at most n / 39,
faiss' minimum of training points per list), trained on a seeded sample, probing nlist / 8 of them; HNSW
with M = 32 links, efConstruction 80, efSearch max(128, 2k). Vectors are added in chunks, so a memory-mapped
corpus is never copied whole a second time (the index itself holds one float32 copy).
"""

from __future__ import annotations

import math

import numpy as np

from embedlab.errors import require
from embedlab.search.exact import top_k

METHODS = ("faiss-ivf", "faiss-hnsw")
ADD_CHUNK = 65536
TRAIN_PER_LIST = 64  # training points per IVF list


def ivf_lists(n: int) -> int:
    return max(1, min(int(4 * math.sqrt(n)), n // 39))


class ApproximateIndex:
    """An IVF or HNSW index over `vectors` (rows: unit documents), searched by inner product."""

    def __init__(self, vectors: np.ndarray, method: str, *, seed: int = 0) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown approximate search {method!r} (known: {', '.join(METHODS)})")
        faiss = require("faiss", f"--search {method}")
        n, dim = vectors.shape
        self.method = method
        if method == "faiss-ivf":
            lists = ivf_lists(n)
            self.index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
            sample = np.sort(np.random.default_rng(seed).choice(n, min(n, lists * TRAIN_PER_LIST), replace=False))
            self.index.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
            self.index.nprobe = max(1, lists // 8)
            self.settings = {"nlist": lists, "nprobe": self.index.nprobe}
        else:
            self.index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            self.index.hnsw.efConstruction = 80
            self.settings = {"M": 32, "efConstruction": 80}
        for c0 in range(0, n, ADD_CHUNK):
            self.index.add(np.ascontiguousarray(vectors[c0:c0 + ADD_CHUNK], dtype=np.float32))

    def top_k(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices (-1 where fewer were found) and scores, both (Q, k), best first."""
        if self.method == "faiss-hnsw":
            self.index.hnsw.efSearch = max(128, 2 * k)
            self.settings["efSearch"] = self.index.hnsw.efSearch
        scores, indices = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return indices.astype(np.int64), scores


def sample_queries(n_queries: int, size: int, seed: int) -> np.ndarray:
    """A seeded sample of query positions (sorted), all of them when there are fewer than `size`."""
    if n_queries <= size:
        return np.arange(n_queries)
    return np.sort(np.random.default_rng(seed).choice(n_queries, size, replace=False))


def recall_vs_exact(approximate: np.ndarray, exact: np.ndarray, k: int) -> np.ndarray:
    """Per query: the share of its exact top k that the approximate top k also holds."""
    hits = [len(set(a[:k][a[:k] >= 0].tolist()) & set(e[:k][e[:k] >= 0].tolist())) / max(1, int((e[:k] >= 0).sum()))
            for a, e in zip(approximate, exact)]
    return np.asarray(hits, dtype=np.float64)


def exact_sample(queries: np.ndarray, docs: np.ndarray, k: int, rows: np.ndarray, tie_rank: np.ndarray | None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The exact top k of the sampled queries (the reference of the approximate search's cost)."""
    return top_k(queries[rows], docs, k, tie_rank=tie_rank)
