"""`evaluate_chunking`: documents x splitter configurations x models -> Results, one run per (model, configuration).

Every configuration's chunks are cut before any model loads (semantic ones need the embedding model: they are
cut once it is ready). Each model gets one `EmbeddingStore` for the whole grid: the distinct chunk texts of all
configurations are encoded once (a text two configurations share is encoded once, counted), then each
configuration is ranked from those vectors (exact search) and scored by the scorer's `score` (nDCG@10 and
the rest, with "a chunk holding the answer" as relevant) and `chunking.spans` (span recall / precision / IoU,
answer hit, first rank, context tokens). `prepared_models` loads the models and opens their stores in the run
context (`run.context.RunContext`), which also checks costs; each run is of kind "chunking".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedlab.chunking.corpus import ChunkedCorpus, chunked_corpus, excerpts_of, source_hash
from embedlab.chunking.documents import Document
from embedlab.chunking.questions import QuestionSet
from embedlab.chunking.semantic import SemanticBreaks
from embedlab.chunking.spans import Excerpts, document_scores, span_scores
from embedlab.chunking.splitters import ChunkConfig, split_document
from embedlab.chunking.units import CharUnits
from embedlab.embedding.store import EmbeddingStore
from embedlab.errors import EmbedlabError
from embedlab.models.base import Encoder, Model, ModelOptions, as_model
from embedlab.models.registry import backend_class
from embedlab.results import ModelRun, Results, TaskResult
from embedlab.results.table import short_name
from embedlab.run.context import RunContext, environment
from embedlab.run.estimate import estimate_models
from embedlab.run.evaluation import check_options_read
from embedlab.run.options import RunOptions
from embedlab.run.plan import ModelPlan
from embedlab.scorers.base import Scorer
from embedlab.scorers.recording import Observed
from embedlab.scorers.table import scorer_for
from embedlab.tasks.retrieval import RetrievalTask


@dataclass
class ChunkOptions:
    configs: list[ChunkConfig]
    k: int = 5  # chunks handed to the LLM: the span metrics' cut-off
    depth: int = 100  # ranked chunks per query (nDCG, MRR, the rank of the first chunk holding the answer)
    baseline: str | None = None  # a configuration label; default: the first configuration
    name: str = "chunks"  # the task name in results


@dataclass
class Prepared:
    """A model ready to rank chunk corpora: its scorer, and its one store (None for a ranker such as BM25)."""

    model: Model
    scorer: Scorer
    store: EmbeddingStore | None = None


@contextmanager
def prepared_models(specs: Sequence[str | Model | Any], tasks: list[RetrievalTask], options: ModelOptions,
                    run: RunOptions) -> Iterator[list[Prepared]]:
    """Every model loaded, with one store each in the run context (its cache as `run.cache` says), and what paid
    models will send announced and refused above `run.max_cost` (the context's one cost check), before anything is
    encoded; everything closed on exit. `tasks`: every text the grid will embed (or a stand-in of the same texts),
    for the estimate."""
    check_options_read(options, specs)
    plans = [ModelPlan(spec, options) for spec in specs]
    with RunContext(run, batch_size=options.batch_size) as ctx, ctx.scope():
        try:
            ready = []
            for plan in plans:
                scorer = scorer_for(plan.model, ctx)
                ready.append(Prepared(plan.model, scorer, ctx.vectors(plan.model) if _is_encoder(plan.model) else None))
            paid = [model for plan in plans for model in plan.paid_models()]
            ctx.check_costs(estimate_models(paid, tasks, cache=run.cache, price_per_mtok=run.price_per_mtok)
                            if paid else [])
            yield ready
        finally:
            for plan in plans:
                plan.close()


def evaluate_chunking(models: Sequence[str | Model | Any], documents: dict[str, Document], questions: QuestionSet,
                      units: CharUnits, options: ChunkOptions, *, model_options: ModelOptions | None = None,
                      run: RunOptions | None = None) -> Results:
    """One ModelRun per (model, configuration), all on one task named `options.name` (see the module docstring)."""
    model_options, run = model_options or ModelOptions(), run or RunOptions()
    semantic = [c for c in options.configs if c.splitter == "semantic"]
    if semantic and not any(_is_encoder(m) for m in models):
        raise EmbedlabError("the semantic splitter needs an embedding model among -m (its sentences' vectors "
                            "decide the breakpoints); BM25 alone has none")
    excerpts = excerpts_of(questions, documents, units) if questions.level == "span" else None
    corpora = build_corpora(documents, questions, units, options, excerpts)
    stand_in = [RetrievalTask("sentences", {d.id: d.text for d in documents.values()}, {}, {})] if semantic else []
    with prepared_models(models, [c.task for c in corpora.values()] + stand_in, model_options, run) as ready:
        if semantic:
            breaks = SemanticBreaks(next(p.store for p in ready if p.store is not None))
            corpora = build_corpora(documents, questions, units, options, excerpts, breaks, corpora)
        data_hash = source_hash(documents, questions)
        judged = None if excerpts is not None else _judged(documents, questions)
        runs = [r for p in ready for r in _model_runs(p, corpora, excerpts or judged, questions, units, options,
                                                      data_hash)]
    return Results(runs, environment(), dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), run.seed)


def _judged(documents: dict[str, Document], questions: QuestionSet) -> list[set[int]]:
    index = {doc_id: i for i, doc_id in enumerate(documents)}
    return [{index[d] for d in q.doc_ids} for q in questions.questions]


def _is_encoder(spec: str | Model | Any) -> bool:
    if isinstance(spec, str):
        return issubclass(backend_class(spec), Encoder)
    return isinstance(as_model(spec), Encoder)


def build_corpora(documents: dict[str, Document], questions: QuestionSet, units: CharUnits, options: ChunkOptions,
                  excerpts: Excerpts | None, breaks: SemanticBreaks | None = None,
                  done: dict[ChunkConfig, ChunkedCorpus] | None = None) -> dict[ChunkConfig, ChunkedCorpus]:
    """Each configuration's corpus, in grid order: those in `done` as they are; semantic ones only with `breaks`
    (the store their sentences are embedded with)."""
    corpora = dict(done or {})
    for config in options.configs:
        if config not in corpora and (config.splitter != "semantic" or breaks is not None):
            chunks = [c for d in documents.values() for c in split_document(d, config, units, breaks)]
            corpora[config] = chunked_corpus(options.name, chunks, documents, questions, excerpts, units)
    return {c: corpora[c] for c in options.configs if c in corpora}


def _model_runs(prepared: Prepared, corpora: dict[ChunkConfig, ChunkedCorpus], answers: Excerpts | list[set[int]],
                questions: QuestionSet, units: CharUnits, options: ChunkOptions, data_hash: str) -> list[ModelRun]:
    """Every configuration's run of one model; dense models encode the grid's distinct texts first, at once."""
    share: dict[ChunkConfig, float] = {}
    if prepared.store is not None:
        share = _encode_grid(prepared.store, corpora)
    baseline = options.baseline or next(iter(corpora)).label()
    runs = []
    for config, corpus in corpora.items():
        result = _scored(prepared, corpus, answers, options)
        result.data_hash = data_hash
        _costs(result, corpus, units, prepared, options, share.get(config))
        info = {**prepared.model.info(), "name": f"{short_name(prepared.model.name)} [{config.label()}]",
                "chunking": {**config.as_dict(), "of": prepared.model.name, "baseline": config.label() == baseline,
                             "units": units.name, "k": options.k, "level": questions.level}}
        runs.append(ModelRun(info, prepared.scorer.stats(), [result], kind="chunking"))
    return runs


def _encode_grid(store: EmbeddingStore, corpora: dict[ChunkConfig, ChunkedCorpus]) -> dict[ChunkConfig, float]:
    """Every distinct chunk text of the grid and every query, encoded once; each configuration's share of the
    encoding seconds (by its characters among the distinct texts': what encoding it alone would have cost)."""
    texts = list(dict.fromkeys(t for c in corpora.values() for t in c.task.corpus.values()))
    before = store.stats.seconds
    store.embed(texts, "document")
    store.embed(next(iter(corpora.values())).task.texts("query"), "query")
    seconds = store.stats.seconds - before
    total = sum(map(len, texts)) or 1
    return {config: seconds * sum(map(len, set(c.task.corpus.values()))) / total for config, c in corpora.items()}


def _scored(prepared: Prepared, corpus: ChunkedCorpus, answers: Excerpts | list[set[int]], options: ChunkOptions
            ) -> TaskResult:
    """evaluate_task's result, plus the span metrics (`answers`: Excerpts) or document-level ones (`answers`: each
    query's judged document indices) of the same ranking."""
    kept: dict[str, np.ndarray] = {}
    observed = Observed(prepared.scorer, lambda task, depth, indices, scores: kept.update(ranked=indices))
    k_values = tuple(sorted({1, 3, options.k, 10, min(options.depth, 100), options.depth}))
    result = observed.score(corpus.task, k_values)
    ranked = kept["ranked"]
    if isinstance(answers, Excerpts):
        extra = span_scores(corpus.table, answers, ranked, options.k)
        result.main_score = f"answer_hit@{options.k}"
    else:
        extra = document_scores(corpus.table, answers, ranked, options.k)
    for name, values in extra.items():
        result.per_query[name] = [float(v) for v in values]
        result.scores[name] = float(np.mean(values))
    return result


def _costs(result: TaskResult, corpus: ChunkedCorpus, units: CharUnits, prepared: Prepared, options: ChunkOptions,
           encode_share: float | None) -> None:
    sizes = corpus.table.units
    result.counts.update(chunks=len(sizes), answers_cut=corpus.cut_answers,
                         chunks_over_max_length=int((sizes + units.special_tokens > units.max_length).sum())
                         if units.max_length else 0)
    result.timings.update(tokens_per_chunk_mean=round(float(sizes.mean()), 2),
                          tokens_per_chunk_p95=round(float(np.percentile(sizes, 95)), 2))
    dimension = prepared.store.dimension if prepared.store is not None else None
    if dimension:
        result.counts["index_bytes"] = int(len(sizes) * dimension * 4)  # exact search: float32 vectors
    if encode_share is not None:
        result.timings["encode_seconds"] = round(encode_share, 4)
    result.timings["context_tokens_mean"] = round(result.scores[f"context_tokens@{options.k}"], 2)
