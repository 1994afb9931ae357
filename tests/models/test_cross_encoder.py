"""A local cross-encoder scores pairs exactly as sentence-transformers' CrossEncoder.predict; anything that
is not a one-label cross-encoder is refused with one line before it scores."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.errors import ModelError
from embedlab.models.base import ModelOptions
from embedlab.models.cross_encoder import CrossEncoderScorer, not_a_cross_encoder
from embedlab.models.registry import load_model, reranker_spec

PAIRS = [("brew green tea", "green tea is brewed at 80 degrees"), ("brew green tea", "oil the chain"),
         ("water a cactus", "a cactus needs little water"), ("绿茶怎么泡", "绿茶用八十度的水泡两分钟")]


def test_scores_equal_cross_encoder_predict(tiny_cross_encoder):
    from sentence_transformers import CrossEncoder

    scorer = load_model(f"ce:{tiny_cross_encoder}", ModelOptions(device="cpu", batch_size=2))
    reference = CrossEncoder(str(tiny_cross_encoder), device="cpu").predict(PAIRS)
    np.testing.assert_allclose(scorer.score_pairs(PAIRS), reference, atol=1e-6)
    assert scorer.score_pairs([]).shape == (0,)
    assert np.ptp(reference) > 0.05  # the tiny model's scores differ: a real check, not all 0.5


def test_instructions_are_prefixes_as_mteb_gives_them(tiny_cross_encoder):
    from sentence_transformers import CrossEncoder

    options = ModelOptions(device="cpu", query_instruction="query: ", document_instruction="passage: ")
    scorer = CrossEncoderScorer(str(tiny_cross_encoder), options)
    reference = CrossEncoder(str(tiny_cross_encoder), device="cpu").predict(
        [("query: " + q, "passage: " + d) for q, d in PAIRS])
    np.testing.assert_allclose(scorer.score_pairs(PAIRS), reference, atol=1e-6)
    assert scorer.cache_key() != CrossEncoderScorer(str(tiny_cross_encoder), ModelOptions(device="cpu")).cache_key()


def test_declares_what_decides_its_scores(tiny_cross_encoder):
    scorer = CrossEncoderScorer(str(tiny_cross_encoder), ModelOptions(device="cpu", max_length=16))
    info = scorer.info()
    assert info["backend"] == "cross-encoder" and info["max_length"] == 16 and info["activation"] == "Sigmoid"
    assert info["revision"].startswith("dir-sha256:") and not scorer.paid
    assert "max_length=16" in scorer.cache_key()
    assert 0 < scorer.count_tokens(PAIRS[:1]) <= 16


def test_a_bare_name_given_as_reranker_is_a_cross_encoder():
    assert reranker_spec("./models/ce") == "ce:./models/ce"
    assert reranker_spec("BAAI/bge-reranker-base") == "ce:BAAI/bge-reranker-base"
    assert reranker_spec("rerank:jina-reranker-v2") == "rerank:jina-reranker-v2"


def test_an_embedding_model_is_refused_in_one_line(tiny_model):
    with pytest.raises(ModelError, match="is a SentenceTransformer model .*not a cross-encoder") as caught:
        CrossEncoderScorer(str(tiny_model), ModelOptions(device="cpu"))
    assert "\n" not in str(caught.value)


def test_an_encoder_without_a_scoring_head_is_refused(tiny_model):
    assert "without a scoring head" in not_a_cross_encoder(str(tiny_model.parent / "raw"))  # a BertModel


def test_a_classifier_of_several_labels_is_refused(tmp_path):
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from embedlab.demo import default_model

    tokenizer = AutoTokenizer.from_pretrained(default_model())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, num_labels=3)
    BertForSequenceClassification(config).save_pretrained(tmp_path / "nli")
    tokenizer.save_pretrained(tmp_path / "nli")
    with pytest.raises(ModelError, match="classifier of 3 labels, not a reranker"):
        CrossEncoderScorer(str(tmp_path / "nli"), ModelOptions(device="cpu"))


def test_a_missing_directory_is_one_line(tmp_path):
    with pytest.raises(ModelError, match="does not exist") as caught:
        CrossEncoderScorer(str(tmp_path / "absent"), ModelOptions(device="cpu"))
    assert "\n" not in str(caught.value)
