"""The run plan: every model spec expands up front into its runs (a model, a sweep's parts and weights, a stack's
depths, the reranker alone), checked before any model loads."""

from __future__ import annotations

import pytest

import embedlab
from embedlab.data import load_reranking, load_retrieval
from embedlab.errors import EmbedlabError
from embedlab.models.base import ModelOptions
from embedlab.models.hybrid import Hybrid
from embedlab.run.context import RunContext
from embedlab.run.options import RunOptions
from embedlab.run.plan import (
    DEFAULT_RERANK_DEPTH,
    ModelPlan,
    RerankerPlan,
    StackPlan,
    check_rerank_depths,
    plan_evaluation,
)
from tests.conftest import FakeEncoder
from tests.models.test_hybrid import WordOverlap
from tests.scorers.test_two_stage import Oracle


def test_a_model_a_stack_and_the_reranker_alone(rerank_file, retrieval_dir):
    tasks = [load_reranking(rerank_file), load_retrieval(retrieval_dir)]
    oracle = Oracle()
    plans = plan_evaluation([FakeEncoder(), "bm25"], tasks, ModelOptions(), (oracle, oracle), (2, 5))
    assert [type(p) for p in plans] == [StackPlan, StackPlan, RerankerPlan]
    assert plans[0].depths == [2, 5] and plans[1].label == "bm25"
    only_retrieval = plan_evaluation([FakeEncoder()], tasks[1:], ModelOptions(), (oracle, oracle), (2,))
    assert [type(p) for p in only_retrieval] == [StackPlan]  # no reranking rows: nothing for it alone
    given = plan_evaluation([oracle], tasks, ModelOptions(), (oracle, oracle), (2,))
    assert not any(isinstance(p, RerankerPlan) for p in given)  # the reranker is one of the models


def test_a_stack_plans_a_run_per_depth_on_the_tasks_that_rank_a_corpus(rerank_file, retrieval_dir):
    rows, folder = load_reranking(rerank_file), load_retrieval(retrieval_dir)
    plan = StackPlan(ModelPlan(FakeEncoder(), ModelOptions()), Oracle(), (5, 2))
    with RunContext() as ctx, ctx.scope():
        runs = plan.open(ctx)
    assert [run.kind for run in runs] == ["model", "stage", "stage"]
    assert [run.name for run in runs[1:]] == ["fake-bigram >> oracle@2", "fake-bigram >> oracle@5"]
    assert runs[0].applies(rows) and not runs[1].applies(rows) and runs[1].applies(folder)


def test_a_sweep_plans_its_parts_and_every_weight(retrieval_dir):
    plan = ModelPlan(Hybrid([FakeEncoder(), WordOverlap()], weights="sweep"), ModelOptions())
    assert plan.sweeps()
    with RunContext() as ctx, ctx.scope():
        runs = plan.open(ctx)
    assert [run.kind for run in runs] == ["model"] * 2 + ["weights"] * 11
    assert runs[0].info()["name"] == "fake-bigram" and runs[2].info()["weights"] == [0.0, 1.0]


def test_a_sweep_is_known_from_its_spec_before_any_model_loads():
    assert ModelPlan("hybrid:a+b", ModelOptions(weights="sweep")).sweeps()
    assert not ModelPlan("hybrid:a+b", ModelOptions(weights="0.5,0.5")).sweeps()
    assert not ModelPlan("bm25", ModelOptions()).sweeps()


def test_a_sweep_with_a_reranker_is_refused_before_any_model_loads(rerank_file, retrieval_dir):
    """The bug of issue 23: the sweep's runs went through the stack, which never swept, yet kept the sweep's tag,
    so eval's table hid them; the combination is refused with one line instead."""
    encoder = FakeEncoder()
    with pytest.raises(EmbedlabError, match="--weights sweep chooses weights on the test queries"):
        embedlab.evaluate(Hybrid([encoder, WordOverlap()], weights="sweep"), [retrieval_dir],
                          run=RunOptions(reranker=Oracle(), rerank_depths=(2,)))
    with pytest.raises(EmbedlabError, match="--weights sweep chooses weights"):
        embedlab.evaluate("hybrid:bm25+bm25:char", [retrieval_dir], model=ModelOptions(weights="sweep"),
                          run=RunOptions(reranker=Oracle(), rerank_depths=(2,)))
    assert encoder.calls == []


def test_rerank_depths_are_checked(retrieval_dir):
    task = load_retrieval(retrieval_dir)
    assert check_rerank_depths(Oracle(), (), []) == (DEFAULT_RERANK_DEPTH,)
    assert check_rerank_depths(Oracle(), (2, 5), [task]) == (2, 5)
    assert check_rerank_depths(None, (), [task]) == ()
    with pytest.raises(EmbedlabError, match="--rerank-depth needs a --reranker"):
        check_rerank_depths(None, (5,), [task])
    with pytest.raises(EmbedlabError, match="a depth is a number of documents, 1 or more"):
        check_rerank_depths(Oracle(), (0,), [task])
    with pytest.raises(EmbedlabError, match=f"larger than the corpus of {task.name}"):
        check_rerank_depths(Oracle(), (len(task.corpus) + 1,), [task])
