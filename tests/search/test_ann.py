"""Approximate indexes answer as the exact search does (dot-product scores, -1 pads) and find its neighbours
on easy data; a missing extra names the command that installs it."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.deploy.precision import calibration_ranges, store
from embedlab.errors import MissingDependencyError
from embedlab.search import top_k
from embedlab.search.ann import AnnParams, build_index


def unit(rows, dim, seed):
    x = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("kind,precision", [("hnsw", "float32"), ("hnsw", "float16"), ("hnsw", "binary"),
                                            ("ivf", "float32"), ("ivf", "float16"), ("ivf", "binary"),
                                            ("usearch", "float32"), ("usearch", "int8"), ("usearch", "binary")])
def test_an_index_finds_the_exact_neighbours_with_their_scores(kind, precision):
    pytest.importorskip("usearch.index" if kind == "usearch" else "faiss")
    docs = unit(600, 32, 0)
    queries = docs[:20] + 0.01 * unit(20, 32, 1)  # each query next to a document
    ranges = calibration_ranges(docs)
    d = store(docs, precision, ranges)
    q = store(queries, "float32" if precision == "float16" else precision, ranges)
    index = build_index(kind, d.stored, precision, 32, AnnParams(nprobe=64))
    side = q.stored if precision in ("int8", "binary") else q.search
    idx, scores = index.search(side, 5)
    exact_idx, exact_scores = top_k(q.search, d.search, 5)
    assert (idx[:, 0] == np.arange(20)).mean() >= 0.9
    np.testing.assert_allclose(scores[:, 0], exact_scores[:, 0], rtol=1e-3, atol=1e-3)
    assert index.nbytes > 0
    few, few_scores = build_index(kind, d.stored[:3], precision, 32).search(side[:1], 5)
    assert (few[0, 3:] == -1).all() and np.isneginf(few_scores[0, 3:]).all()


def test_a_missing_extra_names_the_install_command(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "usearch.index", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'embedlab\[usearch\]'"):
        build_index("usearch", np.zeros((2, 4), np.float32), "float32", 4)
