"""How each kind of model answers a task: the `tasks.scoring.Scorer` of an Encoder, a Ranker, a PairScorer.

`scorer_for` looks the model's kind up in one table, so scoring never switches on backends: a new kind of
model adds one scorer class here. Every scorer checks what its model returns (shape, NaN) and counts the
seconds spent inside the model, which results report as the model's time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from embedlab.embed import EmbeddingStore
from embedlab.errors import ModelError
from embedlab.models.base import Encoder, Model, PairScorer, Ranker
from embedlab.models.bm25 import BM25
from embedlab.models.hybrid import Hybrid, weight_grid
from embedlab.search.exact import top_k
from embedlab.search.fusion import Fusion
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask
from embedlab.tasks.scoring import tie_order


class DenseScorer:
    """Cosine between unit vectors: every candidate of a row, or an exact top-k over the corpus."""

    def __init__(self, store: EmbeddingStore) -> None:
        self.store = store

    @property
    def model_seconds(self) -> float:
        return self.store.stats.seconds

    def stats(self) -> dict[str, float]:
        return self.store.stats.as_dict()

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        queries = self.store.embed(task.texts("query"), "query")
        documents = self.store.embed(task.texts("document"), "document")
        row_of = np.repeat(np.arange(len(task.rows)), [len(row.candidates) for row in task.rows])
        return np.einsum("ij,ij->i", queries[row_of], documents)

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        documents = self.store.embed(task.texts("document"), "document")
        queries = self.store.embed(task.texts("query"), "query")
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


class PairScoring(_Timed):
    """A pair scorer scores each (query, candidate) of a reranking row; alone it cannot search a corpus."""

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        pairs = [(row.query, text) for row in task.rows for text in row.candidates]
        scores = np.asarray(self._call(self.model.score_pairs, pairs), dtype=np.float32)
        if scores.shape != (len(pairs),):
            raise ModelError(f"pair scorer '{self.model.name}' returned shape {scores.shape} for "
                             f"{len(pairs)} pairs; expected one score per pair")
        if not np.isfinite(scores).all():
            raise ModelError(f"pair scorer '{self.model.name}' returned NaN/inf scores")
        return scores

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        raise ModelError(f"'{self.model.name}' scores (query, passage) pairs and cannot search a corpus "
                         f"of {len(task.corpus):,} documents alone: use it as a reranker over a retrieval model")


class BM25Scoring(RankerScorer):
    """BM25 scores a reranking task as mteb does: one index over the candidates of every row (so IDF counts
    them all), each row's query scored on its own candidates (`BM25.score_rows`); retrieval as any ranker."""

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        scores = np.asarray(self._call(self.model.score_rows, [row.query for row in task.rows],
                                       [row.candidates for row in task.rows]), dtype=np.float32)
        if scores.shape != (sum(len(row.candidates) for row in task.rows),) or not np.isfinite(scores).all():
            raise ModelError(f"'{self.model.name}' returned {scores.shape} scores (or NaN/inf) for the candidates")
        return scores


class HybridScorer:
    """A hybrid: each sub-model's output as that model gives it alone, fused (`search/fusion.py`).

    The sub-models' outputs for the current task are kept until the next task, so other weights (a sweep) and
    the sub-models' own runs reuse them: nothing is encoded or ranked twice."""

    def __init__(self, model: Hybrid, store: Callable[[Encoder], EmbeddingStore]) -> None:
        self.model = model
        self.parts = [scorer_for(sub, store) for sub in model.models]
        self._task: Any = None
        self._outputs: dict[tuple, Any] = {}

    @property
    def model_seconds(self) -> float:
        return sum(part.model_seconds for part in self.parts)

    def stats(self) -> dict[str, float]:
        total: dict[str, float] = {}
        for part in self.parts:
            for key, value in part.stats().items():
                total[key] = round(total.get(key, 0) + value, 4)
        return total

    def _kept(self, task, key: tuple, compute: Callable[[], Any]) -> Any:
        if self._task is not task:
            self._task, self._outputs = task, {}
        if key not in self._outputs:
            self._outputs[key] = compute()
        return self._outputs[key]

    def part_candidates(self, index: int, task: RerankingTask) -> np.ndarray:
        return self._kept(task, ("candidates", index), lambda: self.parts[index].candidate_scores(task))

    def part_ranking(self, index: int, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """Sub-model `index`'s ranking, deep enough for the fusion and for `depth` (slice it to either)."""
        deepest = max(depth, self.model.sub_depth(depth))
        return self._kept(task, ("ranking", index, deepest), lambda: self.parts[index].ranking(task, deepest))

    def ranking(self, task: RetrievalTask, depth: int, weights=None) -> tuple[np.ndarray, np.ndarray]:
        def fusion() -> Fusion:
            sub = self.model.sub_depth(depth)
            rankings = [tuple(a[:, :sub] for a in self.part_ranking(i, task, depth)) for i in range(len(self.parts))]
            return Fusion(rankings, self.model.fusion, tie_order(task), rrf_k=self.model.rrf_k)

        fused = self._kept(task, ("fusion", depth), fusion)
        return fused.fuse(self.model.weights if weights is None else weights, min(depth, len(task.corpus)))

    def candidate_scores(self, task: RerankingTask, weights=None) -> np.ndarray:
        sizes = np.array([len(row.candidates) for row in task.rows])
        width = int(sizes.max())
        row_of = np.repeat(np.arange(len(sizes)), sizes)
        column = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        fused = self._kept(task, ("row fusion",), lambda: self._row_fusion(task, row_of, column, width))
        idx, scores = fused.fuse(self.model.weights if weights is None else weights, width)
        # float32 candidate scores would merge near-ties the float64 fusion keeps apart: score by place instead
        place = np.cumsum(np.concatenate([np.ones((len(idx), 1)), scores[:, 1:] != scores[:, :-1]], axis=1), axis=1)
        out = np.full((len(idx), width), -np.inf, dtype=np.float32)
        rows, slots = np.nonzero(idx >= 0)
        out[rows, idx[rows, slots]] = width - place[rows, slots]
        return out[row_of, column]

    def _row_fusion(self, task: RerankingTask, row_of, column, width: int) -> Fusion:
        """Each row's candidates as a small corpus ranked by each sub-model (ids: positives, then negatives, in
        order: mteb's `apositive_...` / `negative_...` sort the same way, so ties go to the later candidate)."""
        rankings = []
        for index in range(len(self.parts)):
            scores = np.full((len(task.rows), width), -np.inf)
            scores[row_of, column] = self.part_candidates(index, task)
            order = np.lexsort((-np.arange(width)[None, :].repeat(len(scores), 0), -scores), axis=1)
            ranked = np.take_along_axis(scores, order, axis=1)
            idx = np.where(np.isfinite(ranked), order, -1)[:, :self.model.depth]
            rankings.append((idx, ranked[:, :self.model.depth]))
        return Fusion(rankings, self.model.fusion, np.arange(width), rrf_k=self.model.rrf_k)

    def sweep(self) -> list[SweepView]:
        """The runs of `--weights sweep`: each sub-model alone, then the fusion at each weight of the grid."""
        views: list[SweepView] = [SweepView(self, part=i) for i in range(len(self.parts))]
        return views + [SweepView(self, weights=w) for w in weight_grid(len(self.parts))]


class SweepView:
    """One run of a sweep: a sub-model alone (`part`) or the fusion at `weights`, from the HybridScorer's outputs."""

    def __init__(self, hybrid: HybridScorer, *, part: int | None = None, weights=None) -> None:
        self.hybrid, self.part, self.weights = hybrid, part, weights
        self.scorer = hybrid if part is None else hybrid.parts[part]

    @property
    def model_seconds(self) -> float:
        return self.scorer.model_seconds

    @property
    def paid(self) -> bool:
        return (self.hybrid.model if self.part is None else self.hybrid.model.models[self.part]).paid

    def stats(self) -> dict[str, float]:
        return self.scorer.stats()

    def info(self) -> dict[str, Any]:
        if self.part is None:
            return self.hybrid.model.with_weights(self.weights).info()
        info = self.hybrid.model.models[self.part].info()
        if isinstance(self.scorer, DenseScorer):
            info.setdefault("dimension", self.scorer.store.dimension)
        return info

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        if self.part is None:
            return self.hybrid.candidate_scores(task, self.weights)
        return self.hybrid.part_candidates(self.part, task)

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        if self.part is None:
            return self.hybrid.ranking(task, depth, self.weights)
        return tuple(a[:, :depth] for a in self.hybrid.part_ranking(self.part, task, depth))


# model kind -> how to build its scorer (store: the EmbeddingStore factory, used by encoders only)
SCORERS: dict[type, Callable[[Any, Callable[[Encoder], EmbeddingStore]], Any]] = {
    Encoder: lambda model, store: DenseScorer(store(model)),
    Ranker: lambda model, store: RankerScorer(model),
    PairScorer: lambda model, store: PairScoring(model),
    BM25: lambda model, store: BM25Scoring(model),
    Hybrid: lambda model, store: HybridScorer(model, store),
}


def scorer_for(model: Model, store: Callable[[Encoder], EmbeddingStore]):
    """The scorer of the model's kind (the first of its classes in the table)."""
    for kind in type(model).__mro__:
        if kind in SCORERS:
            return SCORERS[kind](model, store)
    raise ModelError(f"{type(model).__name__} is none of Encoder, Ranker, PairScorer")
