"""The scorer contract: `score(task)` turns a scorer's outputs into a TaskResult scored by the task's type, with the
model's seconds apart from the rest and what the scorer measured merged in; a kind of output a scorer cannot give
is a ModelError naming it."""

from __future__ import annotations

import time

import numpy as np
import pytest

from embedlab.data import load_reranking, load_retrieval
from embedlab.errors import ModelError
from embedlab.scorers.base import Measured, Scorer, Timed
from embedlab.tasks.scoring import score_reranking


class Constant(Scorer):
    name = "constant"

    def __init__(self) -> None:
        self.seconds = 0.0

    @property
    def model_seconds(self) -> float:
        return self.seconds

    def candidate_scores(self, task):
        self.seconds += 0.25
        return np.arange(len(task.texts("document")), dtype=np.float32)[::-1].copy()

    def measured(self, task):
        return Measured(counts={"extra": 3}, timings={"own_ms": 1.5}, per_query={"mine": np.ones(len(task.rows))})


def test_score_is_the_task_types_scoring_with_timings_and_what_was_measured(rerank_file):
    task = load_reranking(rerank_file)
    result = Constant().score(task)
    expected = score_reranking(task, np.arange(len(task.texts("document")), dtype=np.float32)[::-1].copy())
    assert {k: result.per_query[k] for k in expected} == {k: [float(v) for v in vs] for k, vs in expected.items()}
    assert result.scores["v1.map"] == pytest.approx(float(np.mean(expected["v1.map"])))
    assert result.timings["encode_seconds"] == 0.25 and result.timings["own_ms"] == 1.5
    assert result.counts["extra"] == 3 and result.counts["rows"] == len(task.rows)
    assert result.scores["mine"] == 1.0 and result.main_score == "v1.map" and result.data_hash == task.fingerprint()


def test_what_a_scorer_cannot_give_is_one_clear_error(retrieval_dir, rerank_file):
    with pytest.raises(ModelError, match="'constant' cannot rank a corpus"):
        Constant().score(load_retrieval(retrieval_dir))
    with pytest.raises(ModelError, match="'model' cannot score reranking rows"):
        Scorer().score(load_reranking(rerank_file))


def test_timed_counts_the_seconds_inside_the_models_calls():
    class Model:
        name = "slow"

    timed = Timed(Model())
    assert timed.call(lambda x: time.sleep(0.02) or x + 1, 1) == 2
    assert timed.model_seconds >= 0.02 and timed.stats() == {"model_seconds": round(timed.model_seconds, 4)}
    with pytest.raises(ValueError):
        timed.call(lambda: (_ for _ in ()).throw(ValueError("x")))
    assert timed.model_seconds >= 0.02  # a failing call's time is counted too
