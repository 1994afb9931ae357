"""A hybrid's scorer: its sub-models' outputs, each as the model gives it alone, fused; and the views a weight
sweep evaluates from those outputs. A dense part ranks as it would alone, with `--index` too (its approximate
index's cost recorded per task and part)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from embedlab.models.hybrid import Hybrid
from embedlab.models.names import short_name
from embedlab.scorers.base import Measured, Scorer, SweepRun
from embedlab.search.fusion import Fusion
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask
from embedlab.tasks.scoring import Grid, tie_order


class HybridScorer(Scorer):
    """A hybrid: each sub-model's output as that model gives it alone (`parts`: their scorers), fused
    (`search/fusion.py`).

    The sub-models' outputs for the current task are kept until the next task, so other weights (a sweep) and
    the sub-models' own runs reuse them: nothing is encoded or ranked twice."""

    def __init__(self, model: Hybrid, parts: list[Scorer]) -> None:
        self.model, self.parts, self.name = model, parts, model.name
        self._task: Any = None
        self._outputs: dict[tuple, Any] = {}

    def use_index(self, method: str, seed: int = 0) -> None:
        for part in self.parts:
            part.use_index(method, seed)

    @property
    def model_seconds(self) -> float:
        return sum(part.model_seconds for part in self.parts)

    def stats(self) -> dict[str, Any]:
        """The sub-models' work counts added up; per-task records (a dense part's `approximate_search` costs) kept
        apart, under "task (sub-model)"."""
        total: dict[str, Any] = {}
        for part, sub in zip(self.parts, self.model.models):
            for key, value in part.stats().items():
                if isinstance(value, dict):
                    total.setdefault(key, {}).update({f"{task} ({short_name(sub.name)})": per_task
                                                      for task, per_task in value.items()})
                else:
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
        grid = Grid.of(task)
        width = grid.width
        fused = self._kept(task, ("row fusion",), lambda: self._row_fusion(task, grid))
        idx, scores = fused.fuse(self.model.weights if weights is None else weights, width)
        # float32 candidate scores would merge near-ties the float64 fusion keeps apart: score by place instead
        place = np.cumsum(np.concatenate([np.ones((len(idx), 1)), scores[:, 1:] != scores[:, :-1]], axis=1), axis=1)
        out = np.full((len(idx), width), -np.inf, dtype=np.float32)
        rows, slots = np.nonzero(idx >= 0)
        out[rows, idx[rows, slots]] = width - place[rows, slots]
        return grid.gather(out)

    def _row_fusion(self, task: RerankingTask, grid: Grid) -> Fusion:
        """Each row's candidates as a small corpus ranked by each sub-model (ids: positives, then negatives, in
        order: mteb's `apositive_...` / `negative_...` sort the same way, so ties go to the later candidate)."""
        rankings, width = [], grid.width
        for index in range(len(self.parts)):
            scores = grid.spread(self.part_candidates(index, task), dtype=np.float64)
            order = np.lexsort((-np.arange(width)[None, :].repeat(len(scores), 0), -scores), axis=1)
            ranked = np.take_along_axis(scores, order, axis=1)
            idx = np.where(np.isfinite(ranked), order, -1)[:, :self.model.depth]
            rankings.append((idx, ranked[:, :self.model.depth]))
        return Fusion(rankings, self.model.fusion, np.arange(width), rrf_k=self.model.rrf_k)

    def sweep_views(self, weights: list[tuple[float, ...]]) -> list[SweepRun]:
        """Each sub-model alone, from the outputs the fusion uses, then the fusion at each weight."""
        parts = [SweepRun(SweepView(self, part=i), sub.info, "model", sub.paid, sub.own_run())
                 for i, sub in enumerate(self.model.models)]
        return parts + [SweepRun(SweepView(self, weights=w), self.model.with_weights(w).info, "weights",
                                 self.model.paid) for w in weights]


class SweepView(Scorer):
    """One run of a sweep: a sub-model alone (`part`) or the fusion at `weights`, from the HybridScorer's outputs."""

    def __init__(self, hybrid: HybridScorer, *, part: int | None = None, weights=None) -> None:
        self.hybrid, self.part, self.weights = hybrid, part, weights
        self.scorer = hybrid if part is None else hybrid.parts[part]
        self.name = self.scorer.name

    @property
    def model_seconds(self) -> float:
        return self.scorer.model_seconds

    def stats(self) -> dict[str, Any]:
        return self.scorer.stats()

    def provenance(self) -> dict[str, Any]:
        return self.scorer.provenance()

    def measured(self, task) -> Measured:
        return self.scorer.measured(task)

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        if self.part is None:
            return self.hybrid.candidate_scores(task, self.weights)
        return self.hybrid.part_candidates(self.part, task)

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        if self.part is None:
            return self.hybrid.ranking(task, depth, self.weights)
        return tuple(a[:, :depth] for a in self.hybrid.part_ranking(self.part, task, depth))


