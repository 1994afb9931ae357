"""`sparse:PATH`: a sentence-transformers SparseEncoder (the tiny SPLADE over MiniLM's MLM logits) gives CSR rows
equal to the model's own, its scores and metrics equal to mteb 2's SparseEncoderWrapper (1e-5), and is refused
where a dense model is needed."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.data import load_reranking, load_retrieval
from embedlab.embedding.outputs import SparseStore
from embedlab.errors import ModelError
from embedlab.models.base import Encoder, ModelOptions, SparseEncoder, expect_kind
from embedlab.models.registry import load_model
from embedlab.scorers.sparse import SparseScorer
from tests.models.parity import assert_same_metrics, mteb_run


@pytest.fixture(scope="module")
def splade(tiny_splade):
    return load_model(f"sparse:{tiny_splade}", ModelOptions(device="cpu"))


def test_rows_are_the_models_own_term_weights(splade):
    texts = ["green tea is brewed at 80 degrees", "a cactus needs little water"]
    rows = splade.encode_sparse(texts, "document")
    assert isinstance(splade, SparseEncoder) and rows.shape == (2, splade.vocab_size) == (2, 30522)
    own = splade.model.encode_document(texts, convert_to_sparse_tensor=True).to_dense().numpy()
    np.testing.assert_allclose(rows.toarray(), own, rtol=1e-6)
    assert 20 < rows.getnnz(axis=1).min() and rows.getnnz(axis=1).max() < 2000  # sparse, as a trained SPLADE


def test_cache_key_names_what_changes_the_rows(splade, tiny_splade):
    shorter = load_model(f"sparse:{tiny_splade}", ModelOptions(device="cpu", max_length=16))
    prefixed = load_model(f"sparse:{tiny_splade}", ModelOptions(device="cpu", query_instruction="q: "))
    keys = {splade.cache_key("query"), shorter.cache_key("query"), prefixed.cache_key("query"),
            splade.cache_key("document")}
    assert len(keys) == 4 and "vocab=30522" in splade.cache_key("query")
    assert splade.count_tokens(["green tea"]) == 4 and splade.info()["vocab_size"] == 30522


def test_a_sparse_model_is_refused_where_a_dense_one_is_needed(splade):
    with pytest.raises(ModelError, match=r"gives sparse term weights \(a learned sparse model\); sweep --dims needs "
                                         "a model that gives one dense vector per text"):
        expect_kind(splade, Encoder, "sweep --dims")


@pytest.mark.slow
def test_scores_and_metrics_equal_mtebs_sparse_encoder_wrapper(tiny_splade, splade, rerank_file, retrieval_dir,
                                                                 tmp_path):
    from mteb.models.sentence_transformer_wrapper import SparseEncoderWrapper
    from sentence_transformers import SparseEncoder as STSparse

    from embedlab import demo

    rows = load_reranking(demo.RERANKING)
    retrieval = load_retrieval(demo.RETRIEVAL)
    scorer = SparseScorer(SparseStore(splade, progress=False))
    ours = [scorer.score(rows), scorer.score(retrieval)]
    theirs, predictions = mteb_run(SparseEncoderWrapper(STSparse(str(tiny_splade), device="cpu")), rows, retrieval,
                                   tmp_path)
    assert_same_metrics(theirs, *ours)
    queries = scorer.store.embed(retrieval.texts("query"), "query")
    docs = scorer.store.embed(retrieval.texts("document"), "document")
    mine = (queries @ docs.T).toarray()
    position = {d: i for i, d in enumerate(retrieval.corpus)}
    for q, (qid, scored) in enumerate(predictions["Q"].items()):
        for doc, score in scored.items():
            assert score == pytest.approx(mine[list(retrieval.queries).index(qid), position[doc]], rel=1e-5, abs=1e-5)
