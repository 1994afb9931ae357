"""One deployment variant as a scorer: the full-width float32 exact variant scores what eval's dense scorer scores
on the same vectors, and every variant records what it costs (index bytes, latency, neighbour recall)."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.data import load_reranking, load_retrieval
from embedlab.deploy.scorer import DeployKnobs, VariantScorer, _rescore_rows
from embedlab.deploy.variants import Variant
from embedlab.embedding.store import EmbeddingStore
from embedlab.scorers import DenseScorer
from tests.conftest import FakeEncoder


@pytest.fixture
def store():
    return EmbeddingStore(FakeEncoder(), progress=False)


def test_the_baseline_variant_scores_as_the_dense_scorer(store, rerank_file, retrieval_dir):
    dim = store.embed(["x"], "query").shape[1]
    scorer = VariantScorer(store, store, Variant(dim, "float32", "exact"), DeployKnobs(latency_queries=3))
    dense = DenseScorer(store)
    for task in (load_reranking(rerank_file), load_retrieval(retrieval_dir)):
        ours, theirs = scorer.score(task), dense.score(task)
        assert {k: v for k, v in ours.per_query.items()} == theirs.per_query
    measured = scorer.measured(load_retrieval(retrieval_dir))
    assert measured.counts["index_bytes"] == len(load_retrieval(retrieval_dir).corpus) * dim * 4
    assert {"ms_per_query_batch", "ms_per_query_single"} <= set(measured.timings)
    assert scorer.name == f"fake-bigram {Variant(dim, 'float32', 'exact').label()}"


def test_an_approximate_variant_records_its_neighbour_recall(store, retrieval_dir):
    pytest.importorskip("faiss")
    task = load_retrieval(retrieval_dir)
    dim = store.embed(["x"], "query").shape[1]
    result = VariantScorer(store, store, Variant(dim, "float32", "hnsw"), DeployKnobs(latency_queries=2)).score(task)
    assert len(result.per_query["neighbour_recall@10"]) == len(task.queries)
    assert result.scores["neighbour_recall@10"] == 1.0  # six documents: an HNSW graph finds them all
    assert result.timings["index_build_seconds"] >= 0 and result.counts["index_bytes"] > 0


def test_rescoring_a_row_reorders_only_its_top_candidates():
    quantized = np.array([0.9, 0.8, 0.7, 0.1, 0.2])
    rescored = np.array([0.5, 0.6, 0.95, 0.99, 0.3])
    out = _rescore_rows(quantized, rescored, np.array([5]), depth=3)
    order = np.argsort(-out, kind="stable").tolist()
    assert order[:3] == [2, 1, 0]  # the top 3 by the quantized score, ordered by the float rescoring
    assert order[3:] == [4, 3]  # the rest stay below, in their quantized order (0.99 rescored is never seen)
