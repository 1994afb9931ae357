"""C-MTEB v1 reranking metrics (mteb 1.x RerankingEvaluator), vectorised over padded rows.

AP equals sklearn's `average_precision_score(is_relevant, scores)`: documents with tied scores form one
block, credited with the precision at the block's end. MRR@k is 1 / rank of the first positive within the
top k after a stable sort by descending score (positives come first in each row, so they win ties).
"""

from __future__ import annotations

import numpy as np


def average_precision(scores: np.ndarray, relevant: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per-row AP. scores/relevant/valid: (R, C); invalid (padding) cells are ignored."""
    order = np.argsort(np.where(valid, -scores.astype(np.float64), np.inf), axis=1, kind="stable")
    s = np.take_along_axis(np.where(valid, scores.astype(np.float64), -np.inf), order, axis=1)
    rel = np.take_along_axis(relevant & valid, order, axis=1)
    ok = np.take_along_axis(valid, order, axis=1)
    width = s.shape[1]
    hits = np.cumsum(rel, axis=1, dtype=np.float64)
    seen = np.arange(1, width + 1, dtype=np.float64)
    # a cell ends its tie block when the next cell has another score or is padding
    block_end = np.ones_like(ok)
    block_end[:, :-1] = (s[:, 1:] != s[:, :-1]) | ~ok[:, 1:]
    block_end &= ok
    # index of the end of each cell's block: the nearest block end at or after it
    end_index = np.where(block_end, np.arange(width), width)
    end_index = np.minimum.accumulate(end_index[:, ::-1], axis=1)[:, ::-1]
    end_index = np.minimum(end_index, width - 1)
    precision_at_end = np.take_along_axis(hits / seen, end_index, axis=1)
    n_pos = rel.sum(axis=1)
    total = np.where(rel, precision_at_end, 0.0).sum(axis=1)
    return np.divide(total, n_pos, out=np.zeros(len(n_pos)), where=n_pos > 0)


def mrr_at_k(scores: np.ndarray, relevant: np.ndarray, valid: np.ndarray, k: int = 10) -> np.ndarray:
    order = np.argsort(np.where(valid, -scores.astype(np.float64), np.inf), axis=1, kind="stable")
    rel = np.take_along_axis(relevant & valid, order, axis=1)[:, :k]
    first = np.where(rel.any(axis=1), rel.argmax(axis=1) + 1, 0)
    return np.divide(1.0, first, out=np.zeros(len(first)), where=first > 0)
