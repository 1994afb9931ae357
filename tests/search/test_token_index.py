"""The token index + exact MaxSim: exhaustive = the exact search; IVF measured against it."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.search import maxsim
from embedlab.search.ragged import Ragged
from embedlab.search.token_index import TokenIndex

pytest.importorskip("faiss")


def _data():
    rng = np.random.default_rng(0)
    unit = lambda a: (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)
    docs = Ragged.of([unit(rng.standard_normal((int(t), 16))) for t in rng.integers(3, 20, 400)])
    queries = Ragged.of([unit(rng.standard_normal((int(t), 16))) for t in rng.integers(2, 8, 12)])
    return queries, docs


def test_an_exhaustive_token_index_with_enough_probes_is_the_exact_search():
    queries, docs = _data()
    tie_rank = np.arange(400)[::-1]
    index = TokenIndex(docs, "flat", probe_tokens=len(docs.vectors))
    idx, scores = index.search(queries, 10, tie_rank=tie_rank, mean=True)
    ref_idx, ref_scores = maxsim.top_k(queries, docs, 10, tie_rank=tie_rank, mean=True)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-6)
    assert index.settings()["document_tokens"] == len(docs.vectors) and index.nbytes > docs.nbytes


def test_an_ivf_index_finds_most_of_the_exact_top_10():
    queries, docs = _data()
    idx, _ = TokenIndex(docs, "ivf", probe_tokens=32).search(queries, 10)
    exact, _ = maxsim.top_k(queries, docs, 10)
    overlap = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(idx.tolist(), exact.tolist())])
    assert 0.5 < overlap <= 1.0
