"""What approximate search costs: recall@k of an index's lists against the exact search, on a seeded sample of
queries (the indexes themselves are in `search.ann`).

An approximate list may miss documents the exact one has: `recall_vs_exact` is, per query, the share of its
exact top k the approximate top k also holds. `RecallSample` measures it on a seeded sample of query positions
(all of them when there are fewer), over queries searched in one batch (`eval --search`, `scorers.approximate`)
or chunk after chunk (`mine --search`, `mining.miner`): the exact search is run for the sampled queries only.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from embedlab.search.exact import top_k

SAMPLE = 200  # queries searched exactly too


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


class RecallSample:
    """recall@k against exact search of a seeded sample of `n_queries` queries' approximate lists, given in
    chunks of consecutive queries (`add`); `summary()` is the recorded cost."""

    def __init__(self, n_queries: int, k: int, *, size: int = SAMPLE, seed: int = 0) -> None:
        self.rows, self.k = sample_queries(n_queries, size, seed), k
        self.recalls: list[np.ndarray] = []
        self.seen, self.exact_seconds = 0, 0.0

    def add(self, queries: np.ndarray, docs: np.ndarray, approximate: np.ndarray,
            tie_rank: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The next queries (rows of this chunk) and their approximate lists: (the chunk's sampled rows, their
        exact lists as deep as the approximate ones)."""
        first, self.seen = self.seen, self.seen + len(queries)
        rows = self.rows[(self.rows >= first) & (self.rows < self.seen)] - first
        started = time.perf_counter()
        exact, _ = exact_sample(queries, docs, approximate.shape[1], rows, tie_rank)
        self.exact_seconds += time.perf_counter() - started
        self.recalls.append(recall_vs_exact(approximate[rows], exact, self.k))
        return rows, exact

    def summary(self) -> dict[str, Any]:
        recalls = np.concatenate(self.recalls) if self.recalls else np.zeros(0)
        return {"queries_sampled": len(recalls),
                f"recall@{self.k}_vs_exact": round(float(recalls.mean()), 6) if len(recalls) else None,
                "exact_seconds_per_query": round(self.exact_seconds / max(1, len(recalls)), 6)}
