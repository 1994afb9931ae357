"""mteb on our tasks (`tasks.mteb.to_mteb`) with a given model wrapper: its main scores and its per-pair
predictions, to compare the sparse and multi-vector scorers with mteb's SparseEncoderWrapper and
MultiVectorWrapper."""

from __future__ import annotations

import json

import pytest

from embedlab.tasks.mteb import to_mteb

RERANKING = [("map_at_1000", "v2.map@1000"), ("mrr_at_10", "v2.mrr@10"), ("ndcg_at_10", "v2.ndcg@10")]
RETRIEVAL = [(f"{theirs}_at_{k}", f"{mine}@{k}") for k in (1, 3, 5, 10)
             for theirs, mine in [("ndcg", "ndcg"), ("map", "map"), ("recall", "recall"), ("mrr", "mrr")]]


def mteb_run(model, rows, retrieval, folder) -> tuple[dict, dict]:
    mteb = pytest.importorskip("mteb")
    result = mteb.evaluate(model, [to_mteb(rows, "R"), to_mteb(retrieval, "Q")], cache=None,
                           show_progress_bar=False, prediction_folder=folder)
    scores = {r.task_name: r.scores["test"][0] for r in result.task_results}
    predictions = {t: json.loads((folder / f"{t}_predictions.json").read_text(encoding="utf-8"))["default"]["test"]
                   for t in ("R", "Q")}
    return scores, predictions


def assert_same_metrics(theirs: dict, rerank_result, retrieval_result) -> None:
    for name, mine in RERANKING:  # mteb rounds its scores to 5 places
        assert theirs["R"][name] == pytest.approx(rerank_result.scores[mine], abs=1e-5), name
    for name, mine in RETRIEVAL:
        assert theirs["Q"][name] == pytest.approx(retrieval_result.scores[mine], abs=1e-5), name
