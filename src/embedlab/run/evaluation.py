"""`evaluate()`: tasks -> a plan of model runs -> Results. Every command that scores models runs `execute`.

The order keeps a refused run cheap: tasks are read, the specs checked and expanded into plans (`run.plan`), the
paid models loaded and every paid request estimated (and refused above `max_cost`) before anything is sent; then
one loop scores each plan's runs task by task, and the observers save what they watched.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from embedlab.data.resolve import Spec, distinct_names, resolve_all
from embedlab.errors import EmbedlabError, MissingDependencyError, SetupError
from embedlab.models.base import Model, ModelOptions, PairScorer, as_model
from embedlab.models.registry import (
    check_installed,
    load_reranker,
    options_changed,
    reranker_options,
    unread_options,
)
from embedlab.results import ModelRun, Results
from embedlab.run.context import RunContext, environment, seed_everything
from embedlab.run.estimate import estimate_models, estimate_reranker
from embedlab.run.observers import Observer, Priced, SavedRuns
from embedlab.run.options import RunOptions
from embedlab.run.plan import Plan, PlannedRun, check_rerank_depths, plan_evaluation
from embedlab.search.names import INDEX_REQUIRES
from embedlab.tasks.types import Task, task_type

log = logging.getLogger(__name__)

__all__ = ["IncompleteRun", "RunOptions", "evaluate", "execute", "load_tasks"]


def evaluate(models: str | Model | Any | Sequence[str | Model | Any], tasks: Spec | Iterable[Spec], *,
             model: ModelOptions | None = None, run: RunOptions | None = None) -> Results:
    """Evaluate each model on the same tasks.

    Models are names (`"st:BAAI/bge-small-zh-v1.5"`, a local directory, a hub id, `"openai:<model>"`), Model
    objects, or any object with `name` and `encode(texts, kind)`. Tasks are paths (reranking rows: JSONL / parquet
    / dataset folder; retrieval: a BEIR folder), C-MTEB task names, "demo", or loaded tasks. Each distinct text is
    encoded once per model, across all tasks. Paid models are estimated before anything is sent (`run.max_cost`
    refuses a run above it). With `run.reranker`, each model is also the first stage of a two-stage run per
    `run.rerank_depths`; with `run.save_run`, the rankings scored are saved as TREC runs. A setting of `model`
    that no model reads (`--bm25-k1` without a BM25 model) is refused, and so is a model (reranker, index) whose
    optional packages are not installed, before anything is read (`registry.check_installed`).
    """
    run, options = run or RunOptions(), model or ModelOptions()
    specs = [models] if isinstance(models, str) or not isinstance(models, Sequence) else list(models)
    check_installed([spec for spec in specs if isinstance(spec, str)],
                    reranker=run.reranker if isinstance(run.reranker, str) else None,
                    others=[(INDEX_REQUIRES[run.index], f"index {run.index}")] if run.index in INDEX_REQUIRES else [])
    if not (loaded := load_tasks(tasks, run)):
        raise ValueError("nothing to evaluate: give reranking and/or retrieval data")
    depths = check_rerank_depths(run.reranker, run.rerank_depths, loaded)
    check_options_read(options, [*specs, *([run.reranker] if run.reranker is not None else [])], run)
    observers: list[Observer] = [Priced(run.price_per_mtok)]
    saved = SavedRuns.of(run.save_run, loaded)
    observers += [saved] if saved is not None else []
    reranker = load_reranker(run.reranker, run.reranker_options or reranker_options(options))
    try:
        plans = plan_evaluation(specs, loaded, options, (run.reranker, reranker) if reranker else None, depths)
        with RunContext(run, batch_size=options.batch_size) as ctx:
            ctx.check_costs(_estimates(plans, loaded, run, reranker, max(depths, default=0)))
            runs, failures = execute(plans, loaded, ctx, observers)
    finally:
        if reranker is not None and not isinstance(run.reranker, Model):
            reranker.close()
    results = Results(runs, environment(), dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                      run.seed, failures=failures)
    for observer in observers:
        observer.finished(results)
    if failures:
        raise IncompleteRun(results)
    return results


def check_options_read(options: ModelOptions, specs: Sequence[Any], run: RunOptions | None = None) -> None:
    """Refuses settings (changed from their defaults) that no model given reads: they would change nothing (an
    index ranks vectors: `--index` without a dense model is one of them)."""
    given = options_changed(options) + (["index"] if run is not None and run.index != "exact" else []) \
        + (["engine"] if run is not None and run.engine is not None else [])
    unread = unread_options(given, [s if isinstance(s, str) else as_model(s) for s in specs])
    if unread:
        flags = ", ".join("--" + name.replace("_", "-") for name in unread)
        raise SetupError(f"{flags} {'does' if len(unread) == 1 else 'do'} not apply to any model given "
                            "(see `--help` for which backends read each setting): leave it out")


def _estimates(plans: list[Plan], tasks: list[Task], run: RunOptions, reranker: PairScorer | None,
               depth: int) -> list[dict]:
    """What each paid model (loaded now, so the estimate comes before the first request) and a paid reranker
    will send and cost; a reranker's pairs on retrieval are bounded (queries x depth)."""
    paid = [model for plan in plans for model in plan.paid_models()]
    rows = estimate_models(paid, tasks, cache=run.cache, price_per_mtok=run.price_per_mtok) if paid else []
    if reranker is not None and reranker.paid:
        rows.append(estimate_reranker(reranker, tasks, depth, cache=run.cache, price_per_mtok=run.price_per_mtok))
    return rows


def execute(plans: Sequence[Plan], tasks: list[Task], ctx: RunContext, observers: Sequence[Observer] = (), *,
            keep_going: bool = True) -> tuple[list[ModelRun], list[dict[str, str]]]:
    """Every plan's runs on the tasks they apply to: each plan's model loaded (a failure to load is recorded
    against every task), its stores opened in the context's scope, and its runs scored task by task. A run that
    fails on a task stops there, with the runs after it in its plan (they build on it); the others go on. What
    no model could do as asked (a SetupError, a missing optional package) is raised: nothing would work.
    Without `keep_going`, the first failure is raised instead (a command of one model)."""
    runs: list[ModelRun] = []
    failures: list[dict[str, str]] = []
    for plan in plans:
        with ctx.scope():
            try:
                planned = plan.open(ctx)
            except Exception as exc:  # noqa: BLE001 - recorded: the other models still run
                plan.close()
                if not keep_going or isinstance(exc, (SetupError, MissingDependencyError)):
                    raise
                failures += _failed(plan.label, tasks, exc)
                continue
            try:
                seed_everything(ctx.run.seed)
                ctx.prepare(tasks)
                done, failed = _score_plan(planned, tasks, ctx, observers, keep_going)
            finally:
                plan.close()
        runs += done
        failures += failed
    return runs, failures


def _score_plan(planned: list[PlannedRun], tasks: list[Task], ctx: RunContext, observers: Sequence[Observer],
                keep_going: bool = True) -> tuple[list[ModelRun], list[dict[str, str]]]:
    scorers = [run.scorer for run in planned]
    for observer in observers:
        scorers = [observer.watch(run, scorer) for run, scorer in zip(planned, scorers)]
    results: list[list] = [[] for _ in planned]
    failures: list[dict[str, str]] = []
    stopped = len(planned)  # runs from this position on have stopped
    for index, task in enumerate(tasks):
        for position in range(stopped):
            run, scorer = planned[position], scorers[position]
            if not run.applies(task):
                continue
            try:
                result = scorer.score(task, ctx.run.k_values)
            except Exception as exc:  # noqa: BLE001 - recorded: the results so far are kept
                if not keep_going or isinstance(exc, (SetupError, MissingDependencyError)):
                    raise
                later = [t for t in tasks[index:] if run.applies(t)]
                failures += _failed(run.name, later, exc, "not run: an earlier task of this model failed")
                stopped = position
                break
            results[position].append(result)
            for observer in observers:
                observer.scored(run, scorer, result)
    done = []
    for run, scorer, kept in zip(planned, scorers, results):
        if kept:
            model_run = ModelRun(run.info(), scorer.stats(), kept, kind=run.kind)
            for observer in observers:
                observer.recorded(run, model_run)
            done.append(model_run)
    return done, failures


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
