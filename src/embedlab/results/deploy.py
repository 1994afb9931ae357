"""What a deployment sweep (`embedlab sweep`, `deploy.deploy_sweep`) found, from results alone: per task, every
variant's score with its bootstrap CI, the paired difference to the baseline (full width, float32, exact search,
the configured prompt) with its CI and Holm-corrected test (by `results.compare`), its cost (bytes per vector,
index bytes, ms per query) and whether it is on the Pareto frontier of quality against bytes and against ms.

A variant not significantly different from the baseline and cheaper is a free saving. (`results/sweep.py` is
the hybrid's weight sweep; this is the deployment one.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from embedlab.results.compare import compare
from embedlab.results.results import ModelRun, Results, TaskResult
from embedlab.results.stats import Interval
from embedlab.results.table import display_names


@dataclass
class VariantRow:
    name: str  # the run's display name
    variant: dict[str, Any]  # dimension, precision, index, prompt, bytes_per_vector
    mean: float
    ci: Interval
    delta: Interval | None  # vs the baseline (None for the baseline)
    p_holm: float | None
    tied: bool  # not significantly different from the baseline (the baseline itself too)
    index_bytes: int | None
    ms_batch: float | None
    ms_single: float | None
    neighbour_recall: float | None  # approximate indexes: share of the exact top 10 found
    cheaper: bool = False  # fewer bytes per vector, or a faster single-query search, than the baseline
    frontier_bytes: bool = False
    frontier_ms: bool = False

    @property
    def free(self) -> bool:
        """A free saving: tied with the baseline, and cheaper."""
        return self.tied and self.delta is not None and self.cheaper


@dataclass
class DeploySummary:
    task: str
    metric: str
    queries: int
    model: str  # the model swept
    baseline: str
    alpha: float
    rows: list[VariantRow]  # sorted by cost: bytes per vector, then ms per query
    notes: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_deploy_run(run: ModelRun) -> bool:
    return run.kind == "variant"


def deploy_summaries(results: Results | list[Results], *, alpha: float = 0.05, resamples: int = 10_000,
                     seed: int = 0) -> list[DeploySummary]:
    """One summary per (model swept, task)."""
    runs = [run for result in (results if isinstance(results, list) else [results]) for run in result.runs]
    names = dict(zip(map(id, runs), display_names(runs)))
    groups: dict[str, list[ModelRun]] = {}
    for run in filter(is_deploy_run, runs):
        groups.setdefault(run.model["deploy"]["of"], []).append(run)
    out = []
    for model, group in groups.items():
        baseline = next((run for run in group if run.model["deploy"].get("baseline")), None)
        if baseline is None:
            continue
        for result in baseline.tasks:
            pairs = [(run, _result(run, result.task)) for run in group]
            pairs = [(run, r) for run, r in pairs if r is not None]
            pairs.sort(key=lambda pair: pair[0] is not baseline)
            out.append(_summary(model, pairs, names, alpha, resamples, seed))
    return out


def _result(run: ModelRun, task: str) -> TaskResult | None:
    return next((t for t in run.tasks if t.task == task), None)


def _summary(model, pairs, names, alpha, resamples, seed) -> DeploySummary:
    alone = Results([ModelRun(run.model, run.embedding, [result]) for run, result in pairs])
    comparison = compare(alone, alpha=alpha, resamples=resamples, seed=seed)[0]
    base_bytes = pairs[0][0].model["deploy"]["bytes_per_vector"]
    base_ms = pairs[0][1].timings.get("ms_per_query_single")
    rows = []
    for (run, result), compared in zip(pairs, comparison.rows):
        variant = {k: v for k, v in run.model["deploy"].items() if k not in ("knobs", "of", "baseline")}
        ms = result.timings.get("ms_per_query_single")
        cheaper = variant["bytes_per_vector"] < base_bytes or (ms is not None and base_ms is not None and ms < base_ms)
        rows.append(VariantRow(names[id(run)], variant, compared.mean, compared.ci, compared.delta,
                               compared.p_holm, not compared.significant, result.counts.get("index_bytes"),
                               result.timings.get("ms_per_query_batch"), ms,
                               result.scores.get("neighbour_recall@10"), cheaper))
    _mark_frontiers(rows)
    rows[1:] = sorted(rows[1:], key=lambda r: (r.variant["bytes_per_vector"], r.ms_single or 0.0, -r.mean))
    return DeploySummary(pairs[0][1].task, comparison.metric, comparison.queries, model, rows[0].name, alpha,
                         rows, _prompt_notes(rows, comparison.metric, pairs[0][1].task))


def _mark_frontiers(rows: list[VariantRow]) -> None:
    """Pareto frontier: no other variant scores at least as high for no more cost (bytes; ms per query)."""
    for row in rows:
        row.frontier_bytes = not any(_dominates(o, row, lambda r: r.variant["bytes_per_vector"]) for o in rows)
        if row.ms_single is not None:
            row.frontier_ms = not any(o.ms_single is not None and _dominates(o, row, lambda r: r.ms_single)
                                      for o in rows)


def _dominates(other: VariantRow, row: VariantRow, cost) -> bool:
    if other is row:
        return False
    return other.mean >= row.mean and cost(other) <= cost(row) and (other.mean > row.mean or cost(other) < cost(row))


def _prompt_notes(rows: list[VariantRow], metric: str, task: str) -> list[str]:
    """A warning when another query prompt scores significantly better than the configured one."""
    notes = []
    for row in rows[1:]:
        if row.variant.get("prompt") == "configured" or row.tied or row.delta is None or row.delta.mean <= 0:
            continue
        prompt = row.variant["prompt"]
        notes.append(f"{task}: queries {'without a prompt' if not prompt else f'with the prompt {prompt!r}'} score "
                     f"{100 * row.mean:.2f} {metric}, above the configured prompt's {100 * rows[0].mean:.2f} "
                     f"(Δ {100 * row.delta.mean:+.2f}, CI {100 * row.delta.low:+.2f} to {100 * row.delta.high:+.2f}, "
                     "Holm-corrected): the configured query prompt is not the best here")
    return notes
