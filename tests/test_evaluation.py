from __future__ import annotations

import json

import pytest

import embedlab
from embedlab.results import Results
from tests.conftest import FakeEncoder


def test_evaluate_reuses_embeddings_across_tasks_and_reports_counts(rerank_file, retrieval_dir, tmp_path):
    encoder = FakeEncoder()
    results = embedlab.evaluate(encoder, [rerank_file, retrieval_dir])
    run = results.runs[0]
    rerank, retrieval = run.tasks
    assert rerank.type == "reranking" and rerank.main_score == "v1.map"
    assert rerank.counts["rows"] == 3 and rerank.counts["skipped_no_negative"] == 1
    assert retrieval.counts["queries"] == 3 and retrieval.counts["skipped_no_judgments"] == 1
    assert set(rerank.scores) == {"v1.map", "v1.mrr@10", "v2.map@1000", "v2.mrr@10", "v2.ndcg@10"}
    assert "ndcg@10" in retrieval.scores and "precision@1000" in retrieval.scores
    assert rerank.per_query["v1.map"] and len(rerank.per_query["v1.map"]) == len(rerank.query_ids) == 3
    assert rerank.scores["v1.map"] == pytest.approx(sum(rerank.per_query["v1.map"]) / 3)
    encoded = encoder.texts_encoded
    assert len(encoded) == len(set((k, t) for k, batch in encoder.calls for t in batch))
    assert run.embedding["texts_encoded"] == len(encoded) < run.embedding["texts_requested"]
    assert run.model["dimension"] == 64


def test_results_round_trip_and_are_deterministic(rerank_file, retrieval_dir, tmp_path):
    first = embedlab.evaluate(FakeEncoder(), [rerank_file, retrieval_dir])
    second = embedlab.evaluate(FakeEncoder(), [rerank_file, retrieval_dir])
    path = tmp_path / "out" / "run.json"
    first.to_json(path)
    loaded = Results.from_json(path)
    assert loaded.runs[0].tasks[0].scores == first.runs[0].tasks[0].scores == second.runs[0].tasks[0].scores
    assert loaded.runs[0].tasks[1].data_hash == second.runs[0].tasks[1].data_hash
    data = json.loads(path.read_text())
    assert data["schema"] == "embedlab.results/1" and "numpy" in data["environment"]
    assert loaded.score("fake-bigram", first.runs[0].tasks[1].task) == first.runs[0].tasks[1].scores["ndcg@10"]


def test_several_models_side_by_side(rerank_file):
    results = embedlab.evaluate([FakeEncoder(), FakeEncoder(query_prefix="xx yy zz ")], rerank_file)
    frame = results.to_frame()
    assert len(results.runs) == 2
    assert set(frame.columns) == {"model", "task", "type", "metric", "score", "main"}
    assert len(frame) == 10 and frame["main"].sum() == 2
    text = repr(results)
    assert "MAP (C-MTEB v1)" in text and text.count("fake-bigram") == 2
    html = results._repr_html_()
    assert html.count("<tr>") == 6 and "fake-bigram" in html


def test_nothing_to_evaluate_is_an_error():
    with pytest.raises(ValueError, match="nothing to evaluate"):
        embedlab.evaluate(FakeEncoder(), [])


def test_a_plain_object_with_name_and_encode_is_a_model_too(rerank_file):
    import numpy as np

    class Mine:
        name = "notebook-model"

        def encode(self, texts, kind="document"):
            return FakeEncoder().encode(texts, kind)

    mine = embedlab.evaluate(Mine(), rerank_file).runs[0]
    fake = embedlab.evaluate(FakeEncoder(), rerank_file).runs[0]
    assert mine.model["name"] == "notebook-model"
    np.testing.assert_array_equal(mine.tasks[0].per_query["v1.map"], fake.tasks[0].per_query["v1.map"])


def test_models_loaded_by_name_are_closed_and_given_ones_are_not(rerank_file, monkeypatch):
    from embedlab import evaluation
    from embedlab.evaluation import RunOptions

    closed = []

    class Closing(FakeEncoder):
        def close(self):
            closed.append(self.name)

    monkeypatch.setattr(evaluation, "load_model", lambda spec, options: Closing())
    monkeypatch.setattr(evaluation, "backend_class", lambda spec: Closing)
    given = Closing()
    given.name = "given"
    results = embedlab.evaluate(["by-name", given], rerank_file, run=RunOptions(seed=3))
    assert closed == ["fake-bigram"] and len(results.runs) == 2 and results.seed == 3
