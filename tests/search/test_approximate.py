import numpy as np
import pytest

from embedlab.search.approximate import RecallSample, recall_vs_exact, sample_queries
from embedlab.search.exact import top_k


def unit(n, dim=32, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_recall_counts_the_exact_top_k_found():
    exact = np.array([[1, 2, 3], [4, 5, -1]])
    approximate = np.array([[3, 9, 1], [5, 4, 7]])
    assert recall_vs_exact(approximate, exact, 3).tolist() == pytest.approx([2 / 3, 1.0])


def test_the_query_sample_is_seeded_and_whole_when_small():
    assert sample_queries(10, 200, 0).tolist() == list(range(10))
    assert sample_queries(1000, 20, 3).tolist() == sample_queries(1000, 20, 3).tolist()
    assert len(set(sample_queries(1000, 20, 3).tolist())) == 20


def test_a_recall_sample_given_in_chunks_measures_what_it_measures_at_once():
    docs, queries = unit(300), unit(90, seed=1)
    approximate, _ = top_k(queries, docs[::-1], 5)  # a "search" that misses nothing but numbers differently
    approximate = np.where(approximate % 3 == 0, approximate, 300 - 1 - approximate)
    whole = RecallSample(90, 5, size=20, seed=4)
    rows, exact = whole.add(queries, docs, approximate)
    assert rows.tolist() == sample_queries(90, 20, 4).tolist() and exact.shape == (20, 5)
    chunked = RecallSample(90, 5, size=20, seed=4)
    for c0 in range(0, 90, 32):
        chunked.add(queries[c0:c0 + 32], docs, approximate[c0:c0 + 32])
    expected = recall_vs_exact(approximate[rows], exact, 5).mean()
    assert 0 < expected < 1
    assert whole.summary()["recall@5_vs_exact"] == chunked.summary()["recall@5_vs_exact"] == round(expected, 6)
    assert chunked.summary()["queries_sampled"] == 20
