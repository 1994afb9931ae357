"""`evaluate()`: tasks -> model outputs -> metrics -> Results. Every command reuses this flow.

(The module is `evaluation` so that `embedlab.evaluate` stays the function.)
"""

from __future__ import annotations

import datetime as dt
import logging
import platform
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.data.resolve import Spec, distinct_names, resolve_all
from embedlab.embed import EmbeddingStore
from embedlab.errors import EmbedlabError
from embedlab.estimate import check_cost, cost_line, estimate_models
from embedlab.metrics.names import DEFAULT_K
from embedlab.models.base import Encoder, Model, ModelOptions, Ranker, as_model
from embedlab.models.cache import index_folder, open_cache
from embedlab.models.hybrid import Hybrid
from embedlab.models.registry import is_paid, load_model
from embedlab.results import ModelRun, Results, TaskResult
from embedlab.scorers import HybridScorer, scorer_for
from embedlab.tasks.types import Task, task_type

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    """How a run is done, whatever the model (the model's own settings are `ModelOptions`)."""

    k_values: tuple[int, ...] = DEFAULT_K
    seed: int = 0
    sample: int | None = None  # a seeded sample of N rows / queries per task
    prune_corpus: int | None = None  # with sample, retrieval: judged documents + D random others only
    split: str | None = None
    data_dir: str | Path | None = None  # where C-MTEB task snapshots are
    cache: str | Path | bool | None = None  # a path, True (default path), False (none), None: paid models only
    progress: bool = False
    max_cost: float | None = None  # refuse to start when a paid model's estimate is higher
    price_per_mtok: float | None = None  # overrides the price table (estimates; recorded for reports' costs)
    announce: Callable[[str], None] | None = None  # receives the cost estimate lines before any request


def evaluate(models: str | Model | Any | Sequence[str | Model | Any], tasks: Spec | Iterable[Spec], *,
             model: ModelOptions | None = None, run: RunOptions | None = None) -> Results:
    """Evaluate each model on the same tasks.

    Models are names (`"st:BAAI/bge-small-zh-v1.5"`, a local directory, a hub id, `"openai:<model>"`),
    Model objects, or any object with `name` and `encode(texts, kind)`. Tasks are paths (reranking rows:
    JSONL / parquet / dataset folder; retrieval: a BEIR folder), C-MTEB task names, "demo", or loaded
    tasks. Each distinct text is encoded once per model, across all tasks. Paid models are estimated
    before anything is sent (`run.max_cost` refuses a run above it).
    """
    run, options = run or RunOptions(), model or ModelOptions()
    loaded = load_tasks(tasks, run)
    if not loaded:
        raise ValueError("nothing to evaluate: give reranking and/or retrieval data")
    specs = [models] if isinstance(models, str) or not isinstance(models, Sequence) else list(models)
    paid = {i: load_model(s, options) for i, s in enumerate(specs) if isinstance(s, str) and is_paid(s, options)}
    given = {i: as_model(s) for i, s in enumerate(specs) if not isinstance(s, str)}
    _check_costs([m for m in (*paid.values(), *given.values()) if m.paid], loaded, run)
    runs, failures = [], []
    for i, spec in enumerate(specs):
        try:
            instance = paid.get(i) or given.get(i) or load_model(spec, options)
        except Exception as exc:  # noqa: BLE001 - recorded: the other models still run
            failures += _failed(str(spec), loaded, exc)
            continue
        _seed_everything(run.seed)
        try:
            model_runs, failed = evaluate_runs(instance, loaded, run, batch_size=options.batch_size)
        finally:
            if i not in given:
                instance.close()
        runs += [model_run for model_run in model_runs if model_run.tasks]
        failures += failed
    results = Results(runs, environment(), dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                      run.seed, failures=failures)
    if failures:
        raise IncompleteRun(results)
    return results


class IncompleteRun(EmbedlabError):
    """Some (model, task) results could not be computed; `results` holds every one that was, and the failures."""

    def __init__(self, results: Results) -> None:
        self.results = results
        first = results.failures[0]
        super().__init__(f"{len(results.failures)} result(s) missing, first: {first['model']} on {first['task']}: "
                         f"{first['error']}")


def _failed(model: str, tasks: list[Task], exc: Exception, reason: str | None = None) -> list[dict[str, str]]:
    if not isinstance(exc, EmbedlabError):
        log.error("%s failed", model, exc_info=exc)
    error = str(exc) if isinstance(exc, EmbedlabError) else f"{type(exc).__name__}: {exc}"
    return [{"model": model, "task": task.name, "error": reason if reason and i else error}
            for i, task in enumerate(tasks)]


def load_tasks(specs: Spec | Iterable[Spec] | None, run: RunOptions | None = None, *,
               expect: str | None = None) -> list[Task]:
    """Tasks from paths, names or as given, each cut to a seeded sample when `run.sample` asks."""
    run = run or RunOptions()
    tasks = distinct_names(resolve_all(specs, expect=expect, split=run.split, data_dir=run.data_dir))
    if run.sample:
        tasks = [task_type(t).sample(t, run.sample, run.seed, prune_corpus=run.prune_corpus is not None,
                                     distractors=run.prune_corpus or 0) for t in tasks]
    return tasks


def evaluate_model(model: Model, tasks: list[Task], run: RunOptions, *, batch_size: int = 32
                   ) -> tuple[ModelRun, list[dict[str, str]]]:
    """One model on every task: its ModelRun (provenance, model work counts, the results of the tasks done)
    and the failures: a task that fails, and the ones after it (not run: the model is likely broken)."""
    stores = _Stores(run, batch_size)
    results, failures = [], []
    try:
        scorer = scorer_for(model, stores)
        for part in [model, *model.parts()]:  # a hybrid's BM25 keeps its index like a BM25 alone
            if isinstance(part, Ranker):
                part.keep_indexes(index_folder(run.cache, part.paid))
        for index, task in enumerate(tasks):
            try:
                results.append(evaluate_task(task, scorer, k_values=run.k_values))
            except Exception as exc:  # noqa: BLE001 - recorded: the results so far are kept
                failures = _failed(model.name, tasks[index:], exc, "not run: an earlier task of this model failed")
                break
    finally:
        stores.close()
    info = model.info()
    if stores.made:
        info.setdefault("dimension", stores.made[0].dimension)
    if model.paid and run.price_per_mtok is not None:
        info["price_per_mtok"] = run.price_per_mtok
    return ModelRun(info, scorer.stats(), results), failures


class _Stores:
    """The EmbeddingStore factory a scorer gets: one store per encoder, with the run's cache; closed together."""

    def __init__(self, run: RunOptions, batch_size: int) -> None:
        self.run, self.batch_size, self.made = run, batch_size, []

    def __call__(self, encoder: Encoder) -> EmbeddingStore:
        self.made.append(EmbeddingStore(encoder, batch_size=self.batch_size, progress=self.run.progress,
                                        cache=open_cache(self.run.cache, encoder.paid)))
        return self.made[-1]

    def close(self) -> None:
        for used in self.made:
            if used.cache is not None:
                used.cache.close()


def evaluate_runs(model: Model, tasks: list[Task], run: RunOptions, *, batch_size: int = 32
                  ) -> tuple[list[ModelRun], list[dict[str, str]]]:
    """The runs a model stands for: its own (`evaluate_model`), or for a hybrid with `weights="sweep"` one run
    per sub-model and one per weight of the grid, task by task from one output of each sub-model (nothing is
    encoded twice). A failed task is left out of every run of the sweep, as are the tasks after it."""
    if not (isinstance(model, Hybrid) and model.sweep):
        model_run, failures = evaluate_model(model, tasks, run, batch_size=batch_size)
        return [model_run], failures
    stores = _Stores(run, batch_size)
    failures: list[dict[str, str]] = []
    try:
        views = HybridScorer(model, stores).sweep()
        results: list[list[TaskResult]] = [[] for _ in views]
        for index, task in enumerate(tasks):
            try:
                done = [evaluate_task(task, view, k_values=run.k_values) for view in views]
            except Exception as exc:  # noqa: BLE001 - recorded: the results so far are kept
                failures = _failed(model.name, tasks[index:], exc, "not run: an earlier task of this model failed")
                break
            for kept, result in zip(results, done):
                kept.append(result)
    finally:
        stores.close()
    runs = [ModelRun(view.info(), view.stats(), kept) for view, kept in zip(views, results)]
    for view, model_run in zip(views, runs):
        if view.paid and run.price_per_mtok is not None:
            model_run.model["price_per_mtok"] = run.price_per_mtok
    return runs, failures


def evaluate_task(task: Task, scorer, *, k_values: tuple[int, ...] = DEFAULT_K) -> TaskResult:
    """Score one task with a `tasks.scoring.Scorer` (see `scorers.scorer_for`)."""
    kind = task_type(task)
    started, model_before = time.perf_counter(), scorer.model_seconds
    per_query = kind.score(task, scorer, k_values)
    done = time.perf_counter()
    model_seconds = scorer.model_seconds - model_before
    return TaskResult(
        task=task.name, type=task.type, source=task.source, data_hash=task.fingerprint(),
        main_score=kind.main_score,
        scores={name: float(np.mean(values)) for name, values in per_query.items()},
        query_ids=kind.query_ids(task),
        per_query={name: [float(v) for v in values] for name, values in per_query.items()},
        counts=task.counts(),
        sample=task.sample,
        timings={"encode_seconds": round(model_seconds, 4),
                 "score_seconds": round(done - started - model_seconds, 4),
                 "total_seconds": round(done - started, 4)},
    )


def _check_costs(paid: list[Model], tasks: list[Task], run: RunOptions) -> None:
    """Before the first paid request: announce what each paid model will send and cost; refuse above max_cost."""
    if not paid:
        return
    rows = estimate_models(paid, tasks, cache=run.cache, price_per_mtok=run.price_per_mtok)
    for row in rows:
        if run.announce is not None:
            run.announce(cost_line(row))
    check_cost(rows, run.max_cost)


def environment() -> dict[str, str]:
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for package in ("embedlab", "numpy", "torch", "sentence-transformers", "transformers"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")  # only a loaded local model uses it: never import it just to seed
    if torch is not None:
        torch.manual_seed(seed)
