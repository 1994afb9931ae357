"""Retrieval stacks stage by stage: each first stage, then each of its two-stage runs (`first >> reranker@depth`)
with the first stage's recall at the depth (the reranker's ceiling), the scores after reranking, the paired
gain over the first stage with a bootstrap CI, the reranker's measured milliseconds and tokens per query.

Everything comes from the results' model info and per-query scores (see `evaluation.evaluate_stack`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedlab.results.compare import named_runs
from embedlab.results.results import ModelRun, Results, TaskResult
from embedlab.results.stats import Interval, paired_bootstrap_ci

SHOWN = ("ndcg@10", "map@10", "mrr@10")  # the scores a stack row shows after reranking


@dataclass
class StackRow:
    task: str
    model: str  # display name of the run
    first_stage: str  # display name of the first stage's run (itself for a first stage)
    reranker: str | None  # None: the first stage alone
    depth: int | None
    queries: int
    scores: dict[str, float]  # SHOWN means
    first_recall: float | None  # the first stage's recall@depth
    gain: Interval | None  # paired mean(after - first stage) of `metric`, with its CI
    ms_per_query: float | None  # the reranker's measured time per query
    tokens_per_query: float | None  # tokens an API reranker is billed per query (measured rate x pairs)
    reranker_model: dict | None  # the reranker's info (its model id, paid or not)
    price_per_mtok: float | None  # as recorded by `eval --price-per-mtok`


def stack_rows(results: Results | list[Results], *, metric: str = "ndcg@10", confidence: float = 0.95,
               resamples: int = 10_000, seed: int = 0) -> list[StackRow]:
    """Per retrieval task: each first stage that has two-stage runs, then its runs by depth."""
    results = results if isinstance(results, list) else [results]
    label = {id(run): name for name, run in named_runs(results).items()}
    rows = []
    for result in results:
        for first, staged in _stacks(result.runs):
            for first_task in first.tasks:
                runs = [(run, t) for run in staged for t in run.tasks if _same(t, first_task)]
                if not runs:
                    continue
                rows.append(_row(label[id(first)], label[id(first)], first, first_task, None, metric))
                for run, task in sorted(runs, key=lambda pair: pair[0].model["rerank_depth"]):
                    gain = paired_bootstrap_ci(task.per_query[metric], first_task.per_query[metric],
                                               confidence=confidence, resamples=resamples, seed=seed)
                    rows.append(_row(label[id(run)], label[id(first)], run, task, gain, metric))
    return rows


def _stacks(runs: list[ModelRun]) -> list[tuple[ModelRun, list[ModelRun]]]:
    """(first stage, its two-stage runs) for each first stage of one results file."""
    staged = [run for run in runs if run.kind == "stage"]
    return [(first, [r for r in staged if r.model.get("first_stage") == first.model["name"]])
            for first in runs if any(r.model.get("first_stage") == first.model["name"] for r in staged)]


def _same(a: TaskResult, b: TaskResult) -> bool:
    return a.task == b.task and a.data_hash == b.data_hash and a.query_ids == b.query_ids


def _row(name: str, first: str, run: ModelRun, task: TaskResult, gain: Interval | None, metric: str) -> StackRow:
    info = run.model
    depth = info.get("rerank_depth")
    pairs, scored = task.counts.get("rerank_pairs", 0), task.counts.get("rerank_pairs_scored", 0)
    billed = task.counts.get("rerank_tokens_billed")
    queries = len(task.query_ids)
    tokens = billed / scored * pairs / queries if billed is not None and scored and queries else None
    return StackRow(
        task=task.task, model=name, first_stage=first, reranker=info.get("reranker"), depth=depth, queries=queries,
        scores={m: float(np.mean(task.per_query[m])) for m in (*SHOWN, metric) if m in task.per_query},
        first_recall=(info.get("first_stage_recall") or {}).get(task.task), gain=gain,
        ms_per_query=task.timings.get("rerank_ms_per_query"), tokens_per_query=tokens,
        reranker_model=info.get("reranker_model"), price_per_mtok=info.get("price_per_mtok"))
