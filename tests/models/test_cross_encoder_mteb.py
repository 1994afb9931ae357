"""Slow: a cross-encoder through embedlab and through mteb 2.x's cross-encoder evaluation gives the same pair
scores (1e-6) and metrics, on reranking rows and on two-stage retrieval from the same first-stage results."""

from __future__ import annotations

import json

import numpy as np
import pytest

import embedlab
from embedlab.data import load_reranking, load_retrieval
from embedlab.embedding.pairs import PairStore
from embedlab.embedding.store import EmbeddingStore
from embedlab.models.base import ModelOptions
from embedlab.models.cross_encoder import CrossEncoderScorer
from embedlab.models.registry import load_model
from embedlab.run.evaluation import RunOptions
from embedlab.scorers import DenseScorer
from embedlab.tasks.mteb import to_mteb
from embedlab.tasks.types import task_type
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.slow
RERANKING_SCORES = [("map_at_1000", "v2.map@1000"), ("mrr_at_10", "v2.mrr@10"), ("ndcg_at_10", "v2.ndcg@10")]
RETRIEVAL_SCORES = [f"{name}_at_{k}" for name in ("ndcg", "map", "recall", "mrr") for k in (1, 3, 5, 10)]


def _data(name: str):
    from embedlab import demo

    if name == "demo":
        return load_reranking(demo.RERANKING), load_retrieval(demo.RETRIEVAL)
    if not SHARED_DATA.exists():
        pytest.skip("no shared data")
    rows = load_reranking(SHARED_DATA / "xquad_r_zh" / "reranking" / "test.jsonl")
    retrieval = load_retrieval(SHARED_DATA / "xquad_r_zh" / "retrieval_paragraph")
    return task_type(rows).sample(rows, 80, 0), task_type(retrieval).sample(retrieval, 60, 0)


@pytest.mark.parametrize("data,depths", [("demo", (10, 30)), ("xquad_r_zh", (10, 50))])
def test_mteb_cross_encoder_evaluation_gives_our_numbers(tiny_cross_encoder, tmp_path, data, depths):
    mteb = pytest.importorskip("mteb")
    from sentence_transformers import CrossEncoder

    from embedlab.demo import default_model

    rows, retrieval = _data(data)
    ours = embedlab.evaluate(default_model(), [rows, retrieval],
                             run=RunOptions(reranker=str(tiny_cross_encoder), rerank_depths=depths))
    runs = {run.model["name"]: run for run in ours.runs}
    first = DenseScorer(EmbeddingStore(load_model(default_model()), progress=False))
    indices, _ = first.ranking(retrieval, max(depths))
    ids = list(retrieval.corpus)
    model = CrossEncoder(str(tiny_cross_encoder), device="cpu")
    for depth in depths:
        top = {q: [ids[i] for i in row[:depth] if i >= 0] for q, row in zip(retrieval.queries, indices)}
        theirs = _mteb(mteb, model, [to_mteb(rows, "R"), to_mteb(retrieval, "Q", top_ranked=top)], tmp_path / str(depth))
        staged = runs[f"{default_model()} >> {tiny_cross_encoder}@{depth}"].tasks[0]
        for name in RETRIEVAL_SCORES:
            assert theirs["scores"]["Q"][name] == pytest.approx(staged.scores[name.replace("_at_", "@")], abs=1e-5)
        _same_pair_scores(theirs["predictions"]["Q"], retrieval.queries, retrieval.corpus, tiny_cross_encoder)
    alone = runs[str(tiny_cross_encoder)].tasks[0]
    for name, mine in RERANKING_SCORES:  # mteb rounds its scores to 5 places; the pair scores match to 1e-6
        assert theirs["scores"]["R"][name] == pytest.approx(alone.scores[mine], abs=1e-5)


def _mteb(mteb, model, tasks, folder) -> dict:
    result = mteb.evaluate(model, tasks, cache=None, show_progress_bar=False, prediction_folder=folder)
    predictions = {}
    for task in ("R", "Q"):
        saved = json.loads((folder / f"{task}_predictions.json").read_text(encoding="utf-8"))
        predictions[task] = saved["default"]["test"]
    return {"scores": {r.task_name: r.scores["test"][0] for r in result.task_results}, "predictions": predictions}


def _same_pair_scores(predicted: dict, queries: dict, corpus: dict, cross_encoder) -> None:
    keys = [(q, d) for q, docs in predicted.items() for d in docs]
    store = PairStore(CrossEncoderScorer(str(cross_encoder), ModelOptions(device="cpu")), progress=False)
    ours = store.scores([(queries[q], corpus[d]) for q, d in keys])
    np.testing.assert_allclose(ours, [predicted[q][d] for q, d in keys], atol=1e-6, rtol=0)
