"""CurveEvaluator on a tiny random BERT: each call is a curve point scored by `evaluate`'s code."""

import pytest

from embedlab import evaluate
from embedlab.demo import RERANKING
from embedlab.finetune.evaluator import CurveEvaluator
from embedlab.models import ModelOptions
from embedlab.results.curve import Curve
from embedlab.run.evaluation import load_tasks


def test_points_scores_health_and_the_metrics_the_trainer_reads(tiny_model, tmp_path):
    from embedlab.models.sentence_transformers import load_sentence_transformer

    task = load_tasks(RERANKING, expect="reranking")[0]
    curve = Curve("test/v1.map", {"test": {"main": "v1.map", "role": "test"}}, path=tmp_path / "curve.json")
    notes = []
    evaluator = CurveEvaluator({"test": task}, curve, options=ModelOptions(device="cpu"), announce=notes.append)
    model = load_sentence_transformer(str(tiny_model), "cpu")
    metrics = evaluator(model, epoch=-1, steps=0)
    evaluator(model, epoch=0.5, steps=3)
    assert evaluator.primary_metric == "test_v1.map" and metrics["test_v1.map"] == curve.value(curve.points[0])
    assert {"health_mean_pairwise_cosine", "health_score_spread", "health_effective_rank"} <= set(metrics)
    assert [(p["step"], p["epoch"]) for p in curve.points] == [(0, 0.0), (3, 0.5)]
    assert curve.points[1]["warnings"] == [] and len(curve.points[0]["per_query"]["test"]) == len(task.rows)
    assert notes[1] == f"step 3: test/v1.map {curve.value(curve.points[1]):.4f} (+0.0000 vs base)"
    assert [p["step"] for p in Curve.load(tmp_path / "curve.json").points] == [0, 3]  # saved at each point
    # the same number `embedlab eval` gives for this model
    again = evaluate(str(tiny_model), RERANKING, model=ModelOptions(device="cpu"))
    assert again.runs[0].tasks[0].scores["v1.map"] == pytest.approx(curve.value(curve.points[0]), abs=1e-6)


def test_scoring_a_checkpoint_reports_the_task_and_the_texts_encoded(tiny_model):
    """issue 30, item 8: the progress line said nothing while a checkpoint was scored."""
    from embedlab.finetune.progress import Announcer
    from embedlab.models.sentence_transformers import load_sentence_transformer

    task = load_tasks(RERANKING, expect="reranking")[0]
    curve = Curve("test/v1.map", {"test": {"main": "v1.map", "role": "test"},
                                  "guard": {"main": "v1.map", "role": "guard"}})
    lines, statuses = [], []
    evaluator = CurveEvaluator({"test": task, "guard": task}, curve, options=ModelOptions(device="cpu"),
                               batch_size=16, announce=Announcer(lines.append, statuses.append))
    evaluator(load_sentence_transformer(str(tiny_model), "cpu"), epoch=-1, steps=0)
    total = len({(k, t) for k in ("query", "document") for t in task.texts(k)})
    assert statuses[0] == f"scoring step 0 on test: 0 of {total:,} texts encoded"
    counts = [int(s.split(": ")[1].split(" of ")[0].replace(",", "")) for s in statuses[1:-1]]
    assert counts == sorted(counts) and counts[-1] == total and len(counts) > 2  # batch by batch, each text once
    assert statuses[-1] is None and lines == [f"step 0: test/v1.map {curve.value(curve.points[0]):.4f} (+0.0000 vs base)"]
