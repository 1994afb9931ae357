"""How alike two rankings of the same systems are: Kendall's tau-b and Spearman's rho, for many pairs of score
vectors at once (rows of two matrices: one bootstrap resample per row). Ties count as scipy counts them: tau-b
(`scipy.stats.kendalltau`'s default), rho on average ranks (`scipy.stats.spearmanr`)."""

from __future__ import annotations

import numpy as np


def kendall_tau(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Tau-b of each row of `x` (resamples x systems) with the same row of `y`; NaN where a row is all ties."""
    x, y = np.atleast_2d(np.asarray(x, dtype=np.float64)), np.atleast_2d(np.asarray(y, dtype=np.float64))
    first, second = np.triu_indices(x.shape[1], k=1)
    dx = np.sign(x[:, first] - x[:, second])
    dy = np.sign(y[:, first] - y[:, second])
    pairs = len(first)
    tied_x = (dx == 0).sum(axis=1)
    tied_y = (dy == 0).sum(axis=1)
    denominator = np.sqrt((pairs - tied_x) * (pairs - tied_y).astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (dx * dy).sum(axis=1) / denominator, np.nan)


def average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks of each row's values, tied values sharing their average rank."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    below = (x[:, None, :] < x[:, :, None]).sum(axis=2)
    equal = (x[:, None, :] == x[:, :, None]).sum(axis=2)
    return below + (equal + 1) / 2


def spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row of `x` with the same row of `y` (Pearson of average ranks); NaN for a constant row."""
    rx, ry = average_ranks(x), average_ranks(y)
    rx, ry = rx - rx.mean(axis=1, keepdims=True), ry - ry.mean(axis=1, keepdims=True)
    denominator = np.sqrt((rx ** 2).sum(axis=1) * (ry ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (rx * ry).sum(axis=1) / denominator, np.nan)
