"""Why a model loses: the queries two models differ most on, by hand (which, in which order, first relevant
ranks, grades, snippets), and from results files (saved runs and data found again, or a note why not)."""

from __future__ import annotations

import json
import shutil

import pytest

import embedlab
from embedlab.results import Results
from embedlab.results.compare import compare
from embedlab.results.query_diff import coverage_notes, query_analyses, query_differences, task_data
from embedlab.run.evaluation import RunOptions
from embedlab.tasks.retrieval import RetrievalTask
from tests.conftest import FakeEncoder
from tests.run.test_observers import tied_dir  # noqa: F401 - a fixture

TASK = RetrievalTask(
    "T", {"a": "alpha text", "b": "beta " * 50, "c": "gamma", "d": "delta"},
    {"q1": "first", "q2": "second", "q3": "third", "q4": "fourth", "q5": "fifth"},
    {"q1": {"a": 2, "b": 0}, "q2": {"c": 1}, "q3": {"d": 1}, "q4": {"a": 1}, "q5": {"b": 1}})


def test_the_largest_differences_both_ways_with_both_tops():
    ids = list(TASK.queries)
    a = [1.0, 0.2, 0.5, 0.3, 0.9]
    b = [0.4, 0.8, 0.5, 0.9, 0.9]  # q1 -0.6, q2 +0.6, q3 0, q4 +0.6, q5 0
    ranking_a = {"q1": ["a", "b"], "q2": ["zz", "a", "b", "c"], "q4": ["b", "c", "a"]}
    ranking_b = {"q1": ["b", "c", "d", "a"], "q2": ["c"], "q4": ["a"]}
    diffs = query_differences(ids, a, b, ranking_a, ranking_b, TASK, n=10, top=2, snippet=20)
    assert [d.query_id for d in diffs] == ["q1", "q2", "q4"]  # equal |Δ| in task order; no Δ = 0
    q1, q2, q4 = diffs
    assert q1.delta == pytest.approx(-0.6) and q1.scores == (1.0, 0.4) and q1.query == "first" and q1.relevant == 1
    assert q1.first_relevant == (1, 4) and q2.first_relevant == (4, 1) and q4.first_relevant == (3, 1)
    assert [(d.doc_id, d.grade, d.relevant) for d in q1.top[0]] == [("a", 2, True), ("b", 0, False)]
    assert [d.doc_id for d in q1.top[1]] == ["b", "c"] and q1.top[1][1].grade is None
    assert q1.top[1][0].snippet == "beta beta beta beta…" and len(q1.top[1][0].snippet) == 20
    assert q2.top[0][0].doc_id == "zz" and q2.top[0][0].snippet is None  # not in the corpus
    assert [d.query_id for d in query_differences(ids, a, b, ranking_a, ranking_b, TASK, n=1)] == ["q1"]


def test_a_query_missing_from_a_run_has_an_empty_top():
    diffs = query_differences(["q2"], [0.0], [1.0], {}, {"q2": ["c"]}, TASK)
    assert diffs[0].top[0] == [] and diffs[0].first_relevant == (None, 1)


def _saved(folder, tmp_path, **run):
    results = embedlab.evaluate([FakeEncoder(), "bm25"], [folder], run=RunOptions(save_run=tmp_path / "runs", **run))
    path = tmp_path / "r.json"
    results.to_json(path)
    return Results.from_json(path)


def test_from_results_files(tied_dir, tmp_path):  # noqa: F811
    results = _saved(tied_dir, tmp_path)
    analyses, notes = query_analyses([results], compare(results), n=5)
    assert notes == [] and len(analyses) == 1
    analysis = analyses[0]
    assert analysis.models == ("fake-bigram", "bm25") and analysis.metric == "ndcg@10" and analysis.of == 3
    per_query = {r.model["name"]: r.tasks[0].per_query["ndcg@10"] for r in results.runs}
    deltas = [b - a for a, b in zip(per_query["fake-bigram"], per_query["bm25"])]
    assert [q.delta for q in analysis.queries] == sorted([d for d in deltas if d], key=abs, reverse=True)
    assert analysis.wins == sum(d > 0 for d in deltas) and analysis.losses == sum(d < 0 for d in deltas)


def test_moved_or_changed_data_and_runs_are_notes(tied_dir, tmp_path):  # noqa: F811
    results = _saved(tied_dir, tmp_path)
    comparisons = compare(results)
    (tmp_path / "runs" / "tied" / "bm25.trec").unlink()
    analyses, notes = query_analyses([results], comparisons)
    assert analyses == [] and len(notes) == 1 and "the saved run of bm25 cannot be read" in notes[0]
    shutil.move(tied_dir, tmp_path / "moved")
    analyses, notes = query_analyses([results], comparisons)
    assert analyses == [] and notes == [f"tied: queries not shown, its data is not at {tied_dir} any more"]
    shutil.move(tmp_path / "moved", tied_dir)
    with open(tied_dir / "queries.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"_id": "q9", "text": "new"}) + "\n")
    (tied_dir / "qrels.tsv").write_text((tied_dir / "qrels.tsv").read_text() + "q9\td1\t1\n")
    assert "is not the data scored" in task_data(results.runs[0].tasks[0])[1]


def test_a_model_without_a_saved_run_is_a_note_and_none_at_all_is_silent(tied_dir, tmp_path):  # noqa: F811
    saved = _saved(tied_dir, tmp_path)
    plain = embedlab.evaluate(FakeEncoder("query: "), [tied_dir])
    plain.runs[0].model["name"] = "other"
    analyses, notes = query_analyses([saved, plain], compare([saved, plain]))
    assert len(analyses) == 1 and notes == ["tied: no saved run for other (evaluate with --save-run DIR to see its queries)"]
    assert query_analyses([plain], compare(plain)) == ([], [])


def test_a_sampled_run_finds_its_sample_again(tied_dir, tmp_path):  # noqa: F811
    results = _saved(tied_dir, tmp_path, sample=2, seed=3)
    task, note = task_data(results.runs[0].tasks[0])
    assert note is None and list(task.queries) == results.runs[0].tasks[0].query_ids


def test_coverage_notes(tmp_path, tied_dir):  # noqa: F811
    path = tmp_path / "prod.trec"
    path.write_text("q1 Q0 d1 1 3 es\nq1 Q0 gone 2 2 es\nq2 Q0 d3 1 1 es\n", encoding="utf-8")
    results = embedlab.evaluate([f"run:{path}", FakeEncoder()], [tied_dir])
    assert coverage_notes(results) == [
        f"run:{path} on tied: 1 of 3 queries are not in the run (they score 0)",
        f"run:{path} on tied: 1 ranked documents are not in the corpus (each counts as not relevant at its rank, "
        "as in trec_eval)"]


def test_a_saved_run_replaced_by_a_later_eval_is_a_note_not_its_ranking(tied_dir, tmp_path):  # noqa: F811
    """The README's promise: a run that changed since the results were written is a note and no section (issue 24,
    item 9: the later eval's ranking was shown under the earlier scores)."""
    results = _saved(tied_dir, tmp_path)
    embedlab.evaluate(FakeEncoder("query: "), [tied_dir], run=RunOptions(save_run=tmp_path / "runs"))  # same name
    analyses, notes = query_analyses([results], compare(results))
    path = results.runs[0].model["saved_runs"]["tied"]
    assert analyses == [] and notes == [f"tied: the saved run of fake-bigram at {path} was replaced after these "
                                        "results were written (by a later eval?): its queries are not shown"]


def test_data_given_by_a_relative_path_is_found_from_another_directory(tied_dir, tmp_path, monkeypatch):  # noqa: F811
    """Issue 24, item 21: results recorded the relative path only, so `compare --queries` run from another folder
    said the data had moved."""
    monkeypatch.chdir(tied_dir.parent)
    results = embedlab.evaluate([FakeEncoder(), "bm25"], [tied_dir.name], run=RunOptions(save_run="runs"))
    result = results.runs[0].tasks[0]
    assert result.source == tied_dir.name and result.source_absolute == str(tied_dir)
    assert results.runs[0].model["saved_runs"]["tied"] == str(tied_dir.parent / "runs" / "tied" / "fake-bigram.trec")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    task, note = task_data(result)
    assert note is None and list(task.queries) == result.query_ids
    analyses, notes = query_analyses([results], compare(results))
    assert notes == [] and len(analyses) == 1
