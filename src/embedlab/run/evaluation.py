"""`evaluate()`: tasks -> model outputs -> metrics -> Results. Every command reuses this flow.

(The module is `evaluation` so that `embedlab.evaluate` stays the function.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import platform
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.data.resolve import Spec, distinct_names, resolve_all
from embedlab.embedding.store import EmbeddingStore
from embedlab.embedding.engines import EngineOptions, embedding_store
from embedlab.errors import EmbedlabError
from embedlab.run.estimate import check_cost, cost_line, estimate_models, estimate_reranker
from embedlab.metrics.names import DEFAULT_K, parse_metric
from embedlab.models.base import Model, ModelOptions, PairScorer, Ranker, as_model
from embedlab.embedding.cache import index_folder, open_cache
from embedlab.models.hybrid import Hybrid
from embedlab.models.registry import is_paid, load_model, load_reranker, reranker_options
from embedlab.embedding.pairs import PairStore
from embedlab.results import ModelRun, Results, TaskResult
from embedlab.scorers import TwoStage, scorer_for, with_search
from embedlab.scorers.recording import RunSaver, keep_rankings, recording, write_runs
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask
from embedlab.tasks.scoring import score_retrieval
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
    # two-stage retrieval: each model's top `rerank_depths` reranked by `reranker` (a pair scorer: ce:, rerank:,
    # qianfan-rerank:, a bare path = a local cross-encoder), one more run per depth; the reranker alone
    # scores reranking rows. `reranker_options`: its own settings (default: the models' without instructions)
    reranker: str | Model | None = None
    rerank_depths: tuple[int, ...] = ()
    reranker_options: ModelOptions | None = None
    save_run: str | Path | RunSaver | None = None  # a folder: each retrieval run's top 100 as TREC runs (evaluate)
    engine: EngineOptions | None = None  # --engine ray: documents encoded on a Ray cluster (engines/); None: here
    search: str = "exact"  # or faiss-ivf | faiss-hnsw: dense retrieval by an approximate index, its cost measured


def evaluate(models: str | Model | Any | Sequence[str | Model | Any], tasks: Spec | Iterable[Spec], *,
             model: ModelOptions | None = None, run: RunOptions | None = None) -> Results:
    """Evaluate each model on the same tasks.

    Models are names (`"st:BAAI/bge-small-zh-v1.5"`, a local directory, a hub id, `"openai:<model>"`), Model
    objects, or any object with `name` and `encode(texts, kind)`. Tasks are paths (reranking rows: JSONL / parquet
    / dataset folder; retrieval: a BEIR folder), C-MTEB task names, "demo", or loaded tasks. Each distinct text is
    encoded once per model, across all tasks. Paid models are estimated before anything is sent (`run.max_cost`
    refuses a run above it). With `run.reranker`, each model is also the first stage of a two-stage run per
    `run.rerank_depths` (`evaluate_stack`); with `run.save_run`, the rankings scored are saved as TREC runs.
    """
    run, options = run or RunOptions(), model or ModelOptions()
    if not (loaded := load_tasks(tasks, run)):
        raise ValueError("nothing to evaluate: give reranking and/or retrieval data")
    specs = [models] if isinstance(models, str) or not isinstance(models, Sequence) else list(models)
    run = dataclasses.replace(run, rerank_depths=check_rerank_depths(run, loaded),
                              save_run=RunSaver.of(run.save_run, loaded))
    paid = {i: load_model(s, options) for i, s in enumerate(specs) if isinstance(s, str) and is_paid(s, options)}
    given = {i: as_model(s) for i, s in enumerate(specs) if not isinstance(s, str)}
    reranker = load_reranker(run.reranker, run.reranker_options or reranker_options(options))
    pairs = None
    try:
        _check_costs([m for m in (*paid.values(), *given.values()) if m.paid], loaded, run,
                     reranker if reranker is not None and reranker.paid else None)
        if reranker is not None:
            pairs = PairStore(reranker, batch_size=options.batch_size, progress=run.progress,
                              cache=open_cache(run.cache, reranker.paid))
        runs, failures = [], []
        for i, spec in enumerate(specs):
            try:
                instance = paid.get(i) or given.get(i) or load_model(spec, options)
            except Exception as exc:  # noqa: BLE001 - recorded: the other models still run
                failures += _failed(str(spec), loaded, exc)
                continue
            _seed_everything(run.seed)
            try:
                if pairs is None:
                    model_runs, failed = evaluate_runs(instance, loaded, run, batch_size=options.batch_size)
                else:
                    model_runs, failed = evaluate_stack(instance, pairs, loaded, run, batch_size=options.batch_size)
            finally:
                if i not in given:
                    instance.close()
            runs += [r for r in model_runs if r.tasks]
            failures += failed
        if pairs is not None:
            alone, failed = _reranker_alone(pairs, loaded, run, runs)
            runs, failures = runs + alone, failures + failed
    finally:
        if pairs is not None and pairs.cache is not None:
            pairs.cache.close()
        if reranker is not None and not isinstance(run.reranker, Model):
            reranker.close()
    results = Results(runs, environment(), dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                      run.seed, failures=failures)
    write_runs(run.save_run, results)
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


def evaluate_model(model: Model, tasks: list[Task], run: RunOptions, *, batch_size: int = 32,
                   pairs: PairStore | None = None) -> tuple[ModelRun, list[dict[str, str]]]:
    """One model on every task: its ModelRun (provenance, model work counts, the results of the tasks done)
    and the failures: a task that fails, and the ones after it (not run: the model is likely broken).
    `pairs`: the store a pair scorer scores through (one shared by a run's two-stage runs)."""
    with _scoring(model, run, batch_size, pairs) as (scorer, stores):
        _prepare(stores, tasks)
        results, failures = _run_tasks(model.name, scorer, tasks, run)
        return _model_run(model, scorer, stores, results, run), failures


def evaluate_runs(model: Model, tasks: list[Task], run: RunOptions, *, batch_size: int = 32
                  ) -> tuple[list[ModelRun], list[dict[str, str]]]:
    """The runs a model stands for: its own (`evaluate_model`), or for a hybrid with `weights="sweep"` one run
    per sub-model and one per weight of the grid, task by task from one output of each sub-model (nothing is
    encoded twice). A failed task is left out of every run of the sweep, as are the tasks after it."""
    if not (isinstance(model, Hybrid) and model.sweep):
        model_run, failures = evaluate_model(model, tasks, run, batch_size=batch_size)
        return [model_run], failures
    failures: list[dict[str, str]] = []
    with _scoring(model, run, batch_size) as (scorer, stores):
        _prepare(stores, tasks)
        views = scorer.sweep()
        scored = [recording(run.save_run, view) for view in views]
        results: list[list[TaskResult]] = [[] for _ in views]
        for index, task in enumerate(tasks):
            try:
                done = [evaluate_task(task, view, k_values=run.k_values) for view in scored]
            except Exception as exc:  # noqa: BLE001 - recorded: the results so far are kept
                failures = _failed(model.name, tasks[index:], exc, "not run: an earlier task of this model failed")
                break
            for kept, result in zip(results, done):
                kept.append(result)
    runs = [ModelRun(view.info(), view.stats(), kept) for view, kept in zip(views, results)]
    for view, kept in zip(scored, results):
        keep_rankings(run.save_run, view, kept)
    for view, model_run in zip(views, runs):
        if view.paid and run.price_per_mtok is not None:
            model_run.model["price_per_mtok"] = run.price_per_mtok
    return runs, failures


def evaluate_stack(first: Model, pairs: PairStore, tasks: list[Task], run: RunOptions, *, batch_size: int = 32
                   ) -> tuple[list[ModelRun], list[dict[str, str]]]:
    """The first stage's own run, then one run per rerank depth on the retrieval tasks, named
    `first >> reranker@depth`: the first stage's top `depth` reordered by the reranker (`scorers.TwoStage`)."""
    with _scoring(first, run, batch_size) as (scorer, stores):
        stack = TwoStage(scorer, pairs, run.rerank_depths)
        results, failures = _run_tasks(first.name, stack.recording(), tasks, run)
        runs = [_model_run(first, scorer, stores, results, run)]
        retrieval = [task for task in tasks if isinstance(task, RetrievalTask)]
        if failures or not retrieval:
            return runs, failures
        for depth in stack.depths:
            staged = stack.at(depth)
            name = f"{first.name} >> {pairs.model.name}@{depth}"
            done, failures = _run_tasks(name, staged, retrieval, run)
            info = {"name": name, "backend": "two-stage", "first_stage": first.name, "reranker": pairs.model.name,
                    "rerank_depth": depth, "first_stage_recall": _annotate(done, retrieval, stack, depth),
                    "first_stage_model": runs[0].model, "reranker_model": pairs.model.info()}
            if pairs.model.paid and run.price_per_mtok is not None:
                info["price_per_mtok"] = run.price_per_mtok
            runs.append(ModelRun(info, staged.stats(), done))
            if failures:
                break
    return runs, failures


def _annotate(done: list[TaskResult], tasks: list[RetrievalTask], stack: TwoStage, depth: int) -> dict[str, float]:
    """The first stage's recall@depth per task (the reranker's ceiling); into each result: the reranker's
    measured milliseconds per query, pairs reranked and scored, tokens billed."""
    recall = parse_metric(f"recall@{depth}")
    stats = stack.pairs.stats
    fallback = stats.seconds / stats.scored if stats.scored else None  # every pair known: the run's average
    ceiling = {}
    for result, task in zip(done, tasks):
        reranked = stack.reranked(task, depth)
        ceiling[task.name] = float(np.mean(score_retrieval(task, reranked.indices[:, :depth], [recall])[str(recall)]))
        ms = reranked.ms_per_query(depth, fallback)
        if ms is not None:
            result.timings["rerank_ms_per_query"] = round(ms, 3)
        result.counts.update(rerank_pairs=reranked.pairs[depth], rerank_pairs_scored=reranked.scored[depth])
        if reranked.tokens[depth] is not None:
            result.counts["rerank_tokens_billed"] = reranked.tokens[depth]
    return ceiling


def _reranker_alone(pairs: PairStore, tasks: list[Task], run: RunOptions, runs: list[ModelRun]
                    ) -> tuple[list[ModelRun], list[dict[str, str]]]:
    """The reranker on the reranking rows (it scores each row's candidates), unless it ran as a model."""
    rows = [task for task in tasks if isinstance(task, RerankingTask)]
    if not rows or any(r.model.get("name") == pairs.model.name for r in runs):
        return [], []
    model_run, failures = evaluate_model(pairs.model, rows, run, pairs=pairs)
    return [model_run] if model_run.tasks else [], failures


@contextmanager
def _scoring(model: Model, run: RunOptions, batch_size: int, pairs: PairStore | None = None):
    """(the model's scorer, the stores it opened); their caches are closed on exit. `pairs` is used for its
    own model instead of a new store."""
    stores: list[EmbeddingStore | PairStore] = []

    def store(scored: Model) -> EmbeddingStore | PairStore:
        if pairs is not None and pairs.model is scored:
            return pairs
        kind = PairStore if isinstance(scored, PairScorer) else embedding_store(run.engine)
        stores.append(kind(scored, batch_size=batch_size, progress=run.progress,
                           cache=open_cache(run.cache, scored.paid)))
        return stores[-1]

    try:
        scorer = with_search(scorer_for(model, store), run.search, run.seed)
        for part in [model, *model.parts()]:  # a BM25 (alone or in a hybrid) keeps its index beside the cache
            if isinstance(part, Ranker):
                part.keep_indexes(index_folder(run.cache, part.paid))
        yield scorer, stores
    finally:
        for used in stores:
            if used.cache is not None:
                used.cache.close()


def _prepare(stores: list, tasks: list[Task]) -> None:
    """Every task's documents to each embedding store first: on Ray, one worker pool encodes them all. Should
    that fail, each task encodes its own, so the failure is recorded against the task it belongs to."""
    for store in stores:
        if isinstance(store, EmbeddingStore):
            with suppress(EmbedlabError):
                store.prepare(task.texts("document") for task in tasks)


def _run_tasks(name: str, scorer, tasks: list[Task], run: RunOptions) -> tuple[list[TaskResult], list[dict]]:
    results, failures = [], []
    scorer = recording(run.save_run, scorer)
    for index, task in enumerate(tasks):
        try:
            results.append(evaluate_task(task, scorer, k_values=run.k_values))
        except Exception as exc:  # noqa: BLE001 - recorded: the results so far are kept
            failures = _failed(name, tasks[index:], exc, "not run: an earlier task of this model failed")
            break
    keep_rankings(run.save_run, scorer, results)
    return results, failures


def _model_run(model: Model, scorer, stores: list, results: list[TaskResult], run: RunOptions) -> ModelRun:
    info = model.info()
    dimensions = [s.dimension for s in stores if isinstance(s, EmbeddingStore)]
    if dimensions:
        info.setdefault("dimension", dimensions[0])
        if run.engine is not None:  # documents were encoded on Ray: say so (None: in this process)
            info["engine"] = run.engine.describe()
    if model.paid and run.price_per_mtok is not None:
        info["price_per_mtok"] = run.price_per_mtok
    return ModelRun(info, scorer.stats(), results)


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
        sample=task.sample, dataset=task.dataset,
        timings={"encode_seconds": round(model_seconds, 4),
                 "score_seconds": round(done - started - model_seconds, 4),
                 "total_seconds": round(done - started, 4)},
    )


def _check_costs(paid: list[Model], tasks: list[Task], run: RunOptions, reranker: PairScorer | None = None) -> None:
    """Before the first paid request: announce what each paid model will send and cost; refuse above max_cost.
    A paid reranker's pairs on retrieval are bounded (queries x depth: which documents the first stage
    returns is not known yet)."""
    if not paid and reranker is None:
        return
    rows = estimate_models(paid, tasks, cache=run.cache, price_per_mtok=run.price_per_mtok)
    if reranker is not None:
        rows.append(estimate_reranker(reranker, tasks, max(run.rerank_depths, default=0), cache=run.cache,
                                      price_per_mtok=run.price_per_mtok))
    for row in rows:
        if run.announce is not None:
            run.announce(cost_line(row, at_most=row.get("at_most", False)))
    check_cost(rows, run.max_cost)


DEFAULT_RERANK_DEPTH = 100


def check_rerank_depths(run: RunOptions, tasks: list[Task]) -> tuple[int, ...]:
    """The run's rerank depths (the default for a reranker given none), checked: depths need a reranker,
    and none may be larger than a retrieval corpus (one line naming both)."""
    if run.reranker is None:
        if run.rerank_depths:
            raise EmbedlabError("--rerank-depth needs a --reranker (the model that reorders each first stage's top)")
        return ()
    depths = tuple(run.rerank_depths) or (DEFAULT_RERANK_DEPTH,)
    for depth in depths:
        if depth < 1:
            raise EmbedlabError(f"--rerank-depth {depth}: a depth is a number of documents, 1 or more")
        for task in tasks:
            if isinstance(task, RetrievalTask) and depth > len(task.corpus):
                raise EmbedlabError(f"--rerank-depth {depth} is larger than the corpus of {task.name} "
                                    f"({len(task.corpus):,} documents): give depths up to {len(task.corpus):,}")
    return depths


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
