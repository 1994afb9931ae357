"""A learned sparse model's scorer: dot products of CSR rows, each reranking row's candidates against its query,
or an exact top-k over a corpus through an inverted index (`search.sparse`), with what the index costs."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from embedlab.embedding.outputs import SparseStore
from embedlab.scorers.base import Scorer
from embedlab.search.sparse import SparseIndex, pair_scores
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask
from embedlab.tasks.scoring import Grid, tie_order


class SparseScorer(Scorer):
    """Sparse dot product: every candidate of a row, or an exact top-k over the corpus (never densified)."""

    def __init__(self, store: SparseStore) -> None:
        self.store, self.name = store, store.model.name
        self.costs: dict[str, dict[str, Any]] = {}  # per retrieval task: the index's size and speed

    @property
    def model_seconds(self) -> float:
        return self.store.stats.seconds

    def stats(self) -> dict[str, Any]:
        return {**self.store.stats_dict(), **({"sparse_index": self.costs} if self.costs else {})}

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        queries = self.store.embed(task.texts("query"), "query")
        documents = self.store.embed(task.texts("document"), "document")
        return pair_scores(queries[Grid.of(task).row_of], documents)

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        documents = self.store.embed(task.texts("document"), "document")
        queries = self.store.embed(task.texts("query"), "query")
        started = time.perf_counter()
        index = SparseIndex(documents)
        built = time.perf_counter()
        ranked = index.search(queries, min(depth, len(task.corpus)), tie_rank=tie_order(task))
        searched = time.perf_counter()
        self.costs[task.name] = {
            "index_bytes": index.nbytes, "nnz_per_document": round(index.nnz / max(index.n_docs, 1), 2),
            "nnz_per_query": round(queries.nnz / max(queries.shape[0], 1), 2),
            "build_seconds": round(built - started, 4),
            "ms_per_query": round(1000 * (searched - built) / max(queries.shape[0], 1), 4)}
        return ranked
