"""A results file is checked when it is read: its structure, and numbers that can be the scores they claim to be
(issue 24, items 10 and 20: a main score edited to 42 ranked first and was exported; `scores: null`, a short
per-query list or an unknown run kind were tracebacks)."""

from __future__ import annotations

import copy
import json

import pytest

import embedlab
from embedlab.demo import RERANKING, RETRIEVAL
from embedlab.errors import DataError
from embedlab.results.results import Results
from embedlab.results.schema import damage
from tests.conftest import FakeEncoder


@pytest.fixture(scope="module")
def written() -> dict:
    results = embedlab.evaluate(FakeEncoder(), [RERANKING, RETRIEVAL], run=embedlab.RunOptions(sample=8, seed=1))
    return json.loads(results.to_json())


def _edit(data: dict, where: str, value) -> dict:
    """A copy of `data` with the value at a dotted path ('runs.0.tasks.1.scores.ndcg@10') replaced (or removed)."""
    data = copy.deepcopy(data)
    *path, last = where.split(".")
    node = data
    for key in path:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is _REMOVE:
        del node[last]
    else:
        node[int(last) if isinstance(node, list) else last] = value
    return data


_REMOVE = object()
R = "runs.0.tasks.1"  # the retrieval task


def test_what_embedlab_writes_passes(written):
    assert damage(written) is None
    assert Results.from_dict(written).runs[0].tasks[1].scores == written["runs"][0]["tasks"][1]["scores"]


@pytest.mark.parametrize("where, value, words", [
    (f"{R}.scores.ndcg@10", 42, "runs[0].tasks[1].scores['ndcg@10'] is 42, outside 0..1"),
    (f"{R}.scores.ndcg@10", float("nan"), "scores['ndcg@10'] is nan, outside 0..1"),
    (f"{R}.scores.ndcg@10", float("inf"), "is inf, outside 0..1"),
    (f"{R}.scores.ndcg@10", -5, "is -5, outside 0..1"),
    (f"{R}.scores.ndcg@10", "0.5", "scores['ndcg@10'] is '0.5', outside 0..1"),
    (f"{R}.scores.ndcg@10", 0.999, "scores['ndcg@10'] is 0.999, not the mean of its per-query scores"),
    (f"{R}.per_query.ndcg@10.0", 1.5, "per_query['ndcg@10'][0] is 1.5, outside 0..1"),
    (f"{R}.per_query.ndcg@10.0", None, "per_query['ndcg@10'][0] is null, not a number"),
    (f"{R}.per_query.ndcg@10", "0.5", "per_query['ndcg@10'] is text, not a list of numbers"),
    (f"{R}.query_ids.0", 7, "query_ids holds something that is not text"),
    (f"{R}.query_ids", ["q"], "per_query['ndcg@1'] has 8 scores for 1 query ids"),
    (f"{R}.scores", None, "runs[0].tasks[1].scores is null, not an object"),
    (f"{R}.per_query", [], "per_query is a list, not an object"),
    (f"{R}.main_score", "ndcg@11", "the main score 'ndcg@11' is not among its scores"),
    (f"{R}.type", "classification", "type 'classification' is not one of reranking, retrieval"),
    (f"{R}.counts.queries", "many", "counts['queries'] is text, not a number"),
    (f"{R}.sample.n", "8", "sample.n is '8', not a whole number"),
    (f"{R}.sample.corpus", "half", "sample.corpus is 'half'"),
    (f"{R}.extra", 1, "has an unknown field 'extra'"),
    (f"{R}.task", _REMOVE, "runs[0].tasks[1].task is null, not text"),
    ("runs.0.kind", "ensemble", "runs[0].kind 'ensemble' is not one of model, weights"),
    ("runs.0.model", "m", "runs[0].model is text, not an object"),
    ("runs.0.model.name", None, "runs[0].model.name is null, not text"),
    ("runs.0.tasks", {}, "runs[0].tasks is an object, not a list"),
    ("runs.0", "run", "runs[0] is text, not an object"),
    ("seed", "1", "'seed' is text, not a whole number"),
    ("failures", [1], "'failures' holds something that is not an object"),
])
def test_a_damaged_or_edited_file_is_one_line_naming_the_place(written, tmp_path, where, value, words):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_edit(written, where, value)), encoding="utf-8")
    with pytest.raises(DataError) as error:
        Results.from_json(path)
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{path}: a damaged results file (") and words in message, message
