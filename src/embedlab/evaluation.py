"""`evaluate()`: tasks -> embeddings -> search -> metrics -> Results. Every command reuses this flow.

(The module is `evaluation` so that `embedlab.evaluate` stays the function.)
"""

from __future__ import annotations

import datetime as dt
import logging
import platform
import random
import time
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from embedlab.data import load_reranking, load_retrieval
from embedlab.embed import EmbeddingStore
from embedlab.metrics.names import DEFAULT_K, all_metrics
from embedlab.models import Encoder, ModelOptions, describe, load_encoder
from embedlab.models.cache import DEFAULT_PATH, EmbeddingCache
from embedlab.results import ModelRun, Results, TaskResult
from embedlab.tasks import RerankingTask, RetrievalTask
from embedlab.tasks.sampling import sample_task
from embedlab.tasks.scoring import RERANKING_MAIN, RETRIEVAL_MAIN, score_reranking, score_retrieval

log = logging.getLogger(__name__)
Task = RerankingTask | RetrievalTask


def evaluate(
    models: str | Encoder | Sequence[str | Encoder],
    reranking: str | Path | RerankingTask | Iterable[str | Path | RerankingTask] | None = None,
    retrieval: str | Path | RetrievalTask | Iterable[str | Path | RetrievalTask] | None = None,
    *,
    query_instruction: str | None = None,
    document_instruction: str | None = None,
    batch_size: int = 32,
    max_length: int | None = None,
    device: str | None = None,
    split: str | None = None,
    k_values: tuple[int, ...] = DEFAULT_K,
    progress: bool = False,
    seed: int = 0,
    cache: str | Path | bool | None = None,
    api: dict | None = None,
    sample: int | None = None,
    prune_corpus: int | None = None,
) -> Results:
    """Evaluate each model on the same reranking and retrieval data.

    Models are names (`"st:BAAI/bge-small-zh-v1.5"`, a local directory, a hub id) or Encoder objects.
    Data are paths (JSONL / parquet / HF dataset dir for reranking; a BEIR folder for retrieval) or
    already loaded tasks. Each distinct text is encoded once per model, across all tasks.
    `cache`: a SQLite path, True (the default path), False (none), or None = on for paid API backends
    only. `api`: options for API backends (base_url, api_key_env, dimensions, concurrency,
    max_inputs, input_type, timeout, max_retries; see `ModelOptions`).
    `sample`: evaluate a seeded (`seed`) subsample of N rows / queries per task; retrieval keeps the
    whole corpus unless `prune_corpus` = D (judged documents + D random distractors; see tasks.sampling).
    """
    tasks = load_tasks(reranking, retrieval, split=split, sample=sample, seed=seed,
                       prune_corpus=prune_corpus)
    if not tasks:
        raise ValueError("nothing to evaluate: give reranking and/or retrieval data")
    options = ModelOptions(query_instruction=query_instruction,
                           document_instruction=document_instruction, max_length=max_length,
                           batch_size=batch_size, device=device, **(api or {}))
    runs = []
    for model in [models] if isinstance(models, (str, Encoder)) else list(models):
        _seed_everything(seed)
        encoder = load_encoder(model, options) if isinstance(model, str) else model
        store = EmbeddingStore(encoder, batch_size=getattr(encoder, "preferred_batch", batch_size),
                               progress=progress, cache=open_cache(cache, encoder))
        results = [evaluate_task(task, store, k_values=k_values) for task in tasks]
        info = describe(encoder)
        info.setdefault("dimension", store.dimension)
        runs.append(ModelRun(info, store.stats.as_dict(), results))
    return Results(runs, environment(), dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                   seed)


def load_tasks(reranking=None, retrieval=None, *, split: str | None = None, sample: int | None = None,
               seed: int = 0, prune_corpus: int | None = None) -> list[Task]:
    """Tasks from paths (or as given), each cut to a seeded sample of `sample` rows/queries if asked."""
    tasks: list[Task] = []
    for item in _as_list(reranking):
        tasks.append(item if isinstance(item, RerankingTask) else load_reranking(item, split=split))
    for item in _as_list(retrieval):
        tasks.append(item if isinstance(item, RetrievalTask) else load_retrieval(item, split=split))
    if sample:
        tasks = [sample_task(task, sample, seed, prune_corpus=prune_corpus is not None,
                             distractors=prune_corpus or 0) for task in tasks]
    return tasks


def evaluate_task(task: Task, store: EmbeddingStore, *, k_values: tuple[int, ...] = DEFAULT_K
                  ) -> TaskResult:
    started, encode_before = time.perf_counter(), store.stats.seconds
    if isinstance(task, RerankingTask):
        queries = store.embed(task.texts("query"), "query")
        documents = store.embed(task.texts("document"), "document")
        scored = time.perf_counter()
        per_query = score_reranking(task, queries, documents)
        ids, main = [row.id for row in task.rows], RERANKING_MAIN
    else:
        documents = store.embed(task.texts("document"), "document")
        queries = store.embed(task.texts("query"), "query")
        scored = time.perf_counter()
        per_query = score_retrieval(task, queries, documents, all_metrics(k_values),
                                    depth=max(k_values))
        ids, main = list(task.queries), RETRIEVAL_MAIN
    done = time.perf_counter()
    return TaskResult(
        task=task.name, type=task.type, source=task.source, data_hash=task.fingerprint(),
        main_score=main,
        scores={name: float(np.mean(values)) for name, values in per_query.items()},
        query_ids=ids,
        per_query={name: [float(v) for v in values] for name, values in per_query.items()},
        counts=task.counts(),
        sample=task.sample,
        timings={"encode_seconds": round(store.stats.seconds - encode_before, 4),
                 "score_seconds": round(done - scored, 4), "total_seconds": round(done - started, 4)},
    )


def environment() -> dict[str, str]:
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for package in ("embedlab", "numpy", "torch", "sentence-transformers", "transformers"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions


def open_cache(cache: str | Path | bool | None, encoder: Encoder) -> EmbeddingCache | None:
    if cache is None:
        cache = bool(getattr(encoder, "paid", False))
    if cache is False:
        return None
    return EmbeddingCache(DEFAULT_PATH if cache is True else cache)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, Path, RerankingTask, RetrievalTask)):
        return [value]
    return list(value)
