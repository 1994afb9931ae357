"""Uncertainty of scores averaged over queries: bootstrap confidence intervals (paired for deltas)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    confidence: float
    resamples: int

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "low": self.low, "high": self.high,
                "confidence": self.confidence, "resamples": self.resamples}


def bootstrap_ci(values, *, confidence: float = 0.95, resamples: int = 10_000, seed: int = 0
                 ) -> Interval:
    """Percentile bootstrap interval of the mean of per-query values."""
    return bootstrap_cis([values], confidence=confidence, resamples=resamples, seed=seed)[0]


def bootstrap_cis(columns, *, confidence: float = 0.95, resamples: int = 10_000, seed: int = 0
                  ) -> list[Interval]:
    """`bootstrap_ci` of each column (per-query values over the same queries), from one set of resamples:
    each column's interval is the one `bootstrap_ci` gives it alone (the same draws), at the cost of one.

    Each block of resamples becomes a matrix of counts (resample x query), and every column's resampled
    means are one matrix product: a sweep of 60 variants costs what one interval costs."""
    matrix = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns]) if len(columns) else None
    if matrix is None or matrix.ndim != 2 or matrix.shape[0] == 0 or any(np.ndim(c) != 1 for c in columns):
        raise ValueError("need non-empty 1-d arrays of per-query values, all of one length")
    means = resampled_means(matrix, resamples=resamples, seed=seed)
    alpha = (1 - confidence) / 2
    bounds = np.quantile(means, [alpha, 1 - alpha], axis=0)
    return [Interval(float(matrix[:, j].mean()), float(bounds[0, j]), float(bounds[1, j]), confidence, resamples)
            for j in range(matrix.shape[1])]


def resampled_means(matrix: np.ndarray, *, resamples: int = 10_000, seed: int = 0) -> np.ndarray:
    """(resamples, columns): each column's mean over `resamples` bootstrap draws of the rows (queries) of `matrix`
    (queries x columns), every column from the same draws. Each block of draws becomes a matrix of counts
    (resample x query), so all columns' means are one matrix product."""
    n = matrix.shape[0]
    rng = np.random.default_rng(seed)
    means = np.empty((resamples, matrix.shape[1]))
    chunk = max(1, 2_000_000 // n)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        draws = rng.integers(0, n, (stop - start, n))
        flat = (draws + n * np.arange(stop - start)[:, None]).ravel()
        counts = np.bincount(flat, minlength=(stop - start) * n).reshape(stop - start, n)
        means[start:stop] = counts @ matrix / n
    return means


def paired_bootstrap_ci(after, before, **kwargs) -> Interval:
    """Interval of mean(after - before) over the same queries (paired: resample queries, not scores)."""
    after, before = np.asarray(after, dtype=np.float64), np.asarray(before, dtype=np.float64)
    if after.shape != before.shape:
        raise ValueError(f"paired values need the same queries ({after.shape} vs {before.shape})")
    return bootstrap_ci(after - before, **kwargs)
