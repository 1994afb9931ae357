"""Score a task from embeddings: the step between `embed.py` and `metrics/` for each task type."""

from __future__ import annotations

import numpy as np

from embedlab.errors import UnknownNameError
from embedlab.metrics.names import DEFAULT_K, Metric, all_metrics, parse_metric
from embedlab.metrics.reranking_v1 import average_precision, mrr_at_k
from embedlab.metrics.trec import ideal_matrix, ranking_metrics
from embedlab.search.exact import top_k
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask

RERANKING_V2 = [parse_metric(m) for m in ("map@1000", "mrr@10", "ndcg@10")]
RERANKING_SCORES = ["v1.map", "v1.mrr@10", *(f"v2.{m}" for m in RERANKING_V2)]
RERANKING_MAIN = "v1.map"
RETRIEVAL_MAIN = "ndcg@10"
_GROUP_STRIDE = 10**6


def score_names(task_type: str, k_values: tuple[int, ...] = DEFAULT_K) -> list[str]:
    """The per-query score names a task of this type gets from `evaluate`."""
    return list(RERANKING_SCORES) if task_type == "reranking" else [str(m) for m in all_metrics(k_values)]


def score_reranking(task: RerankingTask, queries: np.ndarray, documents: np.ndarray
                    ) -> dict[str, np.ndarray]:
    """Per-row scores under both semantics, keyed `v1.map`, `v1.mrr@10` and `v2.<metric>`.

    `queries` holds one vector per row, `documents` one per candidate in `task.texts("document")` order.
    v1 = C-MTEB / mteb 1.x RerankingEvaluator. v2 = mteb 2.x, where each row is a small retrieval
    problem with candidate ids `apositive_<q>_<i>` / `negative_<q>_<i>`, so ties go to negatives first
    (trec_eval breaks ties by descending id).
    """
    sizes = np.array([len(row.candidates) for row in task.rows])
    n_pos = np.array([len(row.positives) for row in task.rows])
    width = int(sizes.max())
    row_of = np.repeat(np.arange(len(sizes)), sizes)
    column = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    cosine = np.einsum("ij,ij->i", queries[row_of], documents)

    scores = np.full((len(sizes), width), -np.inf, dtype=np.float32)
    scores[row_of, column] = cosine
    valid = np.arange(width) < sizes[:, None]
    relevant = valid & (np.arange(width) < n_pos[:, None])
    out = {"v1.map": average_precision(scores, relevant, valid),
           "v1.mrr@10": mrr_at_k(scores, relevant, valid, 10)}

    # v2: descending score, then descending mteb id (negatives before positives, higher index first)
    index_in_group = np.where(relevant, np.arange(width), np.arange(width) - n_pos[:, None])
    tie_key = np.where(relevant, 0, _GROUP_STRIDE) + index_in_group
    primary = np.where(valid, -scores.astype(np.float64), np.inf)
    order = np.lexsort((-tie_key, primary), axis=1)
    gains = np.take_along_axis(relevant, order, axis=1).astype(np.float64)
    ideal = (np.arange(width) < n_pos[:, None]).astype(np.float64)
    for name, values in ranking_metrics(gains, n_pos, ideal, RERANKING_V2).items():
        out[f"v2.{name}"] = values
    return out


def score_retrieval(task: RetrievalTask, queries: np.ndarray, documents: np.ndarray,
                    metrics: list[Metric], depth: int = 1000) -> dict[str, np.ndarray]:
    """Per-query scores after an exact top-`depth` cosine search over the whole corpus."""
    doc_ids = list(task.corpus)
    position = {d: i for i, d in enumerate(doc_ids)}
    tie_rank = np.empty(len(doc_ids), dtype=np.int64)
    tie_rank[np.argsort(np.array(doc_ids, dtype=object), kind="stable")] = np.arange(len(doc_ids))
    ranked, _ = top_k(queries, documents, depth, tie_rank=tie_rank)
    gains, n_rel, ideal = relevance_of(task, ranked, position)
    return ranking_metrics(gains, n_rel, ideal, metrics)


def relevance_of(task: RetrievalTask, ranked: np.ndarray, position: dict[str, int],
                 cells: int = 1 << 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grades of the ranked documents, relevant counts and ideal grades per query.

    The grades are scattered into a small dense (queries x documents) block a few queries at a time
    (at most `cells` cells, so it stays in cache) and gathered at the ranked positions:
    O(judgments + ranked cells), no sort, no hashing per cell.
    """
    n_docs = len(position)
    grade_lists = [list(task.qrels[qid].values()) for qid in task.queries]
    counts = np.array([len(g) for g in grade_lists])
    total = int(counts.sum())
    pair_query = np.repeat(np.arange(len(grade_lists)), counts)
    pair_doc = np.fromiter((position[d] for qid in task.queries for d in task.qrels[qid]),
                           dtype=np.int64, count=total)
    pair_grade = np.fromiter((g for gl in grade_lists for g in gl), dtype=np.int32, count=total)
    starts = np.concatenate([[0], np.cumsum(counts)])
    chunk = max(1, min(len(ranked), cells // max(n_docs, 1)))
    dense = np.zeros(chunk * n_docs, dtype=np.int32)
    row_offset = (np.arange(chunk) * n_docs)[:, None]
    gains = np.empty(ranked.shape, dtype=np.int32)
    for q0 in range(0, len(ranked), chunk):
        q1 = min(q0 + chunk, len(ranked))
        pairs = slice(starts[q0], starts[q1])
        flat = (pair_query[pairs] - q0) * n_docs + pair_doc[pairs]
        dense[flat] = pair_grade[pairs]
        np.take(dense, ranked[q0:q1] + row_offset[: q1 - q0], out=gains[q0:q1])
        dense[flat] = 0
    n_rel = np.array([sum(g >= 1 for g in gl) for gl in grade_lists])
    return gains, n_rel, ideal_matrix(grade_lists)


def score_name(text: str) -> str:
    """Normalise a score name users type: `v1.map`, `v1.mrr@10`, `v2.map@1000`, `nDCG@10` -> `ndcg@10`."""
    text = text.strip()
    if text.lower() in ("v1.map", "v1.mrr@10"):
        return text.lower()
    prefix, _, rest = text.rpartition(".")
    if prefix.lower() not in ("", "v2"):
        raise UnknownNameError("score prefix", prefix, ["v1", "v2"])
    return (prefix.lower() + "." if prefix else "") + str(parse_metric(rest))
