"""The backend contracts: defaults every model gets, and plain objects wrapped as encoders."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.errors import ModelError
from embedlab.models.base import Encoder, ModelOptions, PairScorer, Ranker, as_model


class Doubling(Encoder):
    name = "doubling"

    def encode(self, texts, kind="document"):
        return np.array([[len(t), 2.0 * len(t)] for t in texts], dtype=np.float32)


def test_an_encoder_declares_defaults_and_batches_in_order():
    model = Doubling()
    assert (model.paid, model.dimension, model.preferred_batch, model.texts_per_request) == (False, None, None, None)
    assert model.count_tokens(["x"]) is None and model.price_per_mtok() is None and model.status() == ""
    assert model.instructions == {"query": "", "document": ""}
    batches = list(model.encode_batches(["a", "bb", "ccc", "dddd", "e"], "document", 2))
    assert [(start, stop) for start, stop, _ in batches] == [(0, 2), (2, 4), (4, 5)]
    np.testing.assert_array_equal(batches[1][2], [[3, 6], [4, 8]])
    assert model.info() == {"name": "doubling", "backend": "Doubling"}
    assert model.cache_key("query") != model.cache_key("document")


def test_a_plain_object_with_name_and_encode_is_wrapped():
    class Plain:
        name = "plain"

        def encode(self, texts, kind="document"):
            return np.ones((len(texts), 3), dtype=np.float32)

    wrapped = as_model(Plain())
    assert isinstance(wrapped, Encoder) and wrapped.name == "plain" and not wrapped.paid
    assert wrapped.encode(["a", "b"]).shape == (2, 3)
    model = Doubling()
    assert as_model(model) is model
    with pytest.raises(ModelError, match="is not a model"):
        as_model(object())


def test_rankers_and_pair_scorers_must_implement_their_one_method():
    with pytest.raises(NotImplementedError, match="rank"):
        Ranker().rank({}, {}, 1)
    with pytest.raises(NotImplementedError, match="score_pairs"):
        PairScorer().score_pairs([])
    with pytest.raises(NotImplementedError, match="encode"):
        Encoder().encode(["x"])


def test_model_options_are_plain_data():
    options = ModelOptions(query_instruction="q: ", max_length=24)
    assert options.as_dict()["max_length"] == 24 and options.as_dict()["query_instruction"] == "q: "


def test_every_name_is_acceptable_and_rankers_keep_no_index_by_default(tmp_path):
    assert Encoder.check_name("anything") is None
    assert Ranker().keep_indexes(tmp_path) is None and not list(tmp_path.iterdir())


def test_sparse_and_multi_vector_models_are_not_encoders_and_are_refused_in_one_line():
    from embedlab.errors import ModelError
    from embedlab.models.base import Encoder, MultiVectorEncoder, SparseEncoder, expect_kind
    from tests.tiny_kinds import fake_multivector_model, fake_sparse_model

    sparse, tokens = fake_sparse_model(), fake_multivector_model()
    assert not isinstance(sparse, Encoder) and not isinstance(tokens, Encoder)
    with pytest.raises(ModelError) as caught:
        expect_kind(tokens, Encoder, "mine")
    assert str(caught.value) == ("'fake-tokens' gives one vector per token (a multi-vector / ColBERT model); mine "
                                 "needs a model that gives one dense vector per text")
    expect_kind(sparse, SparseEncoder, "a sparse store")
    batches = list(sparse.encode_batches(["a", "b", "c"], "query", 2))
    assert [(start, stop, rows.shape[0]) for start, stop, rows in batches] == [(0, 2, 2), (2, 3, 1)]
    assert sparse.calls == [("query", ["a", "b"]), ("query", ["c"])]
    assert "fake-tokens|document" in tokens.cache_key("document") and MultiVectorEncoder.gives != SparseEncoder.gives
