"""Two-stage retrieval: a first stage's top documents reordered by a reranker at several depths, each pair
scored once across depths; each depth's run records the first stage's recall at the depth (the reranker's
ceiling) and, per task, the reranker's measured milliseconds per query, pairs reranked and scored, tokens billed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedlab.embedding.pairs import PairStore
from embedlab.errors import ModelError
from embedlab.metrics.names import parse_metric
from embedlab.models.base import Model
from embedlab.scorers.base import Measured, Scorer
from embedlab.scorers.recording import Observed
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask
from embedlab.tasks.scoring import score_retrieval, tie_order


@dataclass
class Reranked:
    """One task's first-stage top documents (indices into `list(task.corpus)`, best first, -1 pads) and the
    reranker's score of each; per depth (cumulative over the tiers up to it): pairs reranked, pairs the
    model scored (the others were known or cached), its seconds on them and the tokens an API billed."""

    indices: np.ndarray
    scores: np.ndarray
    pairs: dict[int, int] = field(default_factory=dict)
    scored: dict[int, int] = field(default_factory=dict)
    seconds: dict[int, float] = field(default_factory=dict)
    tokens: dict[int, int | None] = field(default_factory=dict)

    def ms_per_query(self, depth: int, fallback: float | None = None) -> float | None:
        """Reranker milliseconds per query at `depth`: seconds per pair measured on the pairs scored (else
        `fallback` seconds per pair, e.g. the run's average) times the pairs per query."""
        rate = self.seconds[depth] / self.scored[depth] if self.scored[depth] else fallback
        return None if rate is None else 1000 * rate * self.pairs[depth] / max(len(self.indices), 1)


class TwoStage:
    """A first stage and a reranker at several depths, shared by the runs of every depth.

    The first stage ranks once per task at the largest depth (its ranking is taken from its own run when
    that ranked as deep: `recording`); the reranker scores the pairs of depth tiers in order (the top 20,
    then places 21-50, ...) so each pair is scored once and the time of each depth is measured. A document
    the first stage did not return is never reranked, hence never credited to the reranker; documents
    below the depth are dropped, as mteb's cross-encoder evaluation of `top_ranked` does.
    """

    def __init__(self, first, pairs: PairStore, depths: list[int] | tuple[int, ...]) -> None:
        self.first, self.pairs = first, pairs
        self.depths = sorted(set(depths))
        self._recorded: dict[str, tuple[np.ndarray, int]] = {}
        self._reranked: dict[str, Reranked] = {}

    def recording(self) -> Observed:
        """The first stage's scorer for its own run, keeping each ranking it computes."""
        return Observed(self.first, self._record)

    def _record(self, task: RetrievalTask, depth: int, indices, scores) -> None:
        """A ranking of the first stage's own run, with the depth it holds (the whole corpus when shorter)."""
        indices = np.asarray(indices)
        self._recorded[task.name] = (indices, depth if indices.shape[1] >= depth else len(task.corpus))

    def at(self, depth: int) -> TwoStageScorer:
        return TwoStageScorer(self, depth)

    def first_ranking(self, task: RetrievalTask) -> np.ndarray:
        """The first stage's top (largest depth) of each query, as it ranked them."""
        depth = self.depths[-1]
        recorded = self._recorded.get(task.name)
        if recorded is not None and recorded[1] >= depth:
            return recorded[0][:, :depth]
        indices, _ = self.first.ranking(task, depth)
        return np.asarray(indices)[:, :depth]

    def reranked(self, task: RetrievalTask, depth: int | None = None) -> Reranked:
        """The task's reranking, its tiers scored up to `depth` (all depths when None)."""
        if task.name not in self._reranked:
            indices = self.first_ranking(task)
            self._reranked[task.name] = Reranked(indices, np.full(indices.shape, -np.inf, dtype=np.float32))
        out = self._reranked[task.name]
        for tier in self.depths:
            if tier not in out.pairs and (depth is None or tier <= depth):
                self._score_tier(task, out, tier)
        return out

    def _score_tier(self, task: RetrievalTask, out: Reranked, depth: int) -> None:
        """Scores places previous+1..depth of every query; counts are cumulative from the first tier."""
        previous = max((d for d in out.pairs if d < depth), default=0)
        queries, documents = list(task.queries.values()), list(task.corpus.values())
        rows, cols = np.nonzero(out.indices[:, previous:depth] >= 0)
        cols = cols + previous
        stats, billed_before = self.pairs.stats, _billed(self.pairs.model)
        seconds_before, scored_before = stats.seconds, stats.scored
        pairs = [(queries[q], documents[out.indices[q, c]]) for q, c in zip(rows, cols)]
        out.scores[rows, cols] = self.pairs.scores(pairs)
        billed = _billed(self.pairs.model)
        out.pairs[depth] = out.pairs.get(previous, 0) + len(pairs)
        out.scored[depth] = out.scored.get(previous, 0) + stats.scored - scored_before
        out.seconds[depth] = out.seconds.get(previous, 0.0) + stats.seconds - seconds_before
        out.tokens[depth] = None if billed is None else (out.tokens.get(previous) or 0) + billed - billed_before


class TwoStageScorer(Scorer):
    """The first stage's top `depth` of each query, ordered by the reranker's scores (trec tie order)."""

    def __init__(self, shared: TwoStage, depth: int) -> None:
        self.shared, self.depth = shared, depth
        self.name = f"{shared.first.name} >> {shared.pairs.model.name}@{depth}"
        self._seconds = 0.0
        self.first_recall: dict[str, float] = {}  # task -> the first stage's recall@depth

    @property
    def model_seconds(self) -> float:
        return self._seconds

    def stats(self) -> dict[str, Any]:
        return {"rerank_depth": self.depth, "model_seconds": round(self._seconds, 4)}

    def provenance(self) -> dict[str, Any]:
        return {"first_stage_recall": self.first_recall}

    def measured(self, task: RetrievalTask) -> Measured:
        """The first stage's recall@depth (kept for the run's provenance); the reranker's pairs and tokens, and its
        milliseconds per query: measured on the pairs it scored, else the run's average rate per pair."""
        reranked = self.shared.reranked(task, self.depth)
        recall = parse_metric(f"recall@{self.depth}")
        self.first_recall[task.name] = float(np.mean(score_retrieval(task, reranked.indices[:, :self.depth],
                                                                     [recall])[str(recall)]))
        stats = self.shared.pairs.stats
        ms = reranked.ms_per_query(self.depth, stats.seconds / stats.scored if stats.scored else None)
        counts = {"rerank_pairs": reranked.pairs[self.depth], "rerank_pairs_scored": reranked.scored[self.depth]}
        if reranked.tokens[self.depth] is not None:
            counts["rerank_tokens_billed"] = reranked.tokens[self.depth]
        return Measured(counts, {} if ms is None else {"rerank_ms_per_query": round(ms, 3)})

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        raise ModelError("a two-stage run reranks retrieval results; on reranking rows the reranker scores "
                         "each row's candidates alone")

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        before = self.shared.pairs.stats.seconds
        reranked = self.shared.reranked(task, self.depth)
        self._seconds += self.shared.pairs.stats.seconds - before  # the tiers this depth added
        indices = reranked.indices[:, :self.depth]
        scores = reranked.scores[:, :self.depth]
        tie_rank = tie_order(task)[np.maximum(indices, 0)]
        order = np.lexsort((-tie_rank, -scores.astype(np.float64)), axis=1)
        return np.take_along_axis(indices, order, axis=1), np.take_along_axis(scores, order, axis=1)


def _billed(model: Model) -> int | None:
    """Tokens an API reranker has been billed for so far (None for a local model)."""
    usage = model.info().get("usage") if model.paid else None
    return int(usage.get("prompt_tokens", 0)) if usage else None
