import numpy as np

from embedlab.chunking.documents import make_document
from embedlab.chunking.semantic import SemanticBreaks, break_indices
from embedlab.chunking.sentences import sentence_spans
from embedlab.embedding.store import EmbeddingStore


def test_break_indices_take_the_least_similar_neighbours():
    assert break_indices(np.array([0.9, 0.1, 0.8, 0.2, 0.95]), 40) == {2, 4}


def test_breaks_come_from_the_store_once_per_distinct_sentence(fake_encoder):
    store = EmbeddingStore(fake_encoder, progress=False)
    text = "猫喜欢吃鱼。猫喜欢吃鱼。股票市场今天下跌。股票市场明天上涨。"
    document = make_document("d", text, "x")
    breaks = SemanticBreaks(store, percentile=25)
    found = breaks(document, sentence_spans(text))
    assert found == {2}  # between the cats and the stocks
    assert len(fake_encoder.texts_encoded) == 3  # the repeated sentence was encoded once
    breaks(document, sentence_spans(text))
    assert len(fake_encoder.texts_encoded) == 3 and breaks.sentences_embedded == 8
