"""Vectorised ranking metrics with pytrec_eval's definitions, over whole (queries x ranks) matrices.

Input is the graded relevance of each query's ranked list, already in ranking order (descending score,
ties broken by descending document id, as trec_eval does), padded with 0 to a common depth.
Definitions (trec_eval, relevance level 1): a document is relevant when its grade >= 1;
P@k = rel_in_top_k / k; recall@k = rel_in_top_k / R; map@k = sum of precision at each relevant rank
<= k, / R; nDCG@k = DCG@k / ideal DCG@k with gain = grade and discount log2(rank + 1), the ideal taken
from all judged grades; hit_rate@k = any relevant in top k; mrr@k = 1 / rank of the first relevant
within k (mteb). R = number of judged relevant documents; a measure divided by R is 0 when R == 0.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from embedlab.metrics.names import Metric


def ranking_metrics(gains: np.ndarray, n_relevant: np.ndarray, ideal_gains: np.ndarray,
                    metrics: Iterable[Metric]) -> dict[str, np.ndarray]:
    """Per-query values of each metric.

    gains: (Q, K) grades of the ranked documents (0 = not relevant or not judged).
    n_relevant: (Q,) judged documents with grade >= 1.
    ideal_gains: (Q, J) every judged grade of the query, sorted descending, 0-padded.
    """
    gains = np.asarray(gains, dtype=np.float64)
    n_queries, depth = gains.shape
    metrics = list(metrics)
    relevant = gains >= 1
    hits = np.cumsum(relevant, axis=1, dtype=np.int64)
    n_rel = np.asarray(n_relevant, dtype=np.float64)
    safe_rel = np.where(n_rel > 0, n_rel, 1.0)
    out: dict[str, np.ndarray] = {}

    def at(matrix: np.ndarray, k: int) -> np.ndarray:
        if depth == 0:
            return np.zeros(n_queries)
        return matrix[:, min(k, depth) - 1]

    measures = {m.measure for m in metrics}
    if "map" in measures:
        ranks = np.arange(1, depth + 1, dtype=np.float64)
        precision_sum = np.cumsum(np.where(relevant, hits / ranks, 0.0), axis=1)
    if "ndcg" in measures:
        discount = 1.0 / np.log2(np.arange(2, max(depth, ideal_gains.shape[1]) + 2))
        dcg = np.cumsum(gains * discount[:depth], axis=1)
        ideal = np.asarray(ideal_gains, dtype=np.float64)
        idcg = np.cumsum(ideal * discount[: ideal.shape[1]], axis=1)
    if "mrr" in measures:
        first = np.where(relevant.any(axis=1), relevant.argmax(axis=1) + 1, np.iinfo(np.int64).max)

    for metric in metrics:
        k = metric.k
        if metric.measure == "precision":
            value = at(hits, k) / k
        elif metric.measure == "recall":
            value = np.where(n_rel > 0, at(hits, k) / safe_rel, 0.0)
        elif metric.measure == "hit_rate":
            value = (at(hits, k) > 0).astype(np.float64)
        elif metric.measure == "map":
            value = np.where(n_rel > 0, at(precision_sum, k) / safe_rel, 0.0)
        elif metric.measure == "mrr":
            value = np.where(first <= k, 1.0 / first, 0.0)
        elif metric.measure == "ndcg":
            top_dcg = at(dcg, k)
            top_idcg = idcg[:, min(k, idcg.shape[1]) - 1] if idcg.shape[1] else np.zeros(n_queries)
            value = np.divide(top_dcg, top_idcg, out=np.zeros(n_queries), where=top_idcg > 0)
        else:  # parse_metric guarantees the measure is known
            raise ValueError(metric.measure)
        out[str(metric)] = value
    return out


def ideal_matrix(grades_per_query: list[list[int]]) -> np.ndarray:
    """Judged grades per query, sorted descending and 0-padded, for the ideal DCG."""
    width = max((len(g) for g in grades_per_query), default=0)
    ideal = np.zeros((len(grades_per_query), width), dtype=np.float64)
    for row, grades in enumerate(grades_per_query):
        ideal[row, : len(grades)] = sorted(grades, reverse=True)
    return ideal
