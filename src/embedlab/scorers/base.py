"""The one scorer contract: what scoring needs from a model, whatever its kind, and `score(task)`, which turns it
into a `TaskResult` with the code every model is scored by.

A scorer gives a score per candidate of each reranking row (`candidate_scores`) and a ranking of the corpus per
retrieval query (`ranking`); the task's type (`tasks.types`) says which it asks for and scores the output. The
scorer declares the seconds spent inside its model (`model_seconds`, results report it as the model's time), its
work counts (`stats`), what it adds to the run's provenance (`provenance`) and to each task's counts and timings
(`measured`), and takes an approximate index for dense retrieval where it has vectors (`use_index`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from embedlab.errors import ModelError
from embedlab.metrics.names import DEFAULT_K
from embedlab.results.results import TaskResult, absolute_path
from embedlab.tasks.types import Task, task_type


@dataclass
class Measured:
    """What a scorer measured on a task besides its scores, merged into the task's result: counts, timings, and
    per-query values of its own (an approximate index's neighbour recall)."""

    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    per_query: dict[str, np.ndarray] = field(default_factory=dict)


class SweepRun(NamedTuple):
    """One run of a weight sweep: its scorer (a view of the combination's outputs), its provenance, its kind
    ("model": a part alone; "weights": a point), whether it is paid for, the run file it reads (a part `-m run:`)."""

    scorer: Scorer
    describe: Callable[[], dict[str, Any]]
    kind: str
    paid: bool
    run_file: str | None = None


class Scorer:
    """A model's outputs for a task; subclasses give `candidate_scores` and / or `ranking`."""

    name = "model"

    @property
    def model_seconds(self) -> float:
        return 0.0

    def stats(self) -> dict[str, Any]:
        """The model's work counts for the run (texts encoded, cache hits, pairs scored...)."""
        return {}

    def provenance(self) -> dict[str, Any]:
        """What the run records besides the model's own info (the dimension of its vectors, the engine...)."""
        return {}

    def use_index(self, method: str, seed: int = 0) -> None:
        """Rank dense retrieval with the approximate index `method` (`--index`); a scorer without vectors has
        nothing to index and ignores it."""

    def sweep_views(self, weights: list[tuple[float, ...]]) -> list[SweepRun]:
        """A weight sweep's runs from this scorer's outputs (a combination's): each part alone, then the combination
        at each of `weights`."""
        raise ModelError(f"'{self.name}' has no weights to sweep")

    def candidate_scores(self, task) -> np.ndarray:
        """One score per candidate, in `task.texts("document")` order (higher = more relevant)."""
        raise ModelError(f"'{self.name}' cannot score reranking rows")

    def ranking(self, task, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """(indices into `list(task.corpus)`, scores) of each query's top `depth`, best first; -1 pads."""
        raise ModelError(f"'{self.name}' cannot rank a corpus")

    def measured(self, task) -> Measured:
        """What this scorer adds to the task's result (a run file's coverage, a reranker's time, an index's cost)."""
        return Measured()

    def score(self, task: Task, k_values: tuple[int, ...] = DEFAULT_K) -> TaskResult:
        """The task scored from this scorer's outputs, with its timings: the model's seconds, and the rest."""
        kind = task_type(task)
        started, model_before = time.perf_counter(), self.model_seconds
        per_query = kind.score(task, self, k_values)
        done = time.perf_counter()
        model_seconds = self.model_seconds - model_before
        extra = self.measured(task)
        per_query = {**per_query, **extra.per_query}
        return TaskResult(
            task=task.name, type=task.type, source=task.source, data_hash=task.fingerprint(),
            main_score=kind.main_score,
            scores={name: float(np.mean(values)) for name, values in per_query.items()},
            query_ids=kind.query_ids(task),
            per_query={name: [float(v) for v in values] for name, values in per_query.items()},
            counts={**task.counts(), **extra.counts},
            sample=task.sample, dataset=task.dataset, source_absolute=absolute_path(task.source),
            timings={"encode_seconds": round(model_seconds, 4),
                     "score_seconds": round(done - started - model_seconds, 4),
                     "total_seconds": round(done - started, 4), **extra.timings},
        )


class Timed(Scorer):
    """A scorer that counts the seconds spent inside its model's own calls (a model that is not an encoder)."""

    def __init__(self, model) -> None:
        self.model, self.name = model, model.name
        self._seconds = 0.0

    @property
    def model_seconds(self) -> float:
        return self._seconds

    def stats(self) -> dict[str, Any]:
        return {"model_seconds": round(self._seconds, 4)}

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args)
        finally:
            self._seconds += time.perf_counter() - started
