"""The same run read twice is one run (issue 30, item 5): `report a.json b.json` where both hold the same models
showed them as `[run 1]` / `[run 2]` and added the copies to the Holm correction (e5 vs BM25: p=0.036 in `compare`,
0.398 in `report`)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from embedlab.results import ModelRun, Results, TaskResult
from embedlab.results.compare import compare, named_runs
from embedlab.results.duplicates import merge_duplicates, same_run


def task(values, name="t", data_hash="h" * 20) -> TaskResult:
    values = [float(v) for v in values]
    return TaskResult(task=name, type="retrieval", source="x", data_hash=data_hash, main_score="ndcg@10",
                      scores={"ndcg@10": float(np.mean(values))}, query_ids=[f"q{i}" for i in range(len(values))],
                      per_query={"ndcg@10": values}, counts={}, timings={})


def results(created="2026-12-01T10:00:00+00:00", **usage) -> Results:
    rng = np.random.default_rng(0)
    base = rng.uniform(0.3, 0.9, 80)
    runs = [ModelRun({"name": "bm25", "backend": "BM25"}, {}, [task(base)]),
            ModelRun({"name": "openai:e5", "backend": "OpenAICompatibleEncoder", "usage": usage or {"requests": 9}},
                     {}, [task(np.clip(base + 0.03 + rng.normal(0, 0.1, 80), 0, 1))]),
            ModelRun({"name": "/site/minilm/model", "backend": "SentenceTransformerEncoder"}, {},
                     [task(np.clip(base - 0.2 + rng.normal(0, 0.1, 80), 0, 1))])]
    return Results(runs, {"torch": "2.13.0"}, created)


def test_runs_both_files_hold_are_counted_once_and_compare_agrees_with_one_file():
    a, b = results(), results("2026-12-02T09:30:00+00:00", requests=0)  # b: a cached re-run, nothing billed
    alone = compare([a], resamples=2000)[0]
    both = compare([a, b], resamples=2000)[0]
    assert [r.model for r in both.rows] == ["bm25", "openai:e5", "minilm/model"]
    assert [r.p_holm for r in both.rows] == [r.p_holm for r in alone.rows]  # the same Holm correction
    merged, notes = merge_duplicates([a, b], ["a.json", "b.json"])
    assert [len(r.runs) for r in merged] == [3, 0]
    assert notes == ["a.json and b.json both hold 3 run(s) with the same model, settings, data and per-query scores "
                     "(bm25, openai:e5, minilm/model): each is counted once"]
    assert merge_duplicates([a, a], ["a.json", "a.json"])[1] == [
        "a.json is given twice: its 3 run(s) (bm25, openai:e5, minilm/model) are counted once"]
    assert merge_duplicates(merged)[1] == []  # merging is idempotent


def test_runs_that_differ_stay_apart_named_by_what_differs():
    a, b = results(), results("2026-12-02T09:30:00+00:00")
    b.runs[1].tasks[0].per_query["ndcg@10"][0] += 0.01  # the API answered slightly differently
    b.runs[2].model["max_length"] = 128
    assert not same_run(a.runs[1], b.runs[1]) and same_run(a.runs[0], b.runs[0])
    assert list(named_runs([a, b])) == ["bm25", "openai:e5 [evaluated 2026-12-01 10:00]", "minilm/model [max_length=null]",
                                       "openai:e5 [evaluated 2026-12-02 09:30]", "minilm/model [max_length=128]"]
    b.environment["torch"] = "2.14.0"
    assert "openai:e5 [torch=2.14.0]" in named_runs([a, b])  # package versions before dates
    c = results()
    c.runs[1].tasks[0].per_query["ndcg@10"][0] += 0.01
    assert "openai:e5 [run 2]" in named_runs([a, c])  # nothing tells them apart but their order


def test_a_copy_brings_the_tasks_the_first_lacks_and_the_inputs_are_left_alone():
    a, b = results(), results()
    for run in b.runs:
        run.tasks.append(task(run.tasks[0].per_query["ndcg@10"], name="other"))
    before = copy.deepcopy(a)
    merged, _ = merge_duplicates([a, b])
    assert [[t.task for t in run.tasks] for run in merged[0].runs] == [["t", "other"]] * 3
    assert a == before
    other = task(np.zeros(80), data_hash="g" * 20)
    b.runs[0].tasks[0] = other  # the same task on other data: not the same run
    assert not same_run(a.runs[0], b.runs[0])


def test_the_report_says_it_and_counts_each_run_once():
    pytest.importorskip("matplotlib")
    from embedlab.report.page import build

    _, markdown = build([results(), results()], queries=0)
    assert "note: results 1 and results 2 both hold 3 run(s)" in markdown
    assert "[run" not in markdown and markdown.count("| bm25 |") == 1
