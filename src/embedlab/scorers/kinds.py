"""The scorers of the three kinds of model: vectors (DenseScorer), a ranking (RankerScorer, BM25Scoring),
scored pairs (PairScoring). Each checks what its model returns and counts the seconds spent in it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from embedlab.embedding.store import EmbeddingStore
from embedlab.errors import ModelError
from embedlab.models.base import Model
from embedlab.embedding.pairs import PairStore
from embedlab.search.exact import top_k
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask
from embedlab.tasks.scoring import tie_order


class DenseScorer:
    """Cosine between unit vectors: every candidate of a row, or an exact top-k over the corpus."""

    def __init__(self, store: EmbeddingStore) -> None:
        self.store = store
        self.search = None  # an ApproximateSearch (--search faiss-ivf|faiss-hnsw); None: exact

    @property
    def model_seconds(self) -> float:
        return self.store.stats.seconds

    def stats(self) -> dict[str, float]:
        return {**self.store.stats.as_dict(), **({"approximate_search": self.search.costs} if self.search else {})}

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        queries = self.store.embed(task.texts("query"), "query")
        documents = self.store.embed(task.texts("document"), "document")
        row_of = np.repeat(np.arange(len(task.rows)), [len(row.candidates) for row in task.rows])
        return np.einsum("ij,ij->i", queries[row_of], documents)

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        documents = self.store.embed(task.texts("document"), "document")
        queries = self.store.embed(task.texts("query"), "query")
        if self.search is not None:
            return self.search.ranking(task, queries, documents, depth, tie_order(task))
        return top_k(queries, documents, depth, tie_rank=tie_order(task))


class _Timed:
    """Seconds spent inside the model, for scorers whose model is not an encoder."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.model_seconds = 0.0

    def stats(self) -> dict[str, float]:
        return {"model_seconds": round(self.model_seconds, 4)}

    def _call(self, function: Callable[..., Any], *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args)
        finally:
            self.model_seconds += time.perf_counter() - started


class RankerScorer(_Timed):
    """A ranker ranks the corpus; for a reranking row, the row's own candidates are its corpus."""

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        parts = []
        for row in task.rows:
            corpus = {str(i): text for i, text in enumerate(row.candidates)}
            idx, scores = self._checked(*self._call(self.model.rank, {row.id: row.query}, corpus, len(corpus)),
                                        1, len(corpus))
            row_scores = np.full(len(corpus), -np.inf, dtype=np.float32)
            found = idx[0] >= 0
            row_scores[idx[0][found]] = scores[0][found]
            parts.append(row_scores)
        return np.concatenate(parts)

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        depth = min(depth, len(task.corpus))
        return self._checked(*self._call(self.model.rank, task.queries, task.corpus, depth), len(task.queries),
                             len(task.corpus))

    def _checked(self, idx: np.ndarray, scores: np.ndarray, n_queries: int, n_docs: int
                 ) -> tuple[np.ndarray, np.ndarray]:
        idx, scores = np.asarray(idx, dtype=np.int64), np.asarray(scores, dtype=np.float32)
        if idx.ndim != 2 or idx.shape != scores.shape or idx.shape[0] != n_queries:
            raise ModelError(f"ranker '{self.model.name}' returned shapes {idx.shape} / {scores.shape} for "
                             f"{n_queries} queries; expected (queries, depth) for both")
        if ((idx < -1) | (idx >= n_docs)).any():
            raise ModelError(f"ranker '{self.model.name}' returned a document index outside 0..{n_docs - 1}")
        if not np.isfinite(scores[idx >= 0]).all():
            raise ModelError(f"ranker '{self.model.name}' returned NaN/inf scores")
        return idx, scores


class PairScoring:
    """A pair scorer scores each (query, candidate) of a reranking row (through a `PairStore`: dedup, cache,
    checks); alone it cannot search a corpus."""

    def __init__(self, store: PairStore) -> None:
        self.store = store
        self.model = store.model

    @property
    def model_seconds(self) -> float:
        return self.store.stats.seconds

    def stats(self) -> dict[str, float]:
        return self.store.stats.as_dict()

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        return self.store.scores([(row.query, text) for row in task.rows for text in row.candidates])

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        raise ModelError(f"'{self.model.name}' scores (query, passage) pairs and cannot search a corpus "
                         f"of {len(task.corpus):,} documents alone: use it as a reranker (--reranker) over a "
                         "retrieval model")


class BM25Scoring(RankerScorer):
    """BM25 scores a reranking task as mteb does: one index over the candidates of every row (so IDF counts
    them all), each row's query scored on its own candidates (`BM25.score_rows`); retrieval as any ranker."""

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        scores = np.asarray(self._call(self.model.score_rows, [row.query for row in task.rows],
                                       [row.candidates for row in task.rows]), dtype=np.float32)
        if scores.shape != (sum(len(row.candidates) for row in task.rows),) or not np.isfinite(scores).all():
            raise ModelError(f"'{self.model.name}' returned {scores.shape} scores (or NaN/inf) for the candidates")
        return scores


