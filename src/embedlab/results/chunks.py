"""What a chunking grid (`embedlab chunks`, `chunking.evaluate_chunking`) found, from results alone: per model,
every configuration's score with its bootstrap CI, the paired difference to the baseline configuration with its
CI and Holm-corrected test (by `results.compare`), its cost (chunks, tokens per chunk, index bytes, context
tokens per query, encode seconds), and whether it is on the Pareto frontier of quality against context tokens.
Rows are sorted by context tokens per query.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from embedlab.results.compare import compare
from embedlab.results.results import ModelRun, Results, TaskResult
from embedlab.results.stats import Interval
from embedlab.results.table import display_names


@dataclass
class ConfigRow:
    name: str  # the run's display name
    config: dict[str, Any]  # splitter, size, overlap, label
    mean: float
    ci: Interval
    delta: Interval | None  # vs the baseline (None for the baseline)
    p_holm: float | None
    significant: bool
    scores: dict[str, float]  # every mean score of the run (span recall, IoU, nDCG@10...)
    median_rank: float | None  # of the first chunk holding the answer (depth + 1: none in the ranking)
    chunks: int
    tokens_mean: float
    tokens_p95: float
    index_bytes: int | None
    context_tokens: float
    encode_seconds: float | None
    answers_cut: int
    frontier: bool = False


@dataclass
class ChunkSummary:
    task: str
    model: str
    metric: str
    k: int
    units: str
    level: str  # span | document
    queries: int
    baseline: str
    alpha: float
    rows: list[ConfigRow]
    best: str  # the configuration with the highest score
    notes: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_chunk_run(run: ModelRun) -> bool:
    return run.kind == "chunking"


def chunk_summaries(results: Results | list[Results], *, metric: str | None = None, alpha: float = 0.05,
                    resamples: int = 10_000, seed: int = 0) -> list[ChunkSummary]:
    """One summary per (model, task) of the chunking runs; `metric` defaults to the runs' main score."""
    runs = [run for result in (results if isinstance(results, list) else [results]) for run in result.runs]
    names = dict(zip(map(id, runs), display_names(runs)))
    groups: dict[str, list[ModelRun]] = {}
    for run in filter(is_chunk_run, runs):
        groups.setdefault(run.model["chunking"]["of"], []).append(run)
    out = []
    for group in groups.values():
        baseline = next((run for run in group if run.model["chunking"].get("baseline")), group[0])
        for result in baseline.tasks:
            pairs = [(run, r) for run in group if (r := _result(run, result.task)) is not None]
            pairs.sort(key=lambda pair: pair[0] is not baseline)
            out.append(_summary(pairs, names, metric, alpha, resamples, seed))
    return out


def _result(run: ModelRun, task: str) -> TaskResult | None:
    return next((t for t in run.tasks if t.task == task), None)


def _summary(pairs, names, metric, alpha, resamples, seed) -> ChunkSummary:
    alone = Results([ModelRun(run.model, run.embedding, [result]) for run, result in pairs])
    comparison = compare(alone, metric=metric, alpha=alpha, resamples=resamples, seed=seed)[0]
    info = pairs[0][0].model["chunking"]
    k = int(info.get("k", 5))
    rows = [_row(names[id(run)], run, result, compared, k) for (run, result), compared in zip(pairs, comparison.rows)]
    _mark_frontier(rows)
    best = max(rows, key=lambda r: r.mean)
    rows.sort(key=lambda r: (r.context_tokens, -r.mean))
    notes = []
    if info.get("level") == "document":
        notes.append("document-level judgments only: span recall / precision / IoU and answer hit need answers "
                     "located in the documents")
    cut = [r for r in rows if r.answers_cut]
    if cut:
        notes.append("answers no chunk holds whole (scored 0, not dropped): " +
                     ", ".join(f"{r.config['label']} {r.answers_cut}" for r in cut))
    return ChunkSummary(pairs[0][1].task, info["of"], comparison.metric, k, info.get("units", ""),
                        info.get("level", "span"), comparison.queries, comparison.baseline, alpha, rows, best.name,
                        notes)


def _row(name: str, run: ModelRun, result: TaskResult, compared, k: int) -> ConfigRow:
    ranks = result.per_query.get("answer_rank")
    config = {key: run.model["chunking"][key] for key in ("splitter", "size", "overlap", "label")}
    return ConfigRow(name, config, compared.mean, compared.ci, compared.delta, compared.p_holm,
                     bool(compared.significant), dict(result.scores),
                     float(np.median(ranks)) if ranks else None, int(result.counts.get("chunks", 0)),
                     float(result.timings.get("tokens_per_chunk_mean", 0.0)),
                     float(result.timings.get("tokens_per_chunk_p95", 0.0)), result.counts.get("index_bytes"),
                     float(result.scores.get(f"context_tokens@{k}", 0.0)), result.timings.get("encode_seconds"),
                     int(result.counts.get("answers_cut", 0)))


def _mark_frontier(rows: list[ConfigRow]) -> None:
    """Pareto frontier: no other configuration scores at least as high with no more context tokens."""
    for row in rows:
        row.frontier = not any(o is not row and o.mean >= row.mean and o.context_tokens <= row.context_tokens
                               and (o.mean > row.mean or o.context_tokens < row.context_tokens) for o in rows)
