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
    from embedlab.run import plan
    from embedlab.run.evaluation import RunOptions

    closed = []

    class Closing(FakeEncoder):
        def close(self):
            closed.append(self.name)

    monkeypatch.setattr(plan, "load_model", lambda spec, options: Closing())
    monkeypatch.setattr(plan, "is_paid", lambda spec, options: Closing.paid)
    given = Closing()
    given.name = "given"
    results = embedlab.evaluate(["by-name", given], rerank_file, run=RunOptions(seed=3))
    assert closed == ["fake-bigram"] and len(results.runs) == 2 and results.seed == 3


def test_what_finished_is_kept_when_a_later_model_or_task_fails(rerank_file, retrieval_dir, tmp_path):
    """The first release lost every finished score when a later model failed (a 32-minute run, nothing written)."""
    from embedlab.errors import ModelError
    from embedlab.run.evaluation import IncompleteRun

    class FailsOnRetrieval(FakeEncoder):
        name = "fails-on-retrieval"

        def encode(self, texts, kind="document"):
            if "green tea is brewed at 80 degrees" in texts:
                raise ModelError("server gone")
            return super().encode(texts, kind)

    tasks = [rerank_file, retrieval_dir, rerank_file.with_name("again.jsonl")]
    tasks[2].write_text(rerank_file.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(IncompleteRun, match="5 result\\(s\\) missing, first: fails-on-retrieval on beir: server gone") as caught:
        embedlab.evaluate([FakeEncoder(), FailsOnRetrieval(), str(tmp_path / "no-such-model")], tasks)
    results = caught.value.results
    assert [run.model["name"] for run in results.runs] == ["fake-bigram", "fails-on-retrieval"]
    assert len(results.runs[0].tasks) == 3 and len(results.runs[1].tasks) == 1
    failures = [(f["model"], f["error"][:14]) for f in results.failures]
    assert failures[:2] == [("fails-on-retrieval", "server gone"), ("fails-on-retrieval", "not run: an ea")]
    assert [model for model, _ in failures[2:]] == [str(tmp_path / "no-such-model")] * 3
    assert "no such directory" in results.failures[2]["error"]
    saved = Results.from_json(results.to_json())
    assert saved.failures == results.failures


def test_a_damaged_results_file_is_one_line(tmp_path):
    from embedlab.errors import DataError

    path = tmp_path / "r.json"
    path.write_text('{"runs": [{"model": {"name": "m"}}]}', encoding="utf-8")
    # the place is named since results files are checked on every read (issue 24, item 20), not a KeyError's
    with pytest.raises(DataError, match=r"r.json: a damaged results file \(runs\[0\].embedding is null, not an object\)"):
        Results.from_json(path)


def test_a_weight_sweep_reuses_each_sub_model_output_and_picks_the_best(rerank_file, retrieval_dir):
    from embedlab.models.hybrid import Hybrid
    from embedlab.results.sweep import sweep_summaries
    from tests.models.test_hybrid import WordOverlap

    tasks = [rerank_file, retrieval_dir]
    alone_encoder, alone_ranker = FakeEncoder(), WordOverlap()
    alone = embedlab.evaluate([alone_encoder, alone_ranker], tasks)
    encoder, ranker = FakeEncoder(), WordOverlap()
    swept = embedlab.evaluate(Hybrid([encoder, ranker], weights="sweep"), tasks)
    # 2 sub-models + 11 weights, from one encoding and one ranking per task: as many calls as the models alone
    assert encoder.texts_encoded == alone_encoder.texts_encoded and ranker.calls == alone_ranker.calls
    names = [run.model["name"] for run in swept.runs]
    assert len(names) == 13 and names[:3] == ["fake-bigram", "word-overlap", "hybrid-rrf(w=0,1):fake-bigram+word-overlap"]
    for ours, theirs in zip(swept.runs[:2], alone.runs):
        assert [t.per_query for t in ours.tasks] == [t.per_query for t in theirs.tasks]
    fixed = embedlab.evaluate(Hybrid([FakeEncoder(), WordOverlap()], weights=(0.3, 0.7)), tasks).runs[0]
    point = next(run for run in swept.runs[2:] if run.model["weights"] == [0.3, 0.7])
    assert [t.per_query for t in point.tasks] == [t.per_query for t in fixed.tasks]
    assert point.model["sweep"] == {"of": "hybrid-rrf:fake-bigram+word-overlap", "weights": 11}
    summaries = sweep_summaries(swept)
    assert [s.task for s in summaries] == [t.task for t in point.tasks]
    for s in summaries:
        best = max(mean for _, mean in s.curve)
        assert dict((tuple(w), m) for w, m in s.curve)[tuple(s.best)] == best
        assert [row.model for row in s.comparison.rows] == [
            f"hybrid-rrf(w={','.join(f'{w:.3g}' for w in s.best)}):fake-bigram+word-overlap", "fake-bigram",
            "word-overlap"]
