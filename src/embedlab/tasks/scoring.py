"""Score a task from what a model gives: a score per candidate of each reranking row, or a ranking of the
corpus per retrieval query. How a model produces them (vectors, BM25, a cross-encoder) is its scorer's
business (`scorers/`); from here on every model is scored by the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from embedlab.metrics.names import V1_SCORES, Metric, parse_metric
from embedlab.metrics.reranking_v1 import average_precision, mrr_at_k
from embedlab.metrics.trec import ideal_matrix, ranking_metrics
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask

RERANKING_V2 = [parse_metric(m) for m in ("map@1000", "mrr@10", "ndcg@10")]
RERANKING_SCORES = [*V1_SCORES, *(f"v2.{m}" for m in RERANKING_V2)]
_GROUP_STRIDE = 10**6


class ModelOutputs(Protocol):
    """What scoring needs from a model, whatever its kind (`scorers.base.Scorer` gives it)."""

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        """One score per candidate, in `task.texts("document")` order (higher = more relevant)."""

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """(indices into `list(task.corpus)`, scores) of each query's top `depth`, best first; -1 pads."""


@dataclass(frozen=True)
class Grid:
    """A reranking task's candidates laid out as a (rows, width) grid: row r's candidates, in order, in its first
    `sizes[r]` cells; candidate i (in `task.texts("document")` order) sits at (`row_of[i]`, `column[i]`)."""

    sizes: np.ndarray
    row_of: np.ndarray
    column: np.ndarray

    @classmethod
    def of(cls, task: RerankingTask) -> Grid:
        sizes = np.array([len(row.candidates) for row in task.rows], dtype=np.int64)
        row_of = np.repeat(np.arange(len(sizes)), sizes)
        return cls(sizes, row_of, np.arange(len(row_of)) - np.repeat(np.cumsum(sizes) - sizes, sizes))

    @property
    def width(self) -> int:
        return int(self.sizes.max()) if len(self.sizes) else 0

    @property
    def valid(self) -> np.ndarray:
        return np.arange(self.width) < self.sizes[:, None]

    def spread(self, values: np.ndarray, fill: float = -np.inf, dtype=np.float32) -> np.ndarray:
        """Per-candidate values as a (rows, width) array, `fill` in the cells past each row's candidates."""
        out = np.full((len(self.sizes), self.width), fill, dtype=dtype)
        out[self.row_of, self.column] = values
        return out

    def gather(self, grid: np.ndarray) -> np.ndarray:
        """The inverse of `spread`: one value per candidate, in task order."""
        return grid[self.row_of, self.column]


def score_reranking(task: RerankingTask, candidate_scores: np.ndarray) -> dict[str, np.ndarray]:
    """Per-row scores under both semantics, keyed `v1.map`, `v1.mrr@10` and `v2.<metric>`.

    `candidate_scores` holds one score per candidate in `task.texts("document")` order.
    v1 = C-MTEB / mteb 1.x RerankingEvaluator. v2 = mteb 2.x, where each row is a small retrieval
    problem with candidate ids `apositive_<q>_<i>` / `negative_<q>_<i>`, so ties go to negatives first
    (trec_eval breaks ties by descending id).
    """
    grid = Grid.of(task)
    n_pos = np.array([len(row.positives) for row in task.rows])
    width, valid = grid.width, grid.valid
    scores = grid.spread(candidate_scores)
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


def score_retrieval(task: RetrievalTask, ranked: np.ndarray, metrics: list[Metric]) -> dict[str, np.ndarray]:
    """Per-query scores of a ranking: `ranked` holds indices into `list(task.corpus)`, best first, -1 pads."""
    position = {d: i for i, d in enumerate(task.corpus)}
    gains, n_rel, ideal = relevance_of(task, ranked, position)
    return ranking_metrics(gains, n_rel, ideal, metrics)


def tie_order(task: RetrievalTask) -> np.ndarray:
    """Each document's rank in the sorted id order: ties of a score go to the higher id, as trec_eval and
    mteb break them (pass as `tie_rank` to `search.exact.top_k`)."""
    doc_ids = list(task.corpus)
    tie_rank = np.empty(len(doc_ids), dtype=np.int64)
    tie_rank[np.argsort(np.array(doc_ids, dtype=object), kind="stable")] = np.arange(len(doc_ids))
    return tie_rank


def relevance_of(task: RetrievalTask, ranked: np.ndarray, position: dict[str, int],
                 cells: int = 1 << 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grades of the ranked documents, relevant counts and ideal grades per query.

    The grades are scattered into a small dense (queries x documents) block a few queries at a time
    (at most `cells` cells, so it stays in cache) and gathered at the ranked positions:
    O(judgments + ranked cells), no sort, no hashing per cell. A padding index (-1) has grade 0.
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
    dense = np.zeros(chunk * n_docs + 1, dtype=np.int32)  # the last cell stays 0: where padding points
    padding = ranked < 0
    row_offset = (np.arange(chunk) * n_docs)[:, None]
    gains = np.empty(ranked.shape, dtype=np.int32)
    for q0 in range(0, len(ranked), chunk):
        q1 = min(q0 + chunk, len(ranked))
        pairs = slice(starts[q0], starts[q1])
        flat = (pair_query[pairs] - q0) * n_docs + pair_doc[pairs]
        dense[flat] = pair_grade[pairs]
        cells_at = np.where(padding[q0:q1], chunk * n_docs, ranked[q0:q1] + row_offset[: q1 - q0])
        np.take(dense, cells_at, out=gains[q0:q1])
        dense[flat] = 0
    n_rel = np.array([sum(g >= 1 for g in gl) for gl in grade_lists])
    return gains, n_rel, ideal_matrix(grade_lists)
