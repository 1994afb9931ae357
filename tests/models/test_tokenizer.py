"""A local model's tokenizer and max length, without loading its weights."""

from __future__ import annotations

import pytest

from embedlab.errors import ModelError
from embedlab.models.tokenizer import load_tokenizer, token_counts

pytest.importorskip("transformers")


def test_the_bundled_models_tokenizer_and_configured_max_length():
    from embedlab.demo import default_model

    tokenizer, max_length = load_tokenizer(default_model())
    assert max_length == 256  # sentence_bert_config.json's max_seq_length, not the tokenizer's 512
    counts = token_counts(tokenizer, ["green tea", "green tea", "a much longer text about tea"])
    assert counts == {"green tea": 4, "a much longer text about tea": 8}  # [CLS] ... [SEP], once per text


def test_api_models_have_no_local_tokenizer():
    with pytest.raises(ModelError, match="token counts need a local model's tokenizer"):
        load_tokenizer("openai:text-embedding-3-small")
