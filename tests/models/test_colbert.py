"""`colbert:PATH`: a sentence-transformers MultiVectorEncoder (the tiny ColBERT over MiniLM) gives the model's own
token vectors; its MaxSim scores and metrics equal mteb 2's MultiVectorWrapper (1e-5)."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.data import load_reranking, load_retrieval
from embedlab.embedding.outputs import MultiVectorStore
from embedlab.models.base import ModelOptions, MultiVectorEncoder
from embedlab.models.registry import load_model
from embedlab.scorers.multivector import MultiVectorScorer
from tests.models.parity import assert_same_metrics, mteb_run


@pytest.fixture(scope="module")
def colbert(tiny_colbert):
    return load_model(f"colbert:{tiny_colbert}", ModelOptions(device="cpu"))


def test_token_vectors_are_the_models_own_with_its_query_prefix(colbert):
    texts = ["green tea is brewed at 80 degrees", "a cactus"]
    blocks = colbert.encode_tokens(texts, "query")
    assert isinstance(colbert, MultiVectorEncoder) and colbert.dimension == 32 and not colbert.mean_over_query_tokens
    own = colbert.model.encode_query(texts, convert_to_numpy=True)
    for mine, theirs in zip(blocks, own):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)
    assert colbert.instructions["query"] == "[unused0] "
    assert colbert.cache_key("query") != colbert.cache_key("document") and "|dim=32|" in colbert.cache_key("query")


@pytest.mark.slow
def test_scores_and_metrics_equal_mtebs_multi_vector_wrapper(tiny_colbert, colbert, tmp_path):
    from mteb.models.sentence_transformer_wrapper import MultiVectorWrapper
    from sentence_transformers import MultiVectorEncoder as STMultiVector

    from embedlab import demo

    rows, retrieval = load_reranking(demo.RERANKING), load_retrieval(demo.RETRIEVAL)
    scorer = MultiVectorScorer(MultiVectorStore(colbert, progress=False), search="exact")
    ours = [scorer.score(rows), scorer.score(retrieval)]
    theirs, predictions = mteb_run(MultiVectorWrapper(STMultiVector(str(tiny_colbert), device="cpu")), rows,
                                   retrieval, tmp_path)
    assert_same_metrics(theirs, *ours)
    from embedlab.search.maxsim import block_scores

    queries = scorer.store.embed(retrieval.texts("query"), "query")
    mine = block_scores(queries, scorer.store.embed(retrieval.texts("document"), "document"))
    position, qids = {d: i for i, d in enumerate(retrieval.corpus)}, list(retrieval.queries)
    for qid, scored in predictions["Q"].items():
        for doc, score in scored.items():
            assert score == pytest.approx(mine[qids.index(qid), position[doc]], rel=1e-5)
