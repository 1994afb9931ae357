"""`eval --index hnsw|ivf|usearch|flat`: a dense model's retrieval (alone or as a hybrid's part) ranked by an index
(`search.ann.search_index`, its recorded settings), with its cost.

The cost is measured per task on a seeded sample of queries (all of them when the task has fewer): recall@k of
the approximate lists against the exact search (`search.approximate.RecallSample`, which `mine --search` uses
too), and the change of nDCG@10 (approximate - exact) on the same queries with a paired bootstrap CI. Each run
records them under `approximate_search` in its model work counts (a hybrid's: per task and dense part).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from embedlab.metrics.names import parse_metric
from embedlab.results.stats import paired_bootstrap_ci
from embedlab.search.ann import search_index
from embedlab.search.approximate import SAMPLE, RecallSample
from embedlab.search.names import index_name
from embedlab.tasks.retrieval import RetrievalTask
from embedlab.tasks.scoring import score_retrieval

RECALL_AT = 10


class ApproximateSearch:
    """Ranks with `search.ann.search_index(method)`; `costs[task]`: what approximation cost on that task."""

    def __init__(self, method: str, *, seed: int = 0, sample: int = SAMPLE) -> None:
        self.method, self.seed, self.sample = index_name(method), seed, sample
        self.costs: dict[str, dict[str, Any]] = {}

    def ranking(self, task: RetrievalTask, queries: np.ndarray, docs: np.ndarray, depth: int,
                tie_rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        started = time.perf_counter()
        index = search_index(self.method, docs, seed=self.seed)
        built = time.perf_counter()
        idx, scores = index.search(queries, min(depth, len(docs)))
        searched = time.perf_counter()
        self.costs[task.name] = {"method": self.method, **index.settings, "build_seconds": round(built - started, 4),
                                 "search_seconds": round(searched - built, 4),
                                 **self.cost(task, queries, docs, idx, tie_rank)}
        return idx, scores

    def cost(self, task: RetrievalTask, queries: np.ndarray, docs: np.ndarray, idx: np.ndarray,
             tie_rank: np.ndarray) -> dict[str, Any]:
        recall = RecallSample(len(queries), min(RECALL_AT, idx.shape[1]), size=self.sample, seed=self.seed)
        rows, exact = recall.add(queries, docs, idx, tie_rank)
        metric = parse_metric(f"ndcg@{RECALL_AT}")
        exact_ranked = idx.copy()
        exact_ranked[rows] = exact
        approximate = score_retrieval(task, idx, [metric])[str(metric)][rows]
        reference = score_retrieval(task, exact_ranked, [metric])[str(metric)][rows]
        change = paired_bootstrap_ci(approximate, reference, seed=self.seed, resamples=2000)
        return {**recall.summary(), f"{metric}_exact": round(float(reference.mean()), 6),
                f"{metric}_change": round(change.mean, 6), f"{metric}_change_ci95": [round(change.low, 6),
                                                                                    round(change.high, 6)]}
