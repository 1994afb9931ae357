"""Slow: the same model and data through mteb 2.x and through embedlab give the same scores."""

from __future__ import annotations

import pytest

import embedlab
from embedlab.data import load_reranking, load_retrieval
from embedlab.tasks.mteb import to_mteb

pytestmark = pytest.mark.slow


def test_mteb_gives_our_numbers(rerank_file, retrieval_dir, tmp_path):
    mteb = pytest.importorskip("mteb")
    from sentence_transformers import SentenceTransformer

    from embedlab.demo import default_model

    rerank, retrieval = load_reranking(rerank_file), load_retrieval(retrieval_dir)
    ours = embedlab.evaluate(default_model(), [rerank, retrieval])
    ours_rerank, ours_retrieval = ours.runs[0].tasks
    model = SentenceTransformer(default_model(), device="cpu")
    result = mteb.evaluate(model, [to_mteb(rerank, "R"), to_mteb(retrieval, "Q")], cache=None,
                           show_progress_bar=False)
    scores = {r.task_name: r.scores["test"][0] for r in result.task_results}
    for theirs, mine in [("map_at_1000", "v2.map@1000"), ("mrr_at_10", "v2.mrr@10"), ("ndcg_at_10", "v2.ndcg@10")]:
        assert scores["R"][theirs] == pytest.approx(ours_rerank.scores[mine], abs=1e-5)  # mteb rounds to 5 places
    for k in (1, 3, 5, 10):
        for theirs, mine in [("ndcg_at", "ndcg"), ("map_at", "map"), ("recall_at", "recall"),
                             ("precision_at", "precision"), ("mrr_at", "mrr")]:
            assert scores["Q"][f"{theirs}_{k}"] == pytest.approx(ours_retrieval.scores[f"{mine}@{k}"], abs=1e-5)
