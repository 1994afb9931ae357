"""Sweep summaries from results alone: the best weights and their CI, the paired tests against each sub-model
(Holm), ties to the least tuned weights, and the note when equal weights do worse than the best sub-model."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.results import ModelRun, Results, TaskResult
from embedlab.results.sweep import fusion_notes, is_sweep_point, sub_model_runs, sweep_summaries

SUBS = [{"name": "org/dense", "backend": "SentenceTransformerEncoder"}, {"name": "bm25", "backend": "BM25"}]


def task(values, name="t") -> TaskResult:
    values = [float(v) for v in values]
    return TaskResult(task=name, type="retrieval", source="x", data_hash="h" * 20, main_score="ndcg@10",
                      scores={"ndcg@10": float(np.mean(values))}, query_ids=[f"q{i}" for i in range(len(values))],
                      per_query={"ndcg@10": values}, counts={}, timings={})


def hybrid(weights, values, *, sweep=True) -> ModelRun:
    name = f"hybrid-rrf(w={','.join(f'{w:.3g}' for w in weights)}):org/dense+bm25" if sweep else \
        "hybrid-rrf:org/dense+bm25"
    model = {"name": name, "backend": "Hybrid", "dimension": None, "fusion": "rrf", "rrf_k": 60,
             "weights": list(weights), "fusion_depth": "max(100, evaluation depth)", "models": SUBS}
    if sweep:
        model["sweep"] = {"of": "hybrid-rrf:org/dense+bm25", "weights": 3}
    return ModelRun(model, {}, [task(values)])


@pytest.fixture
def swept() -> Results:
    rng = np.random.default_rng(0)
    dense = np.clip(0.6 + rng.normal(0, 0.05, 60), 0, 1)
    bm25 = np.clip(0.3 + rng.normal(0, 0.05, 60), 0, 1)
    runs = [ModelRun(dict(SUBS[0]), {}, [task(dense)]), ModelRun(dict(SUBS[1]), {}, [task(bm25)]),
            hybrid((0.0, 1.0), bm25), hybrid((0.5, 0.5), dense - 0.1), hybrid((1.0, 0.0), dense + 0.05)]
    return Results(runs)


def test_the_best_weights_beat_each_sub_model_and_equal_weights_are_called_out(swept):
    summary, = sweep_summaries(swept, resamples=2000)
    assert summary.hybrid == "hybrid-rrf:org/dense+bm25" and summary.metric == "ndcg@10"
    assert summary.best == [1.0, 0.0] and [w for w, _ in summary.curve] == [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]]
    best, dense, bm25 = summary.comparison.rows
    assert best.model.startswith("hybrid-rrf(w=1,0)") and best.ci.low < best.mean < best.ci.high
    assert dense.delta.mean == pytest.approx(-0.05) and dense.significant and bm25.significant
    assert dense.p_holm >= dense.p_value  # Holm across the two sub-models
    assert summary.equal.rows[0].model == "org/dense" and summary.equal.rows[1].delta.mean == pytest.approx(-0.1)
    assert summary.note.startswith("t: equal-weight fusion (0.5,0.5) scores ") and "below org/dense alone" in summary.note
    assert "significantly worse): equal weights hurt here" in summary.note
    assert [is_sweep_point(run) for run in swept.runs] == [False, False, True, True, True]


def test_ties_go_to_the_weights_nearest_to_equal_and_no_note_when_equal_weights_do_well(swept):
    values = swept.runs[0].tasks[0].per_query["ndcg@10"]
    swept.runs[2:] = [hybrid((0.0, 1.0), values), hybrid((0.5, 0.5), values), hybrid((1.0, 0.0), values)]
    summary, = sweep_summaries(swept, resamples=500)
    assert summary.best == [0.5, 0.5] and summary.note is None


def test_sub_models_are_found_by_name_the_closest_before(swept):
    later = ModelRun(dict(SUBS[1], usage={"requests": 1}), {}, [task(np.zeros(60))])
    runs = [*swept.runs, later]
    assert sub_model_runs(runs, runs[3]) == runs[:2]
    assert sub_model_runs(runs[2:], runs[3]) == [later]  # after it, when there is none before
    assert sweep_summaries(Results(runs[2:] + [runs[0]]), resamples=200)[0].comparison.rows[1].model == "org/dense"


def test_a_plain_equal_weight_hybrid_next_to_its_sub_models_gets_the_note(swept):
    plain = hybrid((0.5, 0.5), swept.runs[3].tasks[0].per_query["ndcg@10"], sweep=False)
    notes = fusion_notes(Results([*swept.runs[:2], plain]), resamples=500)
    assert len(notes) == 1 and "equal weights hurt here" in notes[0]
    assert fusion_notes(Results([plain])) == [] and sweep_summaries(Results([plain])) == []
    assert fusion_notes(swept) == []  # a sweep says it in its summary


def test_each_weights_saved_run_does_not_split_the_sweep(swept):
    """`--weights sweep --save-run DIR` records a run file per weight; the sweep is still one (issue 30, item 1)."""
    for number, run in enumerate(swept.runs):
        run.model["saved_runs"] = {"t": f"runs/t/run-{number}.trec"}
    summaries = sweep_summaries(swept, resamples=200)
    assert len(summaries) == 1 and len(summaries[0].curve) == 3


def test_a_run_built_without_its_kind_gets_it_from_its_info(swept):
    assert [run.kind for run in swept.runs] == ["model", "model", "weights", "weights", "weights"]
    assert ModelRun({"name": "x", "backend": "two-stage"}, {}, []).kind == "stage"
    assert ModelRun({"name": "x", "deploy": {"of": "m"}}, {}, []).kind == "variant"
    assert ModelRun({"name": "x", "deploy": {"of": "m"}}, {}, [], kind="model").kind == "model"  # as recorded


def test_the_equal_weight_note_follows_the_test_and_suggests_no_sweep_inside_one(swept):
    """issue 30, item 6: "equal weights hurt here; try --weights sweep" was printed inside a sweep, and when the
    difference was not significant."""
    summary, = sweep_summaries(swept, resamples=500)
    assert summary.note.endswith("significantly worse): equal weights hurt here")  # a sweep: no advice to sweep
    plain = hybrid((0.5, 0.5), swept.runs[3].tasks[0].per_query["ndcg@10"], sweep=False)
    note, = fusion_notes(Results([*swept.runs[:2], plain]), resamples=500)
    assert note.endswith("significantly worse): equal weights hurt here; try --weights sweep")
    dense = np.asarray(swept.runs[0].tasks[0].per_query["ndcg@10"])
    noise = np.random.default_rng(3).normal(0, 0.05, len(dense))
    close = hybrid((0.5, 0.5), dense - 0.002 + noise, sweep=False)  # lower, within the noise
    note, = fusion_notes(Results([*swept.runs[:2], close]), resamples=500)
    assert "not significantly worse, p=" in note and "hurt" not in note
    assert note.endswith("equal weights bring no gain here, and the loss is not significant; --weights sweep tries "
                         "other weights")
    swept.runs[3] = hybrid((0.5, 0.5), dense - 0.002 + noise)
    summary, = sweep_summaries(swept, resamples=500)
    assert summary.note.endswith("the loss is not significant") and "sweep" not in summary.note
