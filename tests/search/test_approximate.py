import numpy as np
import pytest

from embedlab.search.approximate import ApproximateIndex, ivf_lists, recall_vs_exact, sample_queries
from embedlab.search.exact import top_k

pytest.importorskip("faiss")


def unit(n, dim=32, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("method", ["faiss-ivf", "faiss-hnsw"])
def test_approximate_lists_are_close_to_exact_ones(method):
    docs, queries = unit(5000), unit(50, seed=1)
    idx, scores = ApproximateIndex(docs, method, seed=0).top_k(queries, 10)
    exact, _ = top_k(queries, docs, 10)
    assert idx.shape == scores.shape == (50, 10)
    assert recall_vs_exact(idx, exact, 10).mean() > 0.6
    np.testing.assert_allclose(scores, np.einsum("qd,qkd->qk", queries, docs[idx]), atol=1e-5)


def test_recall_counts_the_exact_top_k_found():
    exact = np.array([[1, 2, 3], [4, 5, -1]])
    approximate = np.array([[3, 9, 1], [5, 4, 7]])
    assert recall_vs_exact(approximate, exact, 3).tolist() == pytest.approx([2 / 3, 1.0])


def test_the_query_sample_is_seeded_and_whole_when_small():
    assert sample_queries(10, 200, 0).tolist() == list(range(10))
    assert sample_queries(1000, 20, 3).tolist() == sample_queries(1000, 20, 3).tolist()
    assert len(set(sample_queries(1000, 20, 3).tolist())) == 20
    assert ivf_lists(1_000_000) == 4000 and ivf_lists(10) == 1


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="known: faiss-ivf, faiss-hnsw"):
        ApproximateIndex(unit(10), "annoy")
