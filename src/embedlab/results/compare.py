"""Compare models on the same queries: mean with a bootstrap CI, paired delta to a baseline with its
CI, a paired significance test, Holm's correction across models, and the rows a margin would need.

Only like is compared with like: every run of a task must have the same data hash and query ids.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from embedlab.errors import EmbedlabError, UnknownNameError
from embedlab.results.duplicates import merge_duplicates
from embedlab.results.results import ModelRun, Results, TaskResult
from embedlab.results.stats import Interval, bootstrap_cis
from embedlab.results.table import display_names, short_name

TESTS = ("permutation", "t")


@dataclass
class ModelRow:
    model: str
    mean: float
    ci: Interval
    delta: Interval | None = None  # vs the baseline (None for the baseline itself)
    p_value: float | None = None
    p_holm: float | None = None
    significant: bool | None = None
    rows_for_margin: int | None = None  # queries for a CI half-width of `margin` on the mean


@dataclass
class TaskComparison:
    task: str
    metric: str
    data_hash: str
    queries: int
    baseline: str
    test: str
    alpha: float
    margin: float
    rows: list[ModelRow]
    sample: dict | None = None
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(results: Results | list[Results], *, metric: str | None = None, baseline: str | None = None,
            test: str = "permutation", alpha: float = 0.05, margin: float = 0.01, resamples: int = 10_000,
            seed: int = 0) -> list[TaskComparison]:
    """One comparison per task present in the runs (see the module docstring)."""
    if test not in TESTS:
        raise UnknownNameError("test", test, TESTS)
    results = results if isinstance(results, list) else [results]
    runs = _runs(results)
    if baseline is not None:
        baseline = _baseline(baseline, results)
    tasks = list(dict.fromkeys(t.task for by_task in runs.values() for t in by_task.values()
                               if metric is None or metric in t.per_query))
    if not tasks:
        known = {m for by_task in runs.values() for t in by_task.values() for m in t.per_query}
        raise UnknownNameError("metric", metric, known)
    return [_compare_task(task, runs, metric, baseline, test, alpha, margin, resamples, seed)
            for task in tasks]


def _baseline(name: str, results: list[Results]) -> str:
    try:
        return resolve_name(name, named_runs(results))
    except UnknownNameError as exc:
        raise UnknownNameError("baseline model", name, named_runs(results)) from exc


def paired_permutation_test(a, b, *, resamples: int = 10_000, seed: int = 0) -> float:
    """Two-sided p-value of mean(a - b) = 0 by random sign flips of the paired differences.

    Exact (all 2^n sign patterns) when that is at most `resamples`, as scipy's permutation_test does;
    otherwise Monte Carlo with the (count + 1) / (resamples + 1) correction.
    """
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return permutation_p_values([d], resamples=resamples, seed=seed)[0]


def permutation_p_values(differences, *, resamples: int = 10_000, seed: int = 0) -> list[float]:
    """`paired_permutation_test`'s p-value of each column of paired differences (over the same queries),
    from one set of sign flips: the null means of every column are one matrix product."""
    d = np.column_stack([np.asarray(x, dtype=np.float64) for x in differences])
    n = d.shape[0]
    observed = d.mean(axis=0)
    exact = n < 63 and 2 ** n <= resamples
    if exact:
        signs = 1 - 2 * ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1)
        null = signs @ d / n
    else:
        rng = np.random.default_rng(seed)
        null = np.concatenate([rng.choice((-1.0, 1.0), size=(min(2000, resamples - s), n)) @ d / n
                               for s in range(0, resamples, 2000)])
    gamma = np.abs(1e-14 * observed)  # scipy's tolerance for floating-point ties
    greater = np.count_nonzero(null >= observed - gamma, axis=0)
    less = np.count_nonzero(null <= observed + gamma, axis=0)
    if exact:
        p_greater, p_less = greater / len(null), less / len(null)
    else:
        p_greater, p_less = (greater + 1) / (resamples + 1), (less + 1) / (resamples + 1)
    return [float(p) for p in np.minimum(1.0, 2 * np.minimum(p_greater, p_less))]


def paired_t_test(a, b) -> float:
    from embedlab.errors import require

    stats = require("scipy.stats", "the paired t-test")
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if not d.any():
        return 1.0
    return float(stats.ttest_rel(a, b).pvalue)


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone), in the input order."""
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted.tolist()


def rows_for_margin(interval: Interval, n: int, margin: float) -> int:
    """Queries for a CI half-width of `margin` (the half-width shrinks as 1/sqrt(n))."""
    half = (interval.high - interval.low) / 2
    return max(1, int(np.ceil(n * (half / margin) ** 2))) if half > 0 else n


def named_runs(results: list[Results]) -> dict[str, ModelRun]:
    """Every distinct model run by its display name (`results.table.display_names`): unique, short, and what
    tables, plots, `--baseline` and `to_frame` all use. A run that repeats another (`results.duplicates`) is one run;
    runs of the same settings that differ are named by where they differ (package versions, when evaluated)."""
    runs, origins = [], []
    for result in merge_duplicates(results)[0]:
        runs += result.runs
        origins += [{**result.environment, "created": result.created}] * len(result.runs)
    return dict(zip(display_names(runs, origins), runs))


def resolve_name(name: str, named: dict[str, ModelRun]) -> str:
    """The display name a user means: the display name itself, or the model's full name or short name when
    only one run has it."""
    if name in named:
        return name
    matches = [label for label, run in named.items() if name in (run.model["name"], short_name(run.model["name"]))]
    if len(matches) == 1:
        return matches[0]
    raise UnknownNameError("model", name, named)


def _runs(results: list[Results]) -> dict[str, dict[str, TaskResult]]:
    """model name (as `named_runs` gives it) -> task -> result."""
    runs = {name: {t.task: t for t in run.tasks} for name, run in named_runs(results).items()}
    if not runs:
        raise EmbedlabError("no runs to compare")
    return runs


def _check_finite(name: str, result: TaskResult, key: str) -> None:
    """A NaN or infinite per-query score would turn every statistic into noise: refuse it, named."""
    values = np.asarray(result.per_query[key], dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise EmbedlabError(f"'{name}' has a {values[bad[0]]} {key} score for query '{result.query_ids[bad[0]]}' of "
                            f"task '{result.task}' ({bad.size} such queries): the results file is damaged; "
                            "evaluate again")


def _compare_task(task, runs, metric, baseline, test, alpha, margin, resamples, seed) -> TaskComparison:
    present = {name: by_task[task] for name, by_task in runs.items() if task in by_task}
    first_name, first = next(iter(present.items()))
    for name, result in present.items():
        if result.data_hash != first.data_hash or result.query_ids != first.query_ids:
            what = "data" if result.data_hash != first.data_hash else "queries (ids or order)"
            raise EmbedlabError(
                f"cannot compare '{name}' with '{first_name}' on task '{task}': different {what} "
                f"({result.data_hash[:19]} vs {first.data_hash[:19]}, {len(result.query_ids)} vs "
                f"{len(first.query_ids)} queries); evaluate them on the same data and sample seed")
    key = metric or first.main_score
    for name, result in present.items():
        _check_finite(name, result, key)
    base_name = baseline if baseline in present else first_name
    base = np.asarray(present[base_name].per_query[key])
    others = [name for name in present if name != base_name]
    names = [base_name, *others]
    values = [np.asarray(present[name].per_query[key], dtype=np.float64) for name in names]
    deltas = [v - base for v in values[1:]]
    # every interval from one set of resamples (each is what bootstrap_ci / paired_bootstrap_ci give it alone)
    intervals = bootstrap_cis(values + deltas, confidence=1 - alpha, resamples=resamples, seed=seed)
    if not others:
        p_values = []
    elif test == "permutation":
        p_values = permutation_p_values(deltas, resamples=resamples, seed=seed)
    else:
        p_values = [paired_t_test(v, base) for v in values[1:]]
    rows = [ModelRow(name, float(v.mean()), ci, rows_for_margin=rows_for_margin(ci, len(v), margin))
            for name, v, ci in zip(names, values, intervals)]
    for row, delta, p in zip(rows[1:], intervals[len(names):], p_values):
        row.delta, row.p_value = delta, p
    for row, adjusted in zip(rows[1:], holm(p_values)):
        row.p_holm = adjusted
        row.significant = adjusted < alpha
    return TaskComparison(task, key, first.data_hash, len(first.query_ids), base_name, test, alpha, margin,
                          rows, first.sample, [name for name in runs if name not in present])
