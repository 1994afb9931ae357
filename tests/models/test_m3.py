"""`m3:PATH#OUTPUTS` (FlagEmbedding's BGEM3FlagModel on the tiny bge-m3 layout): each spelling is the kind its
outputs make, every output is FlagEmbedding's own, all of them come from one pass (counted), and the fused score
equals FlagEmbedding's compute_score (1e-5)."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.embedding.cache import EmbeddingCache
from embedlab.embedding.outputs import M3Store
from embedlab.embedding.store import EmbeddingStore
from embedlab.errors import EmbedlabError
from embedlab.models.base import (
    Encoder,
    ModelOptions,
    MultiOutputEncoder,
    MultiVectorEncoder,
    SparseEncoder,
)
from embedlab.models.m3 import fused_weights, parse_outputs
from embedlab.models.registry import backend_class, load_model
from embedlab.scorers.m3 import M3Scorer

TEXTS = ["green tea is brewed at 80 degrees", "a cactus needs little water", "patch the inner tube"]
OPTIONS = ModelOptions(device="cpu")


@pytest.fixture(scope="module")
def flag(tiny_m3):
    from FlagEmbedding import BGEM3FlagModel

    return BGEM3FlagModel(str(tiny_m3), use_fp16=False, devices="cpu")


def test_each_spelling_is_the_kind_its_outputs_make(tiny_m3):
    kinds = {"#dense": Encoder, "#sparse": SparseEncoder, "#colbert": MultiVectorEncoder,
             "#sparse+dense": MultiOutputEncoder, "": MultiOutputEncoder}
    for suffix, kind in kinds.items():
        assert isinstance(load_model(f"m3:{tiny_m3}{suffix}", OPTIONS), kind), suffix
    assert parse_outputs("X#sparse+dense") == ("X", ("dense", "sparse"))
    swept = load_model(f"m3:{tiny_m3}#dense+colbert", ModelOptions(device="cpu", weights="sweep"))
    assert swept.sweep and swept.weights == (0.4, 0.4) and not load_model(f"m3:{tiny_m3}", OPTIONS).sweep
    with pytest.raises(EmbedlabError, match="one or more of dense, sparse, colbert"):
        backend_class("m3:X#lexical")
    assert fused_weights(("dense", "sparse", "colbert"), None) == (0.4, 0.2, 0.4)
    assert fused_weights(("dense", "colbert"), "1,3") == (1.0, 3.0)
    with pytest.raises(EmbedlabError, match="give 2 non-negative weights"):
        fused_weights(("dense", "colbert"), "1,2,3")


def test_every_output_is_flagembeddings_own(tiny_m3, flag):
    raw = flag.encode_corpus(TEXTS, return_dense=True, return_sparse=True, return_colbert_vecs=True)
    dense = load_model(f"m3:{tiny_m3}#dense", OPTIONS).encode(TEXTS)
    np.testing.assert_allclose(dense, raw["dense_vecs"], rtol=1e-5, atol=1e-6)
    rows = load_model(f"m3:{tiny_m3}#sparse", OPTIONS).encode_sparse(TEXTS)
    for row, weights in zip(rows, raw["lexical_weights"]):
        assert dict(zip(map(str, row.indices), row.data)) == pytest.approx({k: float(v) for k, v in weights.items()})
    blocks = load_model(f"m3:{tiny_m3}#colbert", OPTIONS).encode_tokens(TEXTS)
    for mine, theirs in zip(blocks, raw["colbert_vecs"]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_three_outputs_come_from_one_pass_and_are_shared_through_the_cache(tiny_m3, tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    fused = load_model(f"m3:{tiny_m3}#dense+sparse+colbert", OPTIONS)
    store = M3Store(fused, progress=False, cache=cache)
    store.outputs(TEXTS + TEXTS[:1], "document")
    assert store.passes == 3 and fused.backbone.passes == 3 and store.stats_dict()["outputs_per_pass"] == 3
    dense = load_model(f"m3:{tiny_m3}#dense", OPTIONS)
    dense_store = EmbeddingStore(dense, progress=False, cache=cache)
    dense_store.embed(TEXTS, "document")
    assert dense.backbone.passes == 0 and dense_store.stats.cache_hits == 3  # the fused run's dense vectors


@pytest.mark.parametrize("weights", [None, pytest.param("1,1,1", marks=pytest.mark.slow),
                                     pytest.param("0.2,0.5,0.3", marks=pytest.mark.slow)])
def test_the_fused_score_equals_flagembeddings_compute_score(tiny_m3, flag, rerank_file, weights):
    from embedlab.data import load_reranking

    task = load_reranking(rerank_file)
    model = load_model(f"m3:{tiny_m3}", ModelOptions(device="cpu", weights=weights))
    ours = M3Scorer(M3Store(model, progress=False)).candidate_scores(task)
    pairs = [(row.query, text) for row in task.rows for text in row.candidates]
    # one pair per batch: in a batch FlagEmbedding pads passages with zero ColBERT vectors, which then compete in
    # the max over a passage's tokens; alone, each pair is scored by the definition
    theirs = flag.compute_score(pairs, batch_size=1, weights_for_different_modes=list(model.weights),
                                max_query_length=model.backbone.max_length,
                                max_passage_length=model.backbone.max_length)
    np.testing.assert_allclose(ours, theirs["colbert+sparse+dense"], rtol=1e-5, atol=1e-5)
    alone = M3Scorer(M3Store(model, progress=False))
    for name, index in (("dense", 0), ("sparse", 1), ("colbert", 2)):
        one = tuple(float(i == index) for i in range(3))
        np.testing.assert_allclose(alone.candidate_scores(task, one), theirs[name], rtol=1e-5, atol=1e-5)
