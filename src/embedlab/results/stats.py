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
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError("need a non-empty 1-d array of per-query values")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // len(values))
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        means[start:stop] = values[rng.integers(0, len(values), (stop - start, len(values)))].mean(1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Interval(float(values.mean()), float(low), float(high), confidence, resamples)


def paired_bootstrap_ci(after, before, **kwargs) -> Interval:
    """Interval of mean(after - before) over the same queries (paired: resample queries, not scores)."""
    after, before = np.asarray(after, dtype=np.float64), np.asarray(before, dtype=np.float64)
    if after.shape != before.shape:
        raise ValueError(f"paired values need the same queries ({after.shape} vs {before.shape})")
    return bootstrap_ci(after - before, **kwargs)
