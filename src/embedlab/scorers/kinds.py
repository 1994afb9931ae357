"""The scorers of the three kinds of model: vectors (DenseScorer), a ranking (RankerScorer), scored pairs
(PairScoring). Each checks what its model returns and counts the seconds spent in it."""

from __future__ import annotations

from typing import Any

import numpy as np

from embedlab.embedding.pairs import PairStore
from embedlab.embedding.store import EmbeddingStore
from embedlab.errors import ModelError
from embedlab.models.base import Ranker
from embedlab.scorers.approximate import ApproximateSearch
from embedlab.scorers.base import Measured, Scorer, Timed
from embedlab.search.exact import top_k
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask
from embedlab.tasks.scoring import Grid, tie_order


class DenseScorer(Scorer):
    """Cosine between unit vectors: every candidate of a row, or a top-k over the corpus (exact, or by an
    approximate index with its cost measured: `use_index`)."""

    def __init__(self, store: EmbeddingStore) -> None:
        self.store, self.name = store, store.encoder.name
        self.search: ApproximateSearch | None = None

    @property
    def model_seconds(self) -> float:
        return self.store.stats.seconds

    def stats(self) -> dict[str, Any]:
        return {**self.store.stats.as_dict(), **({"approximate_search": self.search.costs} if self.search else {})}

    def provenance(self) -> dict[str, Any]:
        return {"dimension": self.store.dimension, **self.store.provenance()}

    def use_index(self, method: str, seed: int = 0) -> None:
        self.search = None if method == "exact" else ApproximateSearch(method, seed=seed)

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        queries = self.store.embed(task.texts("query"), "query")
        documents = self.store.embed(task.texts("document"), "document")
        return np.einsum("ij,ij->i", queries[Grid.of(task).row_of], documents)

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        documents = self.store.embed(task.texts("document"), "document")
        queries = self.store.embed(task.texts("query"), "query")
        if self.search is not None:
            return self.search.ranking(task, queries, documents, depth, tie_order(task))
        return top_k(queries, documents, depth, tie_rank=tie_order(task))


class RankerScorer(Timed):
    """A ranker ranks the corpus; a reranking row's candidates it scores as it declares (`Ranker.score_rows`).
    What it gives is checked: shapes, indices in range, finite scores."""

    def __init__(self, model: Ranker) -> None:
        super().__init__(model)
        self._counts: dict[str, dict[str, int]] = {}

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        scores = np.asarray(self.call(self.model.score_rows, [row.query for row in task.rows],
                                      [row.candidates for row in task.rows]))
        expected = sum(len(row.candidates) for row in task.rows)
        if scores.shape != (expected,):
            raise ModelError(f"ranker '{self.model.name}' returned {scores.shape} scores for {expected} candidates")
        try:
            scores = scores.astype(np.float32)
        except (TypeError, ValueError):
            raise ModelError(f"ranker '{self.model.name}' returned scores that are not numbers") from None
        if np.isnan(scores).any() or np.isposinf(scores).any():
            raise ModelError(f"ranker '{self.model.name}' returned NaN/inf scores for the candidates")
        return scores

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        depth = depth if self.model.ranks_past_corpus else min(depth, len(task.corpus))
        ranked = self.call(self.model.rank, task.queries, task.corpus, depth)
        self._counts[task.name] = dict(self.model.counts())
        return self._checked(*ranked, len(task.queries), len(task.corpus))

    def measured(self, task) -> Measured:
        return Measured(counts=self._counts.get(task.name, {}))

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


class PairScoring(Scorer):
    """A pair scorer scores each (query, candidate) of a reranking row (through a `PairStore`: dedup, cache,
    checks); alone it cannot search a corpus."""

    def __init__(self, store: PairStore) -> None:
        self.store, self.model, self.name = store, store.model, store.model.name

    @property
    def model_seconds(self) -> float:
        return self.store.stats.seconds

    def stats(self) -> dict[str, Any]:
        return self.store.stats.as_dict()

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        return self.store.scores([(row.query, text) for row in task.rows for text in row.candidates])

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        raise ModelError(f"'{self.model.name}' scores (query, passage) pairs and cannot search a corpus "
                         f"of {len(task.corpus):,} documents alone: use it as a reranker (--reranker) over a "
                         "retrieval model")
