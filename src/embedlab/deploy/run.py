"""`deploy_sweep`: encode a model's texts once, then score every deployment variant from those vectors.

Each variant is a model run of its own (named `<model> @<dims> <precision> <index>[ prompt:...]`, with a
`deploy` entry in its model info), so `compare`, `leaderboard` and `report` read the results unchanged; the
baseline (full width, float32, exact search, the configured prompt) comes first and scores what `eval` scores.
Reranking rows are scored candidate by candidate (no search), so approximate indexes run on retrieval only.
With `prompt_variants`, queries are encoded again without a prompt and with each instruction given (documents
are reused) and scored at full width, float32, exact.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedlab.deploy.scorer import DeployKnobs, VariantScorer
from embedlab.deploy.variants import CONFIGURED, NO_PROMPT, Variant, grid
from embedlab.embedding.store import EmbeddingStore
from embedlab.errors import EmbedlabError, ModelError
from embedlab.run.estimate import check_cost, cost_line, estimate_models
from embedlab.run.evaluation import RunOptions, environment, evaluate_task, load_tasks
from embedlab.models.base import Encoder, Model, ModelOptions, as_model
from embedlab.embedding.cache import open_cache
from embedlab.models.registry import load_model
from embedlab.results import ModelRun, Results, TaskResult
from embedlab.tasks.retrieval import RetrievalTask

log = logging.getLogger(__name__)


@dataclass
class DeployOptions:
    dims: tuple[int, ...] = ()  # empty: the model's full width only
    precisions: tuple[str, ...] = ("float32", "int8", "binary")
    indexes: tuple[str, ...] = ("exact",)
    prompt_variants: bool = False
    query_instructions: tuple[str, ...] = ()  # with prompt_variants: instructions to try besides the configured one
    knobs: DeployKnobs = field(default_factory=DeployKnobs)


def deploy_sweep(model: str | Model | Any, tasks, *, model_options: ModelOptions | None = None,
                 run: RunOptions | None = None, deploy: DeployOptions | None = None) -> Results:
    """The results of every variant of `deploy` for one embedding model on `tasks` (paths, names or loaded)."""
    options, run, deploy = model_options or ModelOptions(), run or RunOptions(), deploy or DeployOptions()
    loaded = load_tasks(tasks, run)
    if not loaded:
        raise ValueError("nothing to evaluate: give reranking and/or retrieval data")
    if deploy.prompt_variants and not isinstance(model, str):
        raise EmbedlabError("--prompt-variants encodes the queries again with other prompts: give the model by name")
    encoder = load_model(model, options) if isinstance(model, str) else as_model(model)
    if not isinstance(encoder, Encoder):
        raise ModelError(f"'{encoder.name}' is not an embedding model: a sweep of dimensions, precisions and "
                         "indexes needs vectors")
    documents = EmbeddingStore(encoder, batch_size=options.batch_size, progress=run.progress,
                               cache=open_cache(run.cache, encoder.paid))
    try:
        if encoder.paid:
            _check_cost(encoder, loaded, run)
        runs = _sweep(encoder, documents, loaded, run, deploy)
        if deploy.prompt_variants:
            runs += _prompt_runs(model, encoder, documents, loaded, options, run, deploy)
    finally:
        if documents.cache is not None:
            documents.cache.close()
        if isinstance(model, str):
            encoder.close()
    return Results(runs, environment(), dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), run.seed)


def _say(run: RunOptions, line: str) -> None:
    if run.announce is not None:
        run.announce(line)
    else:
        log.warning("%s", line)


def _check_cost(encoder: Encoder, tasks, run: RunOptions) -> None:
    rows = estimate_models([encoder], tasks, cache=run.cache, price_per_mtok=run.price_per_mtok)
    for row in rows:
        _say(run, cost_line(row))
    check_cost(rows, run.max_cost)


def _full_width(encoder: Encoder, documents: EmbeddingStore, tasks) -> int:
    if documents.dimension is None:  # an API model tells its width with its first vectors
        documents.embed(tasks[0].texts("query")[:1], "query")
    return int(documents.dimension)


def _sweep(encoder: Encoder, documents: EmbeddingStore, tasks, run: RunOptions, deploy: DeployOptions
           ) -> list[ModelRun]:
    full = _full_width(encoder, documents, tasks)
    variants, notes = grid(encoder.name, full, deploy.dims or (full,), deploy.precisions, deploy.indexes)
    for note in notes:
        _say(run, f"note: {note}")
    for task in tasks:  # every text once, before any variant: the sweep's cost is this encoding
        documents.embed(task.texts("document"), "document")
        documents.embed(task.texts("query"), "query")
    return [_variant_run(encoder, VariantScorer(documents, documents, v, deploy.knobs), tasks, run)
            for v in variants]


def _variant_run(encoder: Encoder, scorer: VariantScorer, tasks, run: RunOptions) -> ModelRun:
    variant = scorer.variant
    done = []
    for task in tasks:
        if variant.index != "exact" and not isinstance(task, RetrievalTask):
            continue
        result = evaluate_task(task, scorer, k_values=run.k_values)
        _merge(result, scorer.measured.get(task.name))
        done.append(result)
    info = {**encoder.info(), "name": f"{encoder.name} {variant.label()}",
            "deploy": {**variant.as_dict(), "of": encoder.name,
                       "baseline": variant.prompt == CONFIGURED and variant.index == "exact"
                       and variant.precision == "float32" and variant.dimension == scorer.documents.dimension,
                       "knobs": dataclasses.asdict(scorer.knobs)}}
    return ModelRun(info, scorer.stats(), done)


def _merge(result: TaskResult, measured) -> None:
    if measured is None:
        return
    result.timings.update(measured.timings)
    result.counts.update(measured.counts)
    for name, values in measured.per_query.items():
        result.per_query[name] = [float(v) for v in values]
        result.scores[name] = float(np.mean(values))


def _prompt_runs(spec: str, encoder: Encoder, documents: EmbeddingStore, tasks, options: ModelOptions,
                 run: RunOptions, deploy: DeployOptions) -> list[ModelRun]:
    """Queries encoded again with no prompt and with each instruction given; full width, float32, exact."""
    configured = encoder.instructions["query"]
    prompts = [p for p in dict.fromkeys((NO_PROMPT, *deploy.query_instructions)) if p != configured]
    if not configured:
        if not prompts:
            raise EmbedlabError(f"--prompt-variants: {encoder.name} configures no query prompt and no "
                                "--query-instruction was given: nothing to compare; give --query-instruction TEXT")
        _say(run, f"warning: {encoder.name} configures no query prompt (config_sentence_transformers.json "
                  "'prompts' or --query-instruction): its queries are encoded without one; the variants below "
                  "show whether an instruction helps")
    runs = []
    for prompt in prompts:
        other = load_model(spec, dataclasses.replace(options, query_instruction=prompt))
        queries = EmbeddingStore(other, batch_size=options.batch_size, progress=run.progress,
                                 cache=open_cache(run.cache, other.paid))
        try:
            variant = Variant(int(documents.dimension), "float32", "exact", prompt)
            runs.append(_variant_run(encoder, VariantScorer(documents, queries, variant, deploy.knobs), tasks, run))
            runs[-1].model["query_instruction"] = prompt
        finally:
            if queries.cache is not None:
                queries.cache.close()
            other.close()
    return runs
