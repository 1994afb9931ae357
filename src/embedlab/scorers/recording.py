"""Scorers that watch another: `Observed` calls a function with each ranking the scorer it wraps gives (a
two-stage run keeps its first stage's), `Recording` keeps the top of each (what `eval --save-run` writes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from embedlab.scorers.base import Measured, Scorer
from embedlab.tasks.retrieval import RetrievalTask


class Observed(Scorer):
    """A scorer as it is, calling `seen(task, depth asked, indices, scores)` with each ranking it gives."""

    def __init__(self, inner: Scorer, seen: Callable[[RetrievalTask, int, np.ndarray, np.ndarray], None]) -> None:
        self.inner, self.seen = inner, seen

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def model_seconds(self) -> float:
        return self.inner.model_seconds

    def stats(self) -> dict[str, Any]:
        return self.inner.stats()

    def provenance(self) -> dict[str, Any]:
        return self.inner.provenance()

    def use_index(self, method: str, seed: int = 0) -> None:
        self.inner.use_index(method, seed)

    def measured(self, task) -> Measured:
        return self.inner.measured(task)

    def candidate_scores(self, task) -> np.ndarray:
        return self.inner.candidate_scores(task)

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        indices, scores = self.inner.ranking(task, depth)
        self.seen(task, depth, indices, scores)
        return indices, scores


class Recording(Observed):
    """A scorer as it is, keeping the top `depth` of each ranking it gives (task name -> task, indices,
    scores), exactly as returned: what is saved is what was scored."""

    def __init__(self, inner: Scorer, depth: int) -> None:
        super().__init__(inner, self._keep)
        self.depth = depth
        self.rankings: dict[str, tuple[RetrievalTask, np.ndarray, np.ndarray]] = {}

    def _keep(self, task: RetrievalTask, depth: int, indices: np.ndarray, scores: np.ndarray) -> None:
        self.rankings[task.name] = (task, np.array(indices[:, :self.depth]), np.array(scores[:, :self.depth]))
