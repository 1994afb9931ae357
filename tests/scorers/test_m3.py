"""bge-m3's fused scorer through their `score`: (w_d dense + w_s sparse + w_c mean MaxSim) / sum(w), as
FlagEmbedding's compute_score fuses them, on reranking rows and a whole corpus; the sweep's views."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.data import load_reranking, load_retrieval
from embedlab.embedding.outputs import M3Store
from embedlab.scorers.m3 import M3Scorer
from tests.conftest import FakeEncoder
from tests.scorers.brute import BruteScorer
from tests.tiny_kinds import FakeSparse, FakeTokens, fake_m3_model


def _fused(weights):
    def score(queries, documents):
        unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)
        dense = unit(FakeEncoder().encode(queries, "query")) @ unit(FakeEncoder().encode(documents)).T
        sparse = (FakeSparse.rows(queries) @ FakeSparse.rows(documents).T).toarray()
        colbert = np.array([[(q @ d.T).max(axis=1).mean() for d in FakeTokens.blocks(documents)]
                            for q in FakeTokens.blocks(queries)])
        return (weights[0] * dense + weights[1] * sparse + weights[2] * colbert) / sum(weights)
    return score


@pytest.mark.parametrize("kind", ["reranking", "retrieval"])
@pytest.mark.parametrize("weights", [(0.4, 0.2, 0.4), (1.0, 0.0, 0.0), (0.0, 0.5, 0.5)])
def test_the_fused_score_gives_the_brute_force_metrics(rerank_file, retrieval_dir, kind, weights):
    task = load_reranking(rerank_file) if kind == "reranking" else load_retrieval(retrieval_dir)
    model = fake_m3_model(weights=weights)
    scorer = M3Scorer(M3Store(model, progress=False))
    ours = scorer.score(task)
    assert ours.scores == pytest.approx(BruteScorer(_fused(weights)).score(task).scores, abs=1e-6)
    assert len(model.calls) == 2  # queries, documents: every output from the same pass
    assert scorer.stats()["outputs_per_pass"] == 3
    if kind == "retrieval":
        assert scorer.stats()["fused_search"][task.name]["ms_per_query"] > 0


def test_the_sweep_scores_each_output_alone_then_the_grid_from_one_encoding(retrieval_dir):
    task = load_retrieval(retrieval_dir)
    model = fake_m3_model()
    views = M3Scorer(M3Store(model, progress=False)).sweep()
    assert [v.info()["name"] for v in views[:3]] == ["fake-m3#dense", "fake-m3#sparse", "fake-m3#colbert"]
    assert len(views) == 3 + 66 + 1  # each output alone, the 0.1-step grid, equal weights
    assert (0.4, 0.2, 0.4) in [v.weights for v in views]
    sparse_alone = views[1].score(task)
    assert sparse_alone.scores == pytest.approx(BruteScorer(_fused((0, 1, 0))).score(task).scores)
    for view in views[3:8]:
        view.score(task)
    assert len(model.calls) == 2
