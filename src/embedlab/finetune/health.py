"""Collapse indicators on a fixed sample of texts, recorded at every checkpoint.

A collapsing model maps everything to nearly the same direction: the mean pairwise cosine of
passages rises toward 1, query-passage scores stop spreading, and the embedding matrix loses rank.
"""

from __future__ import annotations

import random

import numpy as np

from embedlab.tasks.types import Task


def collapse_indicators(queries: np.ndarray, passages: np.ndarray) -> dict[str, float]:
    """Indicators of L2-normalised query and passage vectors (rows).

    - mean_pairwise_cosine: mean cosine over distinct passage pairs;
    - score_spread: standard deviation of all query-passage cosines;
    - effective_rank: exp(entropy of the normalised singular values) of the passage matrix
      (Roy & Vetterli 2007), between 1 (collapsed) and min(n, dim).
    """
    n = len(passages)
    if n < 2:
        raise ValueError("need at least two passages")
    gram = passages @ passages.T
    mean_cos = (float(gram.sum(dtype=np.float64)) - float(np.trace(gram))) / (n * (n - 1))
    singular = np.linalg.svd(passages.astype(np.float64), compute_uv=False)
    weights = singular / singular.sum()
    weights = weights[weights > 0]
    return {
        "mean_pairwise_cosine": mean_cos,
        "score_spread": float(np.std((queries @ passages.T).astype(np.float64))),
        "effective_rank": float(np.exp(-(weights * np.log(weights)).sum())),
    }


# When a warning is printed (README "Fine-tune" states them; the summary records them):
COSINE_RATIO, COSINE_RISE = 1.5, 0.1  # mean pairwise cosine at 1.5x base (and 0.1 above it): drifting together
COSINE_HIGH, COSINE_HIGH_RISE = 0.9, 0.05  # above 0.9 (and 0.05 above base): collapsing
SPREAD_RATIO = 0.5  # query-passage score spread halved
RANK_RATIO = 0.5  # effective rank halved


def thresholds_text() -> str:
    return (f"warn when the mean pairwise cosine of passages reaches {COSINE_RATIO}x base (and +{COSINE_RISE}) or "
            f"{COSINE_HIGH} (and +{COSINE_HIGH_RISE}), or when the query-passage score spread or the effective "
            f"rank falls below {SPREAD_RATIO}x / {RANK_RATIO}x base")


def collapse_warnings(base: dict[str, float], now: dict[str, float]) -> list[str]:
    """Plain-language warnings when `now` has moved toward collapse compared with `base` (thresholds above)."""
    warnings = []
    cos, base_cos = now["mean_pairwise_cosine"], base["mean_pairwise_cosine"]
    if cos > COSINE_HIGH and cos - base_cos > COSINE_HIGH_RISE:
        warnings.append(f"passages are collapsing: mean pairwise cosine {cos:.3f} (base {base_cos:.3f}; warns "
                        f"above {COSINE_HIGH})")
    elif base_cos > 0 and cos >= COSINE_RATIO * base_cos and cos - base_cos >= COSINE_RISE:
        warnings.append(f"passages are drifting together: mean pairwise cosine {cos:.3f} = {cos / base_cos:.2f}x "
                        f"base {base_cos:.3f} (warns from {COSINE_RATIO}x; collapse is 1.0)")
    if now["score_spread"] < SPREAD_RATIO * base["score_spread"]:
        warnings.append(f"query-passage scores have stopped spreading: std {now['score_spread']:.4f} "
                        f"(base {base['score_spread']:.4f}; warns below {SPREAD_RATIO}x)")
    if now["effective_rank"] < RANK_RATIO * base["effective_rank"]:
        warnings.append(f"embedding space is losing rank: effective rank {now['effective_rank']:.1f} "
                        f"(base {base['effective_rank']:.1f}; warns below {RANK_RATIO}x)")
    return warnings


def health_sample(task: Task, *, queries: int = 64, passages: int = 512, seed: int = 0
                  ) -> tuple[list[str], list[str]]:
    """A fixed seeded sample of a task's distinct queries and passages (the same at every point)."""
    rng = random.Random(seed)
    qs = list(dict.fromkeys(task.texts("query")))
    ps = list(dict.fromkeys(task.texts("document")))
    return (rng.sample(qs, min(queries, len(qs))), rng.sample(ps, min(passages, len(ps))))
