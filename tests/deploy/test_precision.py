"""Precisions as sentence-transformers computes them: quantize_embeddings and its semantic search, on the same
vectors, give the same codes and the same top 10 (with and without float rescoring)."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.deploy.precision import (
    calibration_ranges,
    dequantize_int8,
    pack_binary,
    quantize_int8,
    rescored,
    store,
    truncate,
)
from embedlab.deploy.scorer import rescore_top
from embedlab.search.exact import top_k


def unit(rows: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_truncate_renormalises_and_keeps_the_full_width_as_it_is():
    x = unit(5, 16, 0)
    assert truncate(x, 16) is x
    cut = truncate(x, 4)
    np.testing.assert_allclose(np.linalg.norm(cut, axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(cut, x[:, :4] / np.linalg.norm(x[:, :4], axis=1, keepdims=True), atol=1e-7)


def test_binary_dot_products_are_dim_minus_twice_the_hamming_distance():
    x, y = unit(6, 20, 1), unit(3, 20, 2)
    hamming = ((x[:, None] > 0) != (y[None] > 0)).sum(-1)
    np.testing.assert_array_equal(store(y, "binary").search @ store(x, "binary").search.T, (20 - 2 * hamming).T)
    assert store(x, "binary").stored.shape == (6, 3)  # 20 bits in 3 bytes


def test_float16_stores_half_and_int8_dequantizes_back_close():
    x = unit(50, 32, 3)
    assert store(x, "float16").stored.dtype == np.float16
    ranges = calibration_ranges(x)
    back = dequantize_int8(quantize_int8(x, ranges), ranges)
    assert np.abs(back - x).max() <= (ranges[1] - ranges[0]).max() / 255 + 1e-6


def test_codes_equal_sentence_transformers_quantize_embeddings():
    quantization = pytest.importorskip("sentence_transformers.util.quantization")
    docs = unit(300, 64, 4)
    ranges = calibration_ranges(docs)
    np.testing.assert_array_equal(quantize_int8(docs, ranges),
                                  quantization.quantize_embeddings(docs, "int8", calibration_embeddings=docs))
    np.testing.assert_array_equal(pack_binary(docs), quantization.quantize_embeddings(docs, "ubinary"))


@pytest.mark.parametrize("precision", ["int8", "binary"])
@pytest.mark.parametrize("rescore", [False, True])
def test_search_equals_sentence_transformers_semantic_search(precision, rescore):
    quantization = pytest.importorskip("sentence_transformers.util.quantization")
    pytest.importorskip("usearch.index" if precision == "int8" else "faiss")
    docs, queries = unit(400, 256, 5), unit(30, 256, 6)
    ranges = calibration_ranges(docs)
    d, q = store(docs, precision, ranges), store(queries, precision, ranges)
    if precision == "int8":  # usearch's int8 index, as the sentence-transformers docs use it
        found, _ = quantization.semantic_search_usearch(queries, corpus_embeddings=quantize_int8(docs, ranges),
                                                        corpus_precision="int8", ranges=ranges, top_k=10,
                                                        rescore=rescore, rescore_multiplier=4, exact=True)
    else:
        found, _ = quantization.semantic_search_faiss(queries, corpus_embeddings=pack_binary(docs),
                                                      corpus_precision="ubinary", top_k=10, rescore=rescore,
                                                      rescore_multiplier=4, exact=True)
    idx, scores = top_k(q.search, d.search, 40 if rescore else 10)
    if rescore:
        idx, scores = rescore_top(idx, scores, queries, d.rescore, 40)
    theirs = np.array([[hit["corpus_id"] for hit in hits] for hits in found])
    their_scores = np.array([[hit["score"] for hit in hits] for hits in found])
    np.testing.assert_array_equal(idx[:, :10], theirs)
    if rescore:
        np.testing.assert_allclose(scores[:, :10], their_scores, rtol=1e-12)
    elif precision == "int8":
        np.testing.assert_array_equal(scores, 1 - their_scores)  # usearch's inner-product distance
    else:
        np.testing.assert_array_equal(scores, 256 - 2 * their_scores)  # faiss' Hamming distance


def test_rescored_is_the_float_query_times_each_candidate():
    q, c = unit(2, 8, 7), np.random.default_rng(8).normal(size=(2, 3, 8))
    np.testing.assert_allclose(rescored(q, c), [[q[i] @ c[i, j] for j in range(3)] for i in range(2)])
