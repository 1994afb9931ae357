"""Fusion gives mteb's HybridSearch numbers: the same documents in the same order, the same fused scores to 1e-9,
on random rankings with ties, missing documents, padding, empty queries and flat scores."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.search.fusion import METHODS, Fusion, fuse, normalised
from embedlab.search.names import FUSIONS


def _random_case(rng):
    """Rankings as (queries x depth) arrays and as mteb's per-query {doc id: score} dicts."""
    n_queries, n_docs, n_models = rng.integers(1, 6), rng.integers(1, 40), rng.integers(2, 5)
    ids = [f"d{j}" for j in rng.permutation(n_docs)]
    tie_rank = np.empty(n_docs, dtype=np.int64)
    tie_rank[np.argsort(np.array(ids, dtype=object), kind="stable")] = np.arange(n_docs)
    rankings, dicts = [], [[] for _ in range(n_queries)]
    for _ in range(n_models):
        depth = rng.integers(1, n_docs + 1)
        idx, scores = np.full((n_queries, depth), -1), np.zeros((n_queries, depth), dtype=np.float32)
        for q in range(n_queries):
            n = rng.integers(0, depth + 1)  # some queries get fewer documents, some none
            docs = rng.choice(n_docs, n, replace=False)
            values = rng.normal(size=n).astype(np.float32)
            if rng.random() < 0.5:
                values = np.round(values, 1).astype(np.float32)  # ties
            if rng.random() < 0.1:
                values[:] = 1.0  # flat: dbsf and rsf give 0.5
            order = np.argsort(-values, kind="stable")
            idx[q, :n], scores[q, :n] = docs[order], values[order]
            dicts[q].append({ids[d]: float(v) for d, v in zip(docs, values)})
        rankings.append((idx, scores))
    weights = rng.random(n_models).tolist() if rng.random() < 0.7 else [1.0 / n_models] * n_models
    return ids, tie_rank, rankings, dicts, weights


@pytest.mark.slow  # the reference (mteb) is installed with '.[bench]', for the slow pass
def test_fusion_gives_mteb_hybrid_search_numbers():
    hybrid = pytest.importorskip("mteb.models.hybrid_wrappers")
    theirs = {"rrf": lambda scores, w: hybrid.fuse_rrf(scores, w, rrf_k=60), "dbsf": hybrid.fuse_dbsf,
              "rsf": hybrid.fuse_relative_score_fusion}
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(200):
        ids, tie_rank, rankings, dicts, weights = _random_case(rng)
        depth = int(rng.integers(1, len(ids) + 3))
        for method in METHODS:
            idx, scores = fuse(rankings, weights, method, tie_rank, depth)
            for q, per_model in enumerate(dicts):
                fused = theirs[method](per_model, weights)
                # HybridSearch.search: by (score, id) descending, the top k
                expected = sorted(fused.items(), key=lambda item: (item[1], item[0]), reverse=True)[:depth]
                got = [(ids[d], s) for d, s in zip(idx[q], scores[q]) if d >= 0]
                assert [doc for doc, _ in got] == [doc for doc, _ in expected], method
                worst = max([worst] + [abs(a - b) for (_, a), (_, b) in zip(got, expected)])
    assert worst < 1e-9


@pytest.mark.slow
def test_rrf_k_and_weights_as_mteb():
    hybrid = pytest.importorskip("mteb.models.hybrid_wrappers")
    rng = np.random.default_rng(1)
    ids, tie_rank, rankings, dicts, _ = _random_case(rng)
    weights = [3, 0] + [1] * (len(rankings) - 2)
    idx, scores = fuse(rankings, weights, "rrf", tie_rank, len(ids), rrf_k=0)
    for q, per_model in enumerate(dicts):
        fused = hybrid.fuse_rrf(per_model, weights, rrf_k=0)
        assert {ids[d]: s for d, s in zip(idx[q], scores[q]) if d >= 0} == pytest.approx(fused, abs=1e-12)


def test_a_fusion_is_reused_for_other_weights():
    rng = np.random.default_rng(2)
    _, tie_rank, rankings, _, weights = _random_case(rng)
    once = Fusion(rankings, "dbsf", tie_rank)
    for w in ([1.0] + [0.0] * (len(rankings) - 1), weights):
        for a, b in zip(once.fuse(w, 7), fuse(rankings, w, "dbsf", tie_rank, 7)):
            np.testing.assert_array_equal(a, b)


def test_missing_documents_padding_and_empty_queries():
    idx_a = np.array([[0, 1, -1], [-1, -1, -1]])
    idx_b = np.array([[2, 1], [2, -1]])
    a, b = (idx_a, np.array([[0.9, 0.1, 0], [0, 0, 0]])), (idx_b, np.array([[0.8, 0.4], [0.3, 0]]))
    idx, scores = fuse([a, b], [0.5, 0.5], "rrf", np.arange(3), 4)
    # query 0: doc 1 is in both rankings (ranks 2 and 2); docs 0 and 2 only in one (rank 1)
    assert idx[0].tolist() == [1, 2, 0, -1] and scores[0, 0] == pytest.approx(2 * 0.5 / 62)
    assert idx[1].tolist() == [2, -1, -1, -1] and np.isneginf(scores[1, 1:]).all()
    shares = normalised(idx_a, a[1], "rsf", np.arange(3))
    assert shares.tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    assert normalised(np.array([[4]]), np.array([[2.0]]), "dbsf", np.arange(5)).tolist() == [[0.5]]


def test_bad_input():
    ranking = (np.array([[0]]), np.array([[1.0]]))
    with pytest.raises(ValueError, match="unknown fusion 'max'"):
        fuse([ranking, ranking], [1, 1], "max", np.arange(1), 1)
    with pytest.raises(ValueError, match="3 weights for 2 rankings"):
        fuse([ranking, ranking], [1, 1, 1], "rrf", np.arange(1), 1)


def test_the_cli_offers_every_method():
    assert FUSIONS == METHODS
