"""Exact top-k inner-product search in bounded memory.

Queries are scored against the corpus one block at a time and a running top-k is kept, so memory is
O(query_chunk x (doc_chunk + k)) whatever the corpus size. Ranking is total and deterministic: by
descending score, ties broken by descending `tie_rank` (trec_eval and mteb break ties by descending
document id; pass each document's position in the sorted id order to reproduce that).
"""

from __future__ import annotations

import numpy as np

SIGN_MASK = np.int64(0x7FFFFFFF)


def _sort_keys(scores: np.ndarray, tie_rank: np.ndarray) -> np.ndarray:
    """int64 keys ordered exactly as (float32 score, tie_rank): the float's bits made monotone."""
    bits = np.ascontiguousarray(scores, dtype=np.float32).view(np.int32).astype(np.int64)
    monotone = np.where(bits < 0, bits ^ SIGN_MASK, bits)  # negative floats order reversed
    return (monotone << 32) | tie_rank.astype(np.int64)


def top_k(queries: np.ndarray, docs: np.ndarray, k: int, *, tie_rank: np.ndarray | None = None,
          query_chunk: int = 512, doc_chunk: int = 32768) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores (both (Q, min(k, N))) of the k best documents per query, best first."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    docs = np.ascontiguousarray(docs, dtype=np.float32)
    n_docs = docs.shape[0]
    k = min(k, n_docs)
    if tie_rank is None:
        tie_rank = np.arange(n_docs)[::-1]  # earlier documents win ties
    tie_rank = np.asarray(tie_rank, dtype=np.int64)
    out_idx = np.empty((queries.shape[0], k), dtype=np.int64)
    out_scores = np.empty((queries.shape[0], k), dtype=np.float32)
    for q0 in range(0, queries.shape[0], query_chunk):
        block_q = queries[q0:q0 + query_chunk]
        best_keys = np.empty((block_q.shape[0], 0), dtype=np.int64)
        best_idx = np.empty((block_q.shape[0], 0), dtype=np.int64)
        for d0 in range(0, n_docs, doc_chunk):
            scores = block_q @ docs[d0:d0 + doc_chunk].T
            keys = _sort_keys(scores, tie_rank[d0:d0 + doc_chunk])
            idx = np.broadcast_to(np.arange(d0, d0 + scores.shape[1]), keys.shape)
            keys = np.concatenate([best_keys, keys], axis=1)
            idx = np.concatenate([best_idx, idx], axis=1)
            if keys.shape[1] > k:
                part = np.argpartition(-keys, k - 1, axis=1)[:, :k]
                keys = np.take_along_axis(keys, part, axis=1)
                idx = np.take_along_axis(idx, part, axis=1)
            best_keys, best_idx = keys, idx
        order = np.argsort(-best_keys, axis=1, kind="stable")
        out_idx[q0:q0 + query_chunk] = np.take_along_axis(best_idx, order, axis=1)
        out_scores[q0:q0 + query_chunk] = _scores_of(np.take_along_axis(best_keys, order, axis=1))
    return out_idx, out_scores


def _scores_of(keys: np.ndarray) -> np.ndarray:
    """The exact float32 scores the keys were made from."""
    monotone = keys >> 32
    bits = np.where(monotone < 0, monotone ^ SIGN_MASK, monotone).astype(np.int32)
    return bits.view(np.float32)
