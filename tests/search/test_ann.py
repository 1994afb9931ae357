"""Indexes answer as the exact search does (dot-product scores, -1 pads) and find its neighbours on easy data,
with the sweep's parameters and with the recorded ones of `--search`; a missing extra names the command that
installs it."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.deploy.precision import calibration_ranges, store
from embedlab.errors import MissingDependencyError, UnknownNameError
from embedlab.search.ann import AnnParams, RecordedParams, build_index, search_index
from embedlab.search.approximate import recall_vs_exact
from embedlab.search.exact import top_k


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


@pytest.mark.parametrize("method", ["faiss-ivf", "faiss-hnsw"])
def test_approximate_lists_are_close_to_exact_ones(method):
    pytest.importorskip("faiss")
    docs, queries = unit(5000, 32, 0), unit(50, 32, 1)
    idx, scores = search_index(method, docs, seed=0).search(queries, 10)
    exact, _ = top_k(queries, docs, 10)
    assert idx.shape == scores.shape == (50, 10)
    assert recall_vs_exact(idx, exact, 10).mean() > 0.6
    np.testing.assert_allclose(scores, np.einsum("qd,qkd->qk", queries, docs[idx]), atol=1e-5)


def test_the_recorded_settings_follow_the_corpus_and_the_depth():
    assert RecordedParams().lists(1_000_000) == 4000 and RecordedParams().lists(10) == 1
    assert RecordedParams().probes(4000) == 500 and RecordedParams().ef_search_for(100) == 200
    assert AnnParams().lists(10_000) == 100 and AnnParams().probes(4) == 4 and AnnParams().ef_search_for(100) == 64
    pytest.importorskip("faiss")
    hnsw = search_index("faiss-hnsw", unit(100, 8, 0))
    hnsw.search(unit(2, 8, 1), 10)
    assert hnsw.settings == {"M": 32, "efConstruction": 80, "efSearch": 128}
    assert search_index("faiss-ivf", unit(2000, 8, 0)).settings == {"nlist": 51, "nprobe": 6}


@pytest.mark.slow  # runs where the bench extra (faiss) is installed, as in CI's slow pass
def test_flat_index_finds_what_the_exact_search_finds(monkeypatch):
    pytest.importorskip("faiss")
    import embedlab.search.ann as ann

    rng = np.random.default_rng(0)
    docs = rng.normal(size=(500, 16)).astype(np.float32)
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    queries = rng.normal(size=(20, 16)).astype(np.float32)
    monkeypatch.setattr(ann, "ADD_CHUNK", 64)  # added in chunks, as a memory-mapped corpus is
    index = ann.search_index("faiss", docs)
    assert index.index.ntotal == 500
    indices, scores = index.search(queries, 10)
    exact_indices, exact_scores = top_k(queries, docs, 10)
    np.testing.assert_array_equal(indices, exact_indices)
    np.testing.assert_allclose(scores, exact_scores, atol=1e-5)
    few, _ = ann.search_index("faiss", docs[:3]).search(queries[:1], 5)
    assert sorted(few[0][:3]) == [0, 1, 2] and list(few[0][3:]) == [-1, -1]  # -1 past the end, as the miner expects


def test_without_faiss_the_error_names_the_install_command(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "faiss", None)  # import faiss -> ImportError
    with pytest.raises(MissingDependencyError, match=r"mining with --search faiss needs 'faiss-cpu'.*"
                                                     r"pip install 'embedlab\[faiss\]'"):
        search_index("faiss", np.eye(2, dtype=np.float32), purpose="mining with --search faiss")


def test_an_unknown_method_is_refused():
    with pytest.raises(UnknownNameError, match="known: exact, flat, hnsw, ivf, usearch"):
        search_index("annoy", unit(10, 32, 0))


def test_a_usearch_index_is_built_the_same_every_time():
    """usearch inserted with all threads (threads=0): the graph depended on scheduling, and
    test_an_index_finds_the_exact_neighbours_with_their_scores[usearch-binary] failed now and then under load.
    One thread inserts in key order: the same graph every time, recorded in the settings."""
    pytest.importorskip("usearch.index")
    docs = unit(3000, 32, 0)
    first, second = (build_index("usearch", docs, "float32", 32) for _ in range(2))
    assert bytes(first.index.save()) == bytes(second.index.save())
    assert first.settings["add_threads"] == 1
