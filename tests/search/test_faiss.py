"""faiss' flat index as a top-k searcher: the same answers as the exact search, or a clear install hint."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from embedlab.errors import MissingDependencyError
from embedlab.search import top_k


@pytest.mark.slow  # runs where the bench extra (faiss) is installed, as in CI's slow pass
def test_flat_index_finds_what_the_exact_search_finds(monkeypatch):
    pytest.importorskip("faiss")
    import embedlab.search.faiss as flat

    rng = np.random.default_rng(0)
    docs = rng.normal(size=(500, 16)).astype(np.float32)
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    queries = rng.normal(size=(20, 16)).astype(np.float32)
    monkeypatch.setattr(flat, "ADD_CHUNK", 64)  # added in chunks, as a memory-mapped corpus is
    index = flat.FlatIndex(docs)
    assert index.index.ntotal == 500
    indices, scores = index.top_k(queries, 10)
    exact_indices, exact_scores = top_k(queries, docs, 10)
    np.testing.assert_array_equal(indices, exact_indices)
    np.testing.assert_allclose(scores, exact_scores, atol=1e-5)
    few, _ = flat.FlatIndex(docs[:3]).top_k(queries[:1], 5)
    assert sorted(few[0][:3]) == [0, 1, 2] and list(few[0][3:]) == [-1, -1]  # -1 past the end, as the miner expects


def test_without_faiss_the_error_names_the_install_command(monkeypatch):
    from embedlab.search.faiss import FlatIndex

    monkeypatch.setitem(sys.modules, "faiss", None)  # import faiss -> ImportError
    with pytest.raises(MissingDependencyError, match=r"mining with --search faiss needs 'faiss-cpu'.*"
                                                     r"pip install 'embedlab\[faiss\]'"):
        FlatIndex(np.eye(2, dtype=np.float32), purpose="mining with --search faiss")
