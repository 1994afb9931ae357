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


def collapse_warnings(base: dict[str, float], now: dict[str, float]) -> list[str]:
    """Plain-language warnings when `now` has moved toward collapse compared with `base`."""
    warnings = []
    cos, base_cos = now["mean_pairwise_cosine"], base["mean_pairwise_cosine"]
    if cos > 0.9 and cos - base_cos > 0.05:
        warnings.append(f"passages are collapsing: mean pairwise cosine {cos:.3f} (base {base_cos:.3f})")
    if now["score_spread"] < 0.5 * base["score_spread"]:
        warnings.append(f"query-passage scores have stopped spreading: std {now['score_spread']:.4f} "
                        f"(base {base['score_spread']:.4f})")
    if now["effective_rank"] < 0.5 * base["effective_rank"]:
        warnings.append(f"embedding space is losing rank: effective rank {now['effective_rank']:.1f} "
                        f"(base {base['effective_rank']:.1f})")
    return warnings


def health_sample(task: Task, *, queries: int = 64, passages: int = 512, seed: int = 0
                  ) -> tuple[list[str], list[str]]:
    """A fixed seeded sample of a task's distinct queries and passages (the same at every point)."""
    rng = random.Random(seed)
    qs = list(dict.fromkeys(task.texts("query")))
    ps = list(dict.fromkeys(task.texts("document")))
    return (rng.sample(qs, min(queries, len(qs))), rng.sample(ps, min(passages, len(ps))))
