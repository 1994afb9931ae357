"""`--engine ray` (2 workers, the session's local cluster) against the in-process engine on real data: the same
per-query scores to 1e-6 on xquad_r_zh (reranking, sentence retrieval) and cranfield_en, and the
same mined negatives."""

from __future__ import annotations

import pytest

from embedlab import demo
from embedlab.embedding.engines import EngineOptions
from embedlab.mining import MiningConfig, mine
from embedlab.run.evaluation import RunOptions, evaluate
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.slow

XQUAD, CRANFIELD = SHARED_DATA / "xquad_r_zh", SHARED_DATA / "cranfield_en"


@pytest.fixture(scope="module")
def data():
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is absent")
    return [XQUAD / "reranking" / "test.jsonl", XQUAD / "retrieval_sentence", CRANFIELD / "retrieval"]


def per_query(results):
    return {(t.task, name): values for r in results.runs for t in r.tasks for name, values in t.per_query.items()}


def test_ray_scores_equal_in_process_scores(ray_cluster, data, tmp_path):
    model = demo.default_model()
    local = per_query(evaluate(model, data))
    engine = EngineOptions(workers=2, vectors=tmp_path / "vectors")
    on_ray = evaluate(model, data, run=RunOptions(engine=engine))
    got = per_query(on_ray)
    assert got.keys() == local.keys() and len(got) > 15
    for key, values in local.items():
        assert got[key] == pytest.approx(values, abs=1e-6), key
    assert on_ray.runs[0].embedding["cache_hits"] == 0


def test_ray_mines_the_same_negatives(ray_cluster, data, tmp_path):
    model, config = demo.default_model(), MiningConfig(range_max=50, num_negatives=7)
    mine(data[0], model, tmp_path / "local.jsonl", config=config)
    mine(data[0], model, tmp_path / "ray.jsonl", config=config, run=RunOptions(engine=EngineOptions(workers=2)))
    assert (tmp_path / "ray.jsonl").read_text() == (tmp_path / "local.jsonl").read_text()
