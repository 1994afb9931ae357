"""The learned sparse scorer through their `score`: the metrics of brute-force dot products, on reranking rows
and retrieval, with the index's cost recorded."""

from __future__ import annotations

import pytest

from embedlab.data import load_reranking, load_retrieval
from embedlab.embedding.outputs import SparseStore
from embedlab.scorers.sparse import SparseScorer
from tests.scorers.brute import BruteScorer
from tests.tiny_kinds import FakeSparse, fake_sparse_model


def _dots(queries, documents):
    return (FakeSparse.rows(queries) @ FakeSparse.rows(documents).T).toarray()


@pytest.mark.parametrize("kind", ["reranking", "retrieval"])
def test_sparse_scorer_gives_the_brute_force_metrics(rerank_file, retrieval_dir, kind):
    task = load_reranking(rerank_file) if kind == "reranking" else load_retrieval(retrieval_dir)
    scorer = SparseScorer(SparseStore(fake_sparse_model(), progress=False))
    ours = scorer.score(task)
    reference = BruteScorer(_dots).score(task)
    assert ours.scores == pytest.approx(reference.scores, abs=1e-9) and ours.per_query == reference.per_query
    stats = scorer.stats()
    assert stats["document_storage"]["sparse"]["nnz_per_text"] > 0 and stats["forward_passes"] > 0
    if kind == "retrieval":
        cost = stats["sparse_index"][task.name]
        assert cost["index_bytes"] > 0 and cost["ms_per_query"] >= 0 and cost["nnz_per_document"] > 0
