"""What a hybrid's `--weights sweep` found, from results alone (nothing is re-run): per task, the best weights
with a bootstrap CI of their score, paired tests of that fusion against each sub-model alone (Holm-corrected,
by `results.compare`), and whether fusion with equal weights is worse than the best sub-model alone, which
happens often enough that it must be said.

A sweep is stored as ordinary model runs (so `compare`, `leaderboard` and `report` read it unchanged): one
per sub-model and one per weight, the latter named by their weights (`hybrid-rrf(w=0.3,0.7):a+b`) and marked
with a `sweep` entry in their model info.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from embedlab.results.compare import TaskComparison, compare
from embedlab.results.results import ModelRun, Results, TaskResult
from embedlab.results.table import short_name

# what differs between the runs of one sweep without being a setting: counts, outputs (each weight's saved runs)
_NOT_SETTINGS = ("name", "weights", "usage", "price_per_mtok", "saved_runs", "saved_runs_sha256")


@dataclass
class SweepSummary:
    task: str
    metric: str
    hybrid: str  # the sweep's hybrid, without its weights
    curve: list[tuple[list[float], float]]  # (weights, mean score) per weight tried, in grid order
    best: list[float]  # the weights of the best mean (chosen on these queries: its score is optimistic)
    comparison: TaskComparison  # baseline: the best fusion; then each sub-model alone (Δ = sub-model - fusion)
    equal: TaskComparison | None  # baseline: the best sub-model; then the equal-weight fusion
    note: str | None  # said when equal weights do worse than the best sub-model alone

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_hybrid(run: ModelRun) -> bool:
    return run.model.get("backend") == "Hybrid" and isinstance(run.model.get("models"), list)


def is_sweep_point(run: ModelRun) -> bool:
    """A run of one weight of a sweep (the sweep's sub-model runs are ordinary runs)."""
    return run.kind == "weights"


def sweep_summaries(results: Results | list[Results], *, alpha: float = 0.05, resamples: int = 10_000,
                    seed: int = 0) -> list[SweepSummary]:
    """One summary per (sweep, task) in the results."""
    runs = [run for result in (results if isinstance(results, list) else [results]) for run in result.runs]
    groups: dict[str, list[ModelRun]] = {}
    for run in filter(is_sweep_point, runs):
        key = json.dumps({k: v for k, v in run.model.items() if k not in _NOT_SETTINGS}, sort_keys=True, default=str)
        groups.setdefault(key, []).append(run)
    out = []
    for points in groups.values():
        subs = sub_model_runs(runs, points[0])
        for task in dict.fromkeys(t.task for run in points for t in run.tasks):
            summary = _summary(task, points, subs, alpha, resamples, seed)
            if summary is not None:
                out.append(summary)
    return out


def sub_model_runs(runs: list[ModelRun], hybrid: ModelRun) -> list[ModelRun]:
    """The runs of a hybrid's sub-models alone in the same results (the closest before it when there are several)."""
    before = runs[: next(i for i, run in enumerate(runs) if run is hybrid)][::-1]
    found = []
    for entry in hybrid.model["models"]:
        same = [run for run in before + runs if not is_hybrid(run) and run.model["name"] == entry["name"]]
        exact = [run for run in same if all(run.model.get(k) == v for k, v in entry.items() if k not in _NOT_SETTINGS)]
        if same:
            found.append((exact or same)[0])
    return found


def _summary(task: str, points: list[ModelRun], subs: list[ModelRun], alpha, resamples, seed) -> SweepSummary | None:
    scored = [(run, _result(run, task)) for run in points if _result(run, task) is not None]
    metric = scored[0][1].main_score
    # ties go to the weights nearest to equal ones: the least tuned choice among equals
    best_run, best = max(scored, key=lambda pair: (pair[1].scores[metric], -_spread(pair[0].model["weights"])))
    sub_results = [(run, _result(run, task)) for run in subs if _result(run, task) is not None]
    if not sub_results:
        return None
    options = {"alpha": alpha, "resamples": resamples, "seed": seed}
    comparison = compare(_alone([(best_run, best), *sub_results]), **options)[0]
    equal_run = next((pair for pair in scored if _equal(pair[0].model["weights"])), None)
    equal, note = (None, None) if equal_run is None else equal_weight_check(equal_run, sub_results, in_sweep=True,
                                                                              **options)
    return SweepSummary(task, metric, points[0].model["sweep"]["of"],
                        [(run.model["weights"], result.scores[metric]) for run, result in scored],
                        best_run.model["weights"], comparison, equal, note)


def equal_weight_check(equal: tuple[ModelRun, TaskResult], subs: list[tuple[ModelRun, TaskResult]], *,
                       in_sweep: bool = False, **options) -> tuple[TaskComparison, str | None]:
    """The equal-weight fusion against the best sub-model alone on one task, and a note when it scores lower: worded
    by the paired test (a loss within the noise is not called one), suggesting a sweep only outside one."""
    metric = equal[1].main_score
    best_sub = max(subs, key=lambda pair: pair[1].scores[metric])
    comparison = compare(_alone([best_sub, equal]), **options)[0]
    row = comparison.rows[1]
    if row.delta is None or row.delta.mean >= 0:
        return comparison, None
    weights = ",".join(f"{w:.3g}" for w in equal[0].model["weights"])
    if row.significant:
        verdict, meaning, advice = "significantly worse", "equal weights hurt here", "try --weights sweep"
    else:
        verdict = f"not significantly worse, p={row.p_holm:.3g}"
        meaning = "equal weights bring no gain here, and the loss is not significant"
        advice = "--weights sweep tries other weights"
    note = (f"{equal[1].task}: equal-weight fusion ({weights}) scores {100 * row.mean:.2f} {metric}, below "
            f"{short_name(best_sub[0].model['name'])} alone ({100 * comparison.rows[0].mean:.2f}; "
            f"Δ {100 * row.delta.mean:+.2f}, {100 * (1 - comparison.alpha):g}% CI {100 * row.delta.low:+.2f} to "
            f"{100 * row.delta.high:+.2f}, {verdict}): {meaning}" + ("" if in_sweep else f"; {advice}"))
    return comparison, note


def fusion_notes(results: Results, **options) -> list[str]:
    """For hybrid runs with equal weights evaluated alongside their sub-models: a line per task where the fusion
    is worse than the best sub-model alone (sweeps say it in their summary)."""
    notes = []
    for run in results.runs:
        if not is_hybrid(run) or is_sweep_point(run) or not _equal(run.model["weights"]):
            continue
        subs = sub_model_runs(results.runs, run)
        for result in run.tasks:
            pairs = [(sub, _result(sub, result.task)) for sub in subs if _result(sub, result.task) is not None]
            if pairs:
                note = equal_weight_check((run, result), pairs, **options)[1]
                notes += [note] if note else []
    return notes


def _result(run: ModelRun, task: str) -> TaskResult | None:
    return next((t for t in run.tasks if t.task == task), None)


def _alone(pairs: list[tuple[ModelRun, TaskResult]]) -> Results:
    """Runs cut to one task each, first = the baseline of `compare`."""
    return Results([ModelRun(run.model, run.embedding, [result]) for run, result in pairs])


def _spread(weights: list[float]) -> float:
    return max(weights) - min(weights)


def _equal(weights: list[float]) -> bool:
    return _spread(weights) < 1e-12
