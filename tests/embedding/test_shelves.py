"""What a shelf keeps of one output: sparse rows without explicit zeros over one vocabulary, unit dense vectors,
ragged token blocks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from embedlab.embedding.cache import EmbeddingCache
from embedlab.embedding.shelves import DenseShelf, SparseShelf, TokenShelf
from embedlab.errors import ModelError


def _key(kind):
    return f"m|{kind}"


def test_sparse_shelf_drops_explicit_zeros_and_sums_duplicate_terms():
    shelf = SparseShelf("m", _key)
    raw = sp.coo_matrix((np.array([1.0, 0.0, 2.0, 3.0], np.float32), ([0, 0, 1, 1], [5, 6, 7, 7])), shape=(2, 10))
    block = shelf.checked(raw, ["a", "b"])
    shelf.add("document", ["a", "b"], shelf.split(block))
    got = shelf.get("document", ["b", "a"])
    assert got.nnz == 2 and got[0, 7] == 5.0 and got[1, 5] == 1.0 and shelf.vocab_size == 10


def test_a_cached_row_of_another_vocabulary_counts_as_damaged(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    cache.put_sparse("m|document", ["a"], sp.csr_matrix(np.eye(1, 20, 15, dtype=np.float32)))
    shelf = SparseShelf("m", _key, vocab_size=10)
    assert shelf.cached(cache, "document", ["a"]) == {} and cache.damaged == 1


def test_dense_shelf_normalises_and_token_shelf_keeps_blocks_in_order():
    dense = DenseShelf("m", _key)
    dense.add("query", ["a"], dense.split(dense.checked(np.array([[3.0, 4.0]]), ["a"])))
    np.testing.assert_allclose(dense.get("query", ["a"]), [[0.6, 0.8]])
    tokens = TokenShelf("m", _key)
    blocks = tokens.checked([np.ones((2, 3)), np.zeros((1, 3))], ["a", "b"])
    tokens.add("document", ["a", "b"], tokens.split(blocks))
    ragged = tokens.get("document", ["b", "a", "b"])
    assert list(ragged.lengths) == [1, 2, 1] and ragged[1].sum() == 6
    with pytest.raises(ModelError, match="'m' returned 4-d token vectors, expected 3-d"):
        tokens.checked([np.ones((1, 4))], ["c"])
