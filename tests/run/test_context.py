"""The run context: stores opened per scope and closed with it, a reranker's pair store shared by the run, the one
cost check, notes to the caller."""

from __future__ import annotations

import pytest

from embedlab.embedding.cache import CacheError
from embedlab.errors import EmbedlabError
from embedlab.run.context import RunContext, environment
from embedlab.run.options import RunOptions
from tests.conftest import FakeEncoder
from tests.scorers.test_two_stage import Oracle


def test_stores_close_with_their_scope_and_the_pair_store_with_the_run(tmp_path):
    run = RunOptions(cache=tmp_path / "c.sqlite")
    oracle = Oracle()
    with RunContext(run, batch_size=7) as ctx:
        with ctx.scope() as stores:
            vectors = ctx.vectors(FakeEncoder())
            pairs = ctx.pairs(oracle)
            assert stores == [vectors] and vectors.batch_size == 7 and vectors.cache is not None
        assert closed(vectors.cache) and not closed(pairs.cache)  # the pairs serve every first stage
        with ctx.scope():
            assert ctx.pairs(oracle) is pairs
    assert closed(pairs.cache)


def closed(cache) -> bool:
    try:
        cache.stats()
    except CacheError as exc:
        return "closed database" in str(exc)
    return False


def test_a_ranker_keeps_its_indexes_beside_the_cache(tmp_path):
    class Keeps:
        paid = False

        def keep_indexes(self, folder):
            self.folder = folder

    with RunContext(RunOptions(cache=tmp_path / "c.sqlite")) as ctx:
        assert ctx.ranker(Keeps()).folder == tmp_path / "indexes"
    with RunContext(RunOptions()) as ctx:
        assert ctx.ranker(Keeps()).folder is None  # no cache: nothing kept


def test_the_cost_check_announces_each_row_and_refuses_above_max_cost():
    lines = []
    row = {"model": "api", "to_embed": 10, "cached": 0, "requests": 1, "tokens": 1000, "cost": 0.5, "currency": "USD"}
    with RunContext(RunOptions(announce=lines.append, max_cost=1.0)) as ctx:
        ctx.check_costs([row])
    assert lines == ["estimate: api: 10 texts to embed (0 cached), 1 requests, ~1,000 tokens, ~0.5000 USD"]
    with pytest.raises(EmbedlabError, match="not within --max-cost 0.1; nothing was sent"):
        RunContext(RunOptions(announce=lines.append, max_cost=0.1)).check_costs([row])


def test_notes_go_to_the_callers_announce_else_to_the_log(caplog):
    said = []
    RunContext(RunOptions(announce=said.append)).say("hello")
    RunContext(RunOptions()).say("logged")
    assert said == ["hello"] and "logged" in caplog.text


def test_the_environment_names_the_versions_that_change_numbers():
    env = environment()
    assert {"python", "platform", "numpy", "embedlab"} <= set(env)


def test_a_model_has_one_store_per_scope():
    encoder = FakeEncoder()
    with RunContext() as ctx:
        with ctx.scope():
            first = ctx.vectors(encoder)
            assert ctx.vectors(encoder) is first and ctx.vectors(FakeEncoder()) is not first
        with ctx.scope():
            assert ctx.vectors(encoder) is not first  # a new scope (the next plan) starts afresh
