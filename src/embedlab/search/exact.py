"""Exact top-k inner-product search in bounded memory.

Queries are scored against the corpus one block at a time and a running top-k is kept, so memory is
O(query_chunk x doc_chunk) whatever the corpus size. Ranking is total and deterministic: by descending
score, ties broken by descending `tie_rank` (trec_eval and mteb break ties by descending document id;
pass each document's position in the sorted id order to reproduce that). A tie is an exact tie of the
computed float32 scores: as with any BLAS (and mteb's torch), two identical vectors can score one ulp
apart depending on their position in a block.

Per block, a float32 partition picks each row's k best scores; only when a tie straddles the k-th
place (rare: duplicate documents) is the row re-selected with exact (score, tie_rank) keys.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SIGN_MASK = np.int64(0x7FFFFFFF)
NO_KEY = np.iinfo(np.int64).min  # padding: below every real key


def top_k(queries: np.ndarray, docs: np.ndarray, k: int, *, tie_rank: np.ndarray | None = None,
          query_chunk: int = 1024, doc_chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores (both (Q, min(k, N))) of the k best documents per query, best first."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    docs = np.ascontiguousarray(docs, dtype=np.float32)
    return top_k_of_blocks(lambda q0, q1, d0, d1: queries[q0:q1] @ docs[d0:d1].T, queries.shape[0], docs.shape[0],
                           k, tie_rank=tie_rank, query_chunk=query_chunk, doc_chunk=doc_chunk)


def top_k_of_blocks(block_scores: Callable[[int, int, int, int], np.ndarray], n_queries: int, n_docs: int, k: int, *,
                    tie_rank: np.ndarray | None = None, query_chunk: int = 1024, doc_chunk: int = 8192
                    ) -> tuple[np.ndarray, np.ndarray]:
    """`top_k` for any score: `block_scores(q0, q1, d0, d1)` gives the float32 scores of queries q0:q1 against
    documents d0:d1 (a dense product, a sparse one, MaxSim...), one block at a time: memory stays O(query_chunk x
    doc_chunk) whatever the corpus, and ties are broken by `tie_rank` as `top_k` does."""
    k = min(k, n_docs)
    if tie_rank is None:
        tie_rank = np.arange(n_docs)[::-1]  # earlier documents win ties
    tie_rank = np.asarray(tie_rank, dtype=np.int64)
    out_idx = np.empty((n_queries, k), dtype=np.int64)
    out_scores = np.empty((n_queries, k), dtype=np.float32)
    for q0 in range(0, n_queries, query_chunk):
        q1 = min(q0 + query_chunk, n_queries)
        best_keys = np.empty((q1 - q0, 0), dtype=np.int64)
        best_idx = np.empty((q1 - q0, 0), dtype=np.int64)
        for d0 in range(0, n_docs, doc_chunk):
            scores = np.asarray(block_scores(q0, q1, d0, min(d0 + doc_chunk, n_docs)), dtype=np.float32)
            threshold = scores_of(best_keys.min(axis=1)) if best_keys.shape[1] >= k else None
            idx = _block_candidates(scores, k, tie_rank[d0:d0 + doc_chunk], threshold)
            keys = np.where(idx >= 0, sort_keys(np.take_along_axis(scores, np.maximum(idx, 0), axis=1),
                                                tie_rank[np.maximum(idx, 0) + d0]), NO_KEY)
            best_keys, best_idx = _keep_best(np.concatenate([best_keys, keys], axis=1),
                                             np.concatenate([best_idx, idx + d0], axis=1), k)
        order = np.argsort(-best_keys, axis=1, kind="stable")
        out_idx[q0:q1] = np.take_along_axis(best_idx, order, axis=1)
        out_scores[q0:q1] = scores_of(np.take_along_axis(best_keys, order, axis=1))
    return out_idx, out_scores


def _block_candidates(scores: np.ndarray, k: int, tie_rank: np.ndarray,
                      threshold: np.ndarray | None) -> np.ndarray:
    """Column indices (-1 = padding) that may enter each row's top k (score, tie_rank) from one block.

    With a running k-th best score `threshold`, only columns scoring >= it can enter (usually few
    after the first blocks); otherwise a float partition picks k, exactly unless a tie straddles it.
    """
    width = scores.shape[1]
    if threshold is not None:
        flat = np.flatnonzero(scores >= threshold[:, None])  # far faster than a 2-d nonzero
        rows, cols = np.divmod(flat, width)
        counts = np.bincount(rows, minlength=scores.shape[0])
        if counts.max(initial=0) <= max(k, width // 8):
            out = np.full((scores.shape[0], max(int(counts.max(initial=0)), 1)), -1, dtype=np.int64)
            slot = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
            out[rows, slot] = cols
            return out
    if width <= k:
        return np.broadcast_to(np.arange(width), scores.shape).copy()
    idx = np.argpartition(scores, width - k, axis=1)[:, width - k:]
    chosen = np.take_along_axis(scores, idx, axis=1)
    kth = chosen.min(axis=1, keepdims=True)
    # a tie at the k-th score with an unchosen column: the float partition chose arbitrarily
    straddling = np.flatnonzero((scores == kth).sum(axis=1) > (chosen == kth).sum(axis=1))
    for row in straddling:
        keys = sort_keys(scores[row], tie_rank)
        idx[row] = np.argpartition(keys, width - k)[width - k:]
    return idx


def _keep_best(keys: np.ndarray, idx: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if keys.shape[1] <= k:
        return keys, idx
    part = np.argpartition(keys, keys.shape[1] - k, axis=1)[:, keys.shape[1] - k:]
    return np.take_along_axis(keys, part, axis=1), np.take_along_axis(idx, part, axis=1)


def sort_keys(scores: np.ndarray, tie_rank: np.ndarray) -> np.ndarray:
    """int64 keys ordered exactly as (float32 score, tie_rank): the float's bits made monotone."""
    # + 0.0 turns -0.0 into +0.0, which trec_eval counts as the same score
    bits = (np.ascontiguousarray(scores, dtype=np.float32) + np.float32(0.0)).view(np.int32).astype(np.int64)
    monotone = np.where(bits < 0, bits ^ SIGN_MASK, bits)  # negative floats order reversed
    return (monotone << 32) | tie_rank.astype(np.int64)


def scores_of(keys: np.ndarray) -> np.ndarray:
    """The exact float32 scores the keys were made from."""
    monotone = keys >> 32
    bits = np.where(monotone < 0, monotone ^ SIGN_MASK, monotone).astype(np.int32)
    return bits.view(np.float32)
