"""Exact MaxSim: the brute-force definition, the mean variant, pairs of reranking rows, and a top-k with ties
broken by tie rank."""

from __future__ import annotations

import numpy as np

from embedlab.search import maxsim
from embedlab.search.ragged import Ragged


def _ragged(rng, n, low, high, dim=16):
    return Ragged.of([rng.standard_normal((int(t), dim)).astype(np.float32) for t in rng.integers(low, high, n)])


def _brute(queries, docs, mean=False):
    return np.array([[(q @ d.T).max(axis=1).sum() / (len(q) if mean else 1) for d in docs.blocks()]
                     for q in queries.blocks()])


def test_block_scores_are_the_definition_with_and_without_the_mean():
    rng = np.random.default_rng(0)
    queries, docs = _ragged(rng, 7, 1, 9), _ragged(rng, 50, 1, 40)
    for mean in (False, True):
        np.testing.assert_allclose(maxsim.block_scores(queries, docs, mean), _brute(queries, docs, mean), rtol=1e-5)


def test_pair_scores_score_each_rows_candidates_against_its_query(monkeypatch):
    rng = np.random.default_rng(1)
    queries, docs = _ragged(rng, 4, 2, 6), _ragged(rng, 30, 1, 20)
    groups = np.repeat(np.arange(4), [10, 5, 0, 15])
    monkeypatch.setattr(maxsim, "CELLS", 100)  # several spans per row
    expected = _brute(queries, docs)[groups, np.arange(30)]
    np.testing.assert_allclose(maxsim.pair_scores(queries, docs, groups), expected, rtol=1e-5)


def test_top_k_ranks_by_maxsim_and_breaks_ties_by_tie_rank():
    rng = np.random.default_rng(2)
    queries, base = _ragged(rng, 6, 2, 8), _ragged(rng, 40, 1, 30)
    docs = Ragged.of(base.blocks() + base.blocks()[:10])  # duplicates tie exactly
    tie_rank = rng.permutation(50)
    idx, scores = maxsim.top_k(queries, docs, 20, tie_rank=tie_rank)
    brute = maxsim.block_scores(queries, docs)
    order = np.lexsort((-tie_rank[None, :].repeat(6, 0), -brute), axis=1)[:, :20]
    np.testing.assert_array_equal(idx, order)
    np.testing.assert_array_equal(scores, np.take_along_axis(brute, order, axis=1))
