"""Exact sparse top-k over the chunked inverted index: the dense exact search's ranking and ties, zero-score
documents included, whatever the chunking."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from embedlab.search.exact import top_k
from embedlab.search.sparse import SparseIndex, pair_scores


def _data(seed=0, n_docs=700, n_queries=40, vocab=300):
    docs = sp.random(n_docs, vocab, density=0.02, format="csr", dtype=np.float32, random_state=seed)
    docs.data = np.round(docs.data * 4) / 4  # coarse weights: many exact ties
    docs = sp.vstack([docs, docs[:50]], format="csr")  # duplicate documents tie exactly
    queries = sp.random(n_queries, vocab, density=0.02, format="csr", dtype=np.float32, random_state=seed + 1)
    queries.data = np.round(queries.data * 4) / 4
    return queries, docs


@pytest.mark.parametrize("doc_chunk", [64, 1000, 16384])
def test_sparse_search_ranks_as_the_dense_exact_search_with_trec_ties(doc_chunk):
    queries, docs = _data()
    tie_rank = np.random.default_rng(3).permutation(docs.shape[0])
    idx, scores = SparseIndex(docs, doc_chunk=doc_chunk).search(queries, 100, tie_rank=tie_rank, query_chunk=16)
    ref_idx, ref_scores = top_k(queries.toarray(), docs.toarray(), 100, tie_rank=tie_rank)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-6, atol=1e-7)
    assert (scores == 0).any()  # documents sharing no term are ranked too, by their tie rank


def test_a_query_with_no_term_in_the_corpus_gets_the_zero_documents_in_tie_order():
    docs = sp.csr_matrix(np.array([[1, 0, 0], [0, 2, 0], [0, 0, 0]], np.float32))
    queries = sp.csr_matrix(np.array([[0, 0, 5], [0, 1, 0]], np.float32))
    idx, scores = SparseIndex(docs).search(queries, 3, tie_rank=np.array([0, 2, 1]))
    assert idx.tolist() == [[1, 2, 0], [1, 2, 0]] and scores.tolist() == [[0, 0, 0], [2, 0, 0]]


def test_pair_scores_and_index_size():
    queries, docs = _data(n_docs=40, n_queries=40)
    np.testing.assert_allclose(pair_scores(queries, docs[:40]), (queries.toarray() * docs[:40].toarray()).sum(1),
                               rtol=1e-6)
    index = SparseIndex(docs, doc_chunk=100)
    assert index.nnz == docs.nnz and index.nbytes == docs.nnz * 8 + len(index.chunks) * (docs.shape[1] + 1) * 4
