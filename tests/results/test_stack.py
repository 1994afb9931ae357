"""The stack view's rows come from the results alone (model info and per-query scores), also after a JSON
round trip: each first stage, then its two-stage runs by depth, with the ceiling and the paired gain."""

from __future__ import annotations

import numpy as np
import pytest

import embedlab
from embedlab.results.results import Results
from embedlab.results.stack import stack_rows
from embedlab.run.evaluation import RunOptions
from tests.conftest import FakeEncoder
from tests.scorers.test_two_stage import ListRanker, Oracle


@pytest.fixture
def stacked(retrieval_dir, rerank_file):
    return embedlab.evaluate([FakeEncoder(), ListRanker(["d6", "d5", "d3", "d2", "d4"])], [rerank_file, retrieval_dir],
                             run=RunOptions(reranker=Oracle(), rerank_depths=(5, 3)))


def test_rows_per_first_stage_then_depth(stacked):
    rows = stack_rows(stacked)
    assert [(r.first_stage, r.reranker, r.depth) for r in rows] == [
        ("fake-bigram", None, None), ("fake-bigram", "oracle", 3), ("fake-bigram", "oracle", 5),
        ("list-ranker", None, None), ("list-ranker", "oracle", 3), ("list-ranker", "oracle", 5)]
    assert {r.task for r in rows} == {"beir"}  # reranking rows have no stack
    first, deep = rows[3], rows[5]
    runs = {run.model["name"]: run for run in stacked.runs}
    before = np.asarray(runs["list-ranker"].tasks[1].per_query["ndcg@10"])
    after = np.asarray(runs["list-ranker >> oracle@5"].tasks[0].per_query["ndcg@10"])
    assert deep.gain.mean == pytest.approx(float((after - before).mean()))
    assert deep.gain.low <= deep.gain.mean <= deep.gain.high
    assert deep.first_recall == pytest.approx(runs["list-ranker"].tasks[1].scores["recall@5"])
    assert first.gain is None and first.first_recall is None and first.ms_per_query is None
    assert deep.scores["ndcg@10"] == pytest.approx(after.mean()) and deep.ms_per_query >= 0
    assert deep.tokens_per_query is None  # a local reranker bills nothing


def test_rows_survive_a_json_round_trip(stacked):
    again = stack_rows(Results.from_json(stacked.to_json()))
    assert [(r.model, r.scores, r.first_recall, r.gain) for r in again] == \
        [(r.model, r.scores, r.first_recall, r.gain) for r in stack_rows(stacked)]


def test_tokens_per_query_scale_the_measured_rate_to_the_depth(stacked):
    staged = next(run for run in stacked.runs if run.model["name"] == "fake-bigram >> oracle@5")
    staged.tasks[0].counts.update(rerank_pairs=15, rerank_pairs_scored=5, rerank_tokens_billed=100)
    row = next(r for r in stack_rows(stacked) if r.model == "fake-bigram >> oracle@5")
    assert row.tokens_per_query == pytest.approx(100 / 5 * 15 / 3)


def test_no_two_stage_runs_no_rows(retrieval_dir):
    assert stack_rows(embedlab.evaluate(FakeEncoder(), [retrieval_dir])) == []
