from __future__ import annotations

import numpy as np
import pytest

from embedlab.search.exact import top_k


def brute_force(queries, docs, k, tie_rank):
    scores = queries @ docs.T
    order = np.lexsort((-np.broadcast_to(tie_rank, scores.shape), -scores), axis=1)[:, :k]
    return order


@pytest.mark.parametrize("doc_chunk,query_chunk", [(7, 3), (64, 100), (10_000, 1)])
def test_chunked_search_equals_a_full_sort_including_ties(doc_chunk, query_chunk):
    rng = np.random.default_rng(0)
    queries = rng.integers(-5, 6, size=(23, 8)).astype(np.float32)  # exact dot products: real ties
    docs = rng.integers(-5, 6, size=(150, 8)).astype(np.float32)
    docs[40:60] = docs[5]  # 21 identical documents: exact ties across chunk borders
    tie_rank = rng.permutation(150)
    idx, scores = top_k(queries, docs, 30, tie_rank=tie_rank, doc_chunk=doc_chunk, query_chunk=query_chunk)
    expected = brute_force(queries, docs, 30, tie_rank)
    np.testing.assert_array_equal(idx, expected)
    assert scores.dtype == np.float32
    assert np.all(np.diff(scores, axis=1) <= 0)
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ docs.T, idx, axis=1), atol=1e-5)


def test_k_larger_than_corpus_and_negative_scores():
    docs = -np.eye(4, dtype=np.float32)  # every score <= 0
    queries = np.ones((2, 4), dtype=np.float32)
    idx, scores = top_k(queries, docs, 10)
    assert idx.shape == (2, 4)
    np.testing.assert_array_equal(idx[0], [0, 1, 2, 3])  # all tied at -1: earlier documents first
    np.testing.assert_array_equal(scores, -np.ones((2, 4), dtype=np.float32))


def test_negative_zero_ties_with_zero():
    from embedlab.search.exact import sort_keys

    keys = sort_keys(np.array([[0.0, -0.0, -1e-30, 1e-30]], dtype=np.float32), np.array([0, 0, 0, 0]))
    assert keys[0, 0] == keys[0, 1]  # trec_eval sees one score
    assert keys[0, 2] < keys[0, 1] < keys[0, 3]


def test_pruned_blocks_stay_exact_with_many_ties():
    # small integer vectors: every dot product is exact in float32, whatever BLAS's summation order,
    # so ties are real ties (with real-valued vectors a duplicate's score can differ by one ulp
    # depending on its position in a block, for BLAS and for mteb's torch alike)
    rng = np.random.default_rng(1)
    docs = rng.integers(-3, 4, size=(5000, 16)).astype(np.float32)
    docs[2500:] = docs[rng.integers(0, 40, size=2500)]  # half the corpus copies 40 documents
    queries = rng.integers(-3, 4, size=(37, 16)).astype(np.float32)
    tie_rank = rng.permutation(5000)
    idx, scores = top_k(queries, docs, 25, tie_rank=tie_rank, doc_chunk=300, query_chunk=16)
    np.testing.assert_array_equal(idx, brute_force(queries, docs, 25, tie_rank))
    assert (np.diff(scores, axis=1) == 0).sum() > 100  # the case really is full of ties
