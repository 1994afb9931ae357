"""Stores of sparse rows and token vectors: each text encoded once, longest first, cached with checksums, checked
naming the model; a model of another kind refused with one line."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.embedding.cache import EmbeddingCache
from embedlab.embedding.outputs import M3Store, MultiVectorStore, SparseStore
from embedlab.embedding.store import EmbeddingStore
from embedlab.errors import ModelError
from tests.conftest import FakeEncoder
from tests.tiny_kinds import (
    FakeSparse,
    FakeTokens,
    fake_multivector_model,
    fake_sparse_model,
)

TEXTS = ["green tea", "black tea needs boiling water", "green tea", "a cactus"]


def test_sparse_store_encodes_each_text_once_longest_first_and_aligns_rows():
    model = fake_sparse_model()
    store = SparseStore(model, batch_size=2, progress=False)
    rows = store.embed(TEXTS, "document")
    assert [len(batch) for _, batch in model.calls] == [2, 1]
    assert model.calls[0][1][0] == "black tea needs boiling water"  # longest first
    np.testing.assert_array_equal(rows.toarray(), FakeSparse.rows(TEXTS).toarray())
    store.embed(["a cactus"], "document")
    assert len(model.calls) == 2 and store.stats.requested == 5 and store.stats.unique == 3 and store.passes == 3


def test_token_store_gives_ragged_blocks_aligned_with_the_texts():
    store = MultiVectorStore(fake_multivector_model(), progress=False)
    ragged = store.embed(TEXTS, "query")
    for block, expected in zip(ragged.blocks(), FakeTokens.blocks(TEXTS)):
        np.testing.assert_array_equal(block, expected)
    assert store.footprint("query")["tokens"] == {"texts": 3, "tokens_per_text": 3.0, "dim": 8, "bytes_per_text": 96.0}


@pytest.mark.parametrize("kind", ["sparse", "tokens"])
def test_a_second_store_reads_the_cache_and_encodes_nothing(tmp_path, kind):
    make, store_class = {"sparse": (fake_sparse_model, SparseStore),
                         "tokens": (fake_multivector_model, MultiVectorStore)}[kind]
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    first = store_class(make(), progress=False, cache=cache).embed(TEXTS, "document")
    model = make()
    second = store_class(model, progress=False, cache=cache)
    again = second.embed(TEXTS, "document")
    assert model.calls == [] and second.stats.cache_hits == 3
    if kind == "sparse":
        np.testing.assert_array_equal(first.toarray(), again.toarray())
    else:
        np.testing.assert_array_equal(first.compact().vectors, again.compact().vectors)
    row = next(r for r in cache.stats() if r.get("output") == kind)
    unique = list(dict.fromkeys(TEXTS))
    stored = FakeSparse.rows(unique).nnz * 8 if kind == "sparse" else sum(b.nbytes for b in FakeTokens.blocks(unique))
    assert row["vectors"] == 3 and row["bytes"] == stored


def test_a_damaged_cached_row_is_encoded_again(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    SparseStore(fake_sparse_model(), progress=False, cache=cache).embed(["green tea"], "document")
    cache._db.execute("UPDATE sparse_rows SET weights = zeroblob(LENGTH(weights))")
    model = fake_sparse_model()
    rows = SparseStore(model, progress=False, cache=cache).embed(["green tea"], "document")
    assert model.calls == [("document", ["green tea"])] and cache.damaged == 1
    np.testing.assert_array_equal(rows.toarray(), FakeSparse.rows(["green tea"]).toarray())


@pytest.mark.parametrize("bad,message", [
    (lambda texts: np.ones((len(texts), 4)), "expected a scipy sparse matrix"),
    (lambda texts: FakeSparse.rows(texts)[:, :10], "rows over 10 terms, expected 1,000"),
    (lambda texts: FakeSparse.rows(texts) * np.nan, "NaN/inf term weights"),
])
def test_bad_sparse_output_is_a_model_error_naming_the_model(bad, message):
    model = fake_sparse_model()
    model.encode_sparse = lambda texts, kind="document": bad(list(texts))
    with pytest.raises(ModelError, match=message) as caught:
        SparseStore(model, progress=False).embed(["green tea"], "document")
    assert "'fake-sparse'" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("bad,message", [
    (lambda texts: [np.ones((2, 8))], "for 2 texts"),
    (lambda texts: [np.ones((0, 8)) for _ in texts], "no token vector"),
    (lambda texts: [np.ones((2, 5)) for _ in texts], "5-d token vectors, expected 8-d"),
    (lambda texts: [np.full((2, 8), np.inf) for _ in texts], "NaN/inf"),
])
def test_bad_token_output_is_a_model_error_naming_the_model(bad, message):
    model = fake_multivector_model()
    model.encode_tokens = lambda texts, kind="document": bad(list(texts))
    with pytest.raises(ModelError, match=message) as caught:
        MultiVectorStore(model, progress=False).embed(["green tea", "a cactus"], "document")
    assert "'fake-tokens'" in str(caught.value)


def test_a_model_of_another_kind_is_refused_with_one_line():
    with pytest.raises(ModelError, match="'fake-bigram' gives one dense vector per text; a sparse store needs"):
        SparseStore(FakeEncoder(), progress=False)
    with pytest.raises(ModelError, match="'fake-sparse' gives sparse term weights .*multi-vector store needs"):
        MultiVectorStore(fake_sparse_model(), progress=False)
    with pytest.raises(ModelError, match="'fake-tokens' gives one vector per token .*several outputs"):
        M3Store(fake_multivector_model(), progress=False)
    with pytest.raises(ModelError) as caught:  # the dense store never takes a sparse model for a dense one
        EmbeddingStore(fake_sparse_model(), progress=False)
    assert "\n" not in str(caught.value)


def test_m3_store_fills_every_output_from_one_pass_and_caches_each_under_its_own_key(tmp_path):
    from tests.tiny_kinds import fake_m3_model

    cache = EmbeddingCache(tmp_path / "c.sqlite")
    model = fake_m3_model()
    store = M3Store(model, progress=False, cache=cache)
    outputs = store.outputs(TEXTS, "document")
    assert set(outputs) == {"dense", "sparse", "colbert"} and len(model.calls) == 1
    assert store.passes == 3 and store.stats_dict()["outputs_per_pass"] == 3
    np.testing.assert_allclose(np.linalg.norm(outputs["dense"], axis=1), 1, rtol=1e-6)
    assert {row["output"] for row in cache.stats() if "output" in row} == {"sparse", "tokens"}
    keys = {row["model"] for row in cache.stats()}
    assert keys == {model.output_key(name, "document") for name in ("dense", "sparse", "colbert")}
    dense_only = fake_m3_model(outputs=("dense",), weights=(1.0,))
    M3Store(dense_only, progress=False, cache=cache).outputs(TEXTS, "document")
    assert dense_only.calls == []  # the fused run's dense vectors serve the dense-only run
