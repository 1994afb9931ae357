"""Rank fusion of several models' rankings of the same queries, computed as mteb's `HybridSearch` does.

A model's ranking is a pair of (queries x depth) arrays: document indices (-1 pads) and scores. A document's
`tie_rank` is its place in the sorted id order (`tasks.scoring.tie_order`). The formulas are mteb's
(`mteb/models/hybrid_wrappers.py`: `fuse_rrf`, `fuse_dbsf`, `fuse_relative_score_fusion`):

- rrf: 1 / (rrf_k + rank), rank from 1 in the model's ranking ordered by (score, id) descending;
- dbsf: (score - (mu - 3 sigma)) / (6 sigma), clipped to [0, 1], with mu and sigma (population) over the
  scores the model returned for the query; 0.5 for each when sigma < 1e-9;
- rsf: min-max over the scores the model returned for the query; 0.5 for each when they are all equal.

A document a model did not return gets nothing from it (it still counts for the others). The fused score is
the weighted sum, added up model by model as mteb adds them (so the sums are the same floats), and the fused
ranking is by (fused score, id) descending. Weights are used as given (mteb's default: 1/n each).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from embedlab.search.names import DEFAULT_RRF_K

METHODS = ("rrf", "dbsf", "rsf")
_FLAT = 1e-9  # mteb: a spread below this is no spread (dbsf)


def normalised(idx: np.ndarray, scores: np.ndarray, method: str, tie_rank: np.ndarray, *, rrf_k: int = DEFAULT_RRF_K
               ) -> np.ndarray:
    """Each returned document's share of the fused score before weighting (float64; 0 where idx is -1)."""
    idx = np.asarray(idx, dtype=np.int64)
    valid = idx >= 0
    x = np.where(valid, np.asarray(scores, dtype=np.float64), 0.0)
    if method == "rrf":
        out = _reciprocal_ranks(idx, x, valid, tie_rank, rrf_k)
    elif method == "dbsf":
        out = _distribution_based(x, valid)
    elif method == "rsf":
        out = _min_max(x, valid)
    else:
        raise ValueError(f"unknown fusion '{method}' (known: {', '.join(METHODS)})")
    return np.where(valid, out, 0.0)


def _reciprocal_ranks(idx, x, valid, tie_rank, rrf_k) -> np.ndarray:
    ties = np.where(valid, np.asarray(tie_rank, dtype=np.int64)[np.maximum(idx, 0)], -1)
    order = np.lexsort((-ties, np.where(valid, -x, np.inf)), axis=1)  # padding last
    rank = np.empty_like(idx)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(1, idx.shape[1] + 1), idx.shape), axis=1)
    return 1.0 / (rrf_k + rank)


def _distribution_based(x, valid) -> np.ndarray:
    n = np.maximum(valid.sum(axis=1, keepdims=True), 1)
    mu = x.sum(axis=1, keepdims=True) / n
    sigma = np.sqrt(np.where(valid, (x - mu) ** 2, 0.0).sum(axis=1, keepdims=True) / n)
    lower, upper = mu - 3 * sigma, mu + 3 * sigma
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.clip((x - lower) / (upper - lower), 0.0, 1.0)
    return np.where(sigma < _FLAT, 0.5, spread)


def _min_max(x, valid) -> np.ndarray:
    low = np.where(valid, x, np.inf).min(axis=1, keepdims=True)
    high = np.where(valid, x, -np.inf).max(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = (x - low) / (high - low)
    return np.where(high == low, 0.5, scaled)


class Fusion:
    """Several models' rankings of the same queries, normalised and merged once; `fuse(weights, depth)` weighs
    and ranks them, cheaply, so a sweep over weights reuses one Fusion."""

    def __init__(self, rankings: Sequence[tuple[np.ndarray, np.ndarray]], method: str, tie_rank: np.ndarray, *,
                 rrf_k: int = DEFAULT_RRF_K) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown fusion '{method}' (known: {', '.join(METHODS)})")
        tie_rank = np.asarray(tie_rank, dtype=np.int64)
        pairs = [(np.asarray(i, dtype=np.int64), np.asarray(s)) for i, s in rankings]
        self.n_models, self.n_queries, n_docs = len(pairs), len(pairs[0][0]), max(len(tie_rank), 1)
        idx = np.concatenate([i for i, _ in pairs], axis=1)
        shares = np.concatenate([normalised(i, s, method, tie_rank, rrf_k=rrf_k) for i, s in pairs], axis=1)
        model = np.concatenate([np.full(i.shape, m) for m, (i, _) in enumerate(pairs)], axis=1)
        valid = idx >= 0
        row = np.broadcast_to(np.arange(self.n_queries)[:, None], idx.shape)
        # row-major: each query's entries of model 0, then of model 1...: the order mteb adds them in
        keys, slot = np.unique(row[valid] * n_docs + idx[valid], return_inverse=True)
        self.slot, self.share, self.model = slot.reshape(-1), shares[valid], model[valid]
        self.row, self.doc = keys // n_docs, keys % n_docs
        self.tie = tie_rank[self.doc]

    def fuse(self, weights: Sequence[float], depth: int) -> tuple[np.ndarray, np.ndarray]:
        """(indices, fused scores) of each query's best `depth` documents, best first; -1 / -inf pad."""
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != (self.n_models,):
            raise ValueError(f"{len(weights)} weights for {self.n_models} rankings")
        fused = np.bincount(self.slot, weights=weights[self.model] * self.share, minlength=len(self.row))
        order = np.lexsort((-self.tie, -fused, self.row))
        counts = np.bincount(self.row, minlength=self.n_queries)
        place = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
        top = place < depth
        keep, at = order[top], place[top]
        out_idx = np.full((self.n_queries, depth), -1, dtype=np.int64)
        out_scores = np.full((self.n_queries, depth), -np.inf)
        out_idx[self.row[keep], at] = self.doc[keep]
        out_scores[self.row[keep], at] = fused[keep]
        return out_idx, out_scores


def fuse(rankings: Sequence[tuple[np.ndarray, np.ndarray]], weights: Sequence[float], method: str,
         tie_rank: np.ndarray, depth: int, *, rrf_k: int = DEFAULT_RRF_K) -> tuple[np.ndarray, np.ndarray]:
    """The fused ranking (indices, scores) of `rankings` (see the module docstring), `depth` documents deep."""
    return Fusion(rankings, method, tie_rank, rrf_k=rrf_k).fuse(weights, depth)
