"""The multi-vector scorer through their `score`: the metrics of brute-force MaxSim (sum and mean), exact and
through the token index (with its recall against exact)."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.data import load_reranking, load_retrieval
from embedlab.embedding.outputs import MultiVectorStore
from embedlab.errors import EmbedlabError
from embedlab.scorers.multivector import MultiVectorScorer
from tests.scorers.brute import BruteScorer
from tests.tiny_kinds import FakeTokens, fake_multivector_model


def _maxsim(mean):
    def score(queries, documents):
        docs = FakeTokens.blocks(documents)
        return np.array([[(q @ d.T).max(axis=1).sum() / (len(q) if mean else 1) for d in docs]
                         for q in FakeTokens.blocks(queries)])
    return score


@pytest.mark.parametrize("kind", ["reranking", "retrieval"])
@pytest.mark.parametrize("mean", [False, True])
def test_multivector_scorer_gives_the_brute_force_metrics(rerank_file, retrieval_dir, kind, mean):
    task = load_reranking(rerank_file) if kind == "reranking" else load_retrieval(retrieval_dir)
    scorer = MultiVectorScorer(MultiVectorStore(fake_multivector_model(mean), progress=False), search="exact")
    ours = scorer.score(task)
    reference = BruteScorer(_maxsim(mean)).score(task)
    assert ours.scores == pytest.approx(reference.scores, abs=1e-6)
    assert scorer.stats()["document_storage"]["tokens"]["dim"] == FakeTokens.dim


def test_the_token_index_ranks_with_its_recall_against_exact_recorded(retrieval_dir):
    pytest.importorskip("faiss")
    task = load_retrieval(retrieval_dir)
    scorer = MultiVectorScorer(MultiVectorStore(fake_multivector_model(), progress=False), search="flat")
    ours = scorer.score(task)
    assert ours.scores == pytest.approx(BruteScorer(_maxsim(False)).score(task).scores, abs=1e-6)
    cost = scorer.stats()["multi_vector_search"][task.name]
    assert cost["method"] == "flat" and cost["recall@6_vs_exact"] == 1.0 and cost["index_bytes"] > 0


def test_auto_searches_exactly_below_the_token_budget_and_an_unknown_search_is_refused():
    scorer = MultiVectorScorer(MultiVectorStore(fake_multivector_model(), progress=False))
    assert scorer.method(1000) == "exact" and scorer.method(10**8) == "ivf"
    with pytest.raises(EmbedlabError, match="give one of exact, auto"):
        MultiVectorScorer(MultiVectorStore(fake_multivector_model(), progress=False), search="plaid")
