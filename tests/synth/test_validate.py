"""Validation: rank correlations with their bootstrap CI, the decisions that flip, each set's difficulty; and the two
evaluate runs behind them."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from embedlab.errors import EmbedlabError
from embedlab.results import ModelRun, Results, TaskResult
from embedlab.results.stats import bootstrap_cis
from embedlab.run.options import RunOptions
from embedlab.synth import FilterSettings, SynthOptions, synthesize, validate, validate_sets
from tests.conftest import FakeEncoder, write_beir

RNG = np.random.default_rng(0)


def _results(task: str, scores: dict[str, np.ndarray], data_hash: str = "sha256:x") -> Results:
    qids = [f"q{i}" for i in range(len(next(iter(scores.values()))))]
    runs = [ModelRun({"name": name, "backend": "test"}, {},
                     [TaskResult(task, "retrieval", "", data_hash, "ndcg@10", {"ndcg@10": float(np.mean(v))}, qids,
                                 {"ndcg@10": list(map(float, v)), "recall@10": list(map(float, v))}, {}, {})],
                     kind="model") for name, v in scores.items()]
    return Results(runs, {}, "", 0)


def _set(levels: dict[str, float], n: int, noise: float = 0.05) -> dict[str, np.ndarray]:
    base = RNG.uniform(0, 0.2, n)
    return {name: np.clip(level + base + noise * RNG.normal(size=n), 0, 1) for name, level in levels.items()}


LEVELS = {"bm25": 0.6, "e5": 0.5, "minilm": 0.3, "hybrid": 0.55, "int8": 0.29}


def test_the_same_ranking_gives_tau_one_and_the_point_is_scipys():
    human, synthetic = _results("human", _set(LEVELS, 300)), _results("synth", _set(LEVELS, 200))
    found = validate_sets(synthetic, human, resamples=500)
    means = {role: [found.__dict__[role].means[s].mean for s in found.systems] for role in ("human", "synthetic")}
    assert found.tau.value == pytest.approx(scipy.stats.kendalltau(means["synthetic"], means["human"]).statistic)
    assert found.spearman.value == pytest.approx(scipy.stats.spearmanr(means["synthetic"], means["human"]).statistic)
    # minilm and int8 are 0.01 apart: the only pair the resamples may swap
    assert found.tau.value == pytest.approx(1.0) and 0.5 < found.tau.low <= found.tau.high == 1.0
    assert not found.flips() and len(found.pairs) == 10 and found.human.best == "bm25"
    assert found.systems == list(LEVELS) and found.synthetic.queries == 200


def test_a_flipped_decision_is_listed_with_both_paired_intervals():
    human = _results("human", _set(LEVELS, 300))
    swapped = dict(LEVELS, e5=0.65)  # e5 beats bm25 and the hybrid on the synthetic set only
    found = validate_sets(_results("synth", _set(swapped, 300)), human, resamples=1000, lexical=["bm25"],
                          dense=["e5", "minilm"])
    flip, other = found.flips()
    assert (other.first, other.second) == ("e5", "hybrid")
    assert (flip.first, flip.second, flip.significant) == ("bm25", "e5", "both")
    assert flip.human.mean > 0 > flip.synthetic.mean and flip.human.low > 0 > flip.synthetic.high
    matrix = np.column_stack([human.runs[i].tasks[0].per_query["ndcg@10"] for i in range(5)])
    (expected,) = bootstrap_cis([matrix[:, 0] - matrix[:, 1]], resamples=1000, seed=0)  # as `compare` computes it
    for interval in (flip.human, found.human.gap):
        assert (interval.mean, interval.low, interval.high) == pytest.approx((expected.mean, expected.low,
                                                                              expected.high), abs=1e-12)
    assert found.synthetic.gap_between == ("bm25", "e5") and found.synthetic.gap.mean < 0
    assert found.tau.value == pytest.approx(0.6) and found.as_dict()["pairs"][0]["flips"] is True  # 8 - 2 of 10


def test_what_cannot_be_compared_is_one_line():
    human = _results("human", _set(LEVELS, 50))
    with pytest.raises(EmbedlabError, match="not evaluated with the same systems .*e5"):
        validate_sets(_results("synth", _set({k: v for k, v in LEVELS.items() if k != "e5"}, 50)), human)
    with pytest.raises(EmbedlabError, match="at least two"):
        validate_sets(_results("s", _set({"bm25": 0.5}, 20)), _results("h", _set({"bm25": 0.5}, 20)))
    with pytest.raises(EmbedlabError, match="no per-query 'map@10'"):
        validate_sets(_results("s", _set(LEVELS, 20)), human, metric="map@10")
    three = validate_sets(_results("s", _set({"a": 0.2, "b": 0.5, "c": 0.7}, 40)),
                          _results("h", _set({"a": 0.2, "b": 0.5, "c": 0.7}, 40)), metric="recall@10", resamples=200)
    assert three.notes and three.synthetic.metric == "recall@10"


def test_validate_runs_evaluate_on_each_set(tmp_path):
    texts = ["Green tea is brewed at eighty degrees. It steeps for two minutes. Milk is never added to it.",
             "Black tea needs boiling water. It steeps for four minutes. Many people add milk and sugar.",
             "Patch the inner tube of a flat tyre. Find the hole with soapy water. Let the glue dry first.",
             "A cactus needs very little water. Water it every few weeks in summer. Never in the winter months."]
    human = write_beir(tmp_path / "human", {f"p{i}": t for i, t in enumerate(texts)},
                       {"h1": "green tea temperature", "h2": "how long black tea", "h3": "flat tyre repair",
                        "h4": "watering a cactus"}, [(f"h{i + 1}", f"p{i}", 1) for i in range(4)])
    synthesize(human, tmp_path / "synth", synth=SynthOptions(filters=FilterSettings(on=())))
    prefixed = FakeEncoder(query_prefix="zz ")
    prefixed.name = "fake-prefixed"
    found, on_synthetic, on_human = validate(tmp_path / "synth", human, ["bm25", FakeEncoder(), prefixed],
                                             run=RunOptions(seed=4), resamples=300)
    assert [r.tasks[0].task for r in on_human.runs] == ["human"] * 3 and len(on_synthetic.runs) == 3
    assert found.human.gap_between[0] == "bm25" and found.human.gap_between[1] in ("fake-bigram", "fake-prefixed")
    assert found.seed == 4 and -1 <= found.tau.value <= 1
