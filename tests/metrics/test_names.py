"""Metric and score names as users type them, parsed in one place."""

from __future__ import annotations

import pytest

from embedlab.errors import UnknownNameError
from embedlab.metrics.names import DEFAULT_K, MEASURES, Metric, all_metrics, parse_metric, score_name, score_range


@pytest.mark.parametrize("text,metric", [("nDCG@10", Metric("ndcg", 10)), ("P@5", Metric("precision", 5)),
                                         ("success@3", Metric("hit_rate", 3)), (" map_cut@1000 ", Metric("map", 1000)),
                                         ("RR@10", Metric("mrr", 10))])
def test_metric_names_and_aliases(text, metric):
    assert parse_metric(text) == metric and str(metric) == f"{metric.measure}@{metric.k}"


@pytest.mark.parametrize("text,match", [("ndgc@10", "did you mean 'ndcg'"), ("ndcg", "metric cutoff"),
                                        ("ndcg@0", "metric cutoff"), ("ndcg@x", "metric cutoff")])
def test_bad_metric_names_say_what_is_known(text, match):
    with pytest.raises(UnknownNameError, match=match):
        parse_metric(text)


def test_all_metrics_cover_every_measure_at_every_cutoff():
    metrics = all_metrics()
    assert len(metrics) == len(MEASURES) * len(DEFAULT_K) and Metric("ndcg", 10) in metrics


def test_score_names_normalise_both_semantics_and_reject_others():
    assert score_name("NDCG@10") == "ndcg@10"
    assert score_name("v2.MAP@1000") == "v2.map@1000"
    assert score_name("V1.MRR@10") == "v1.mrr@10" and score_name("v1.map") == "v1.map"
    with pytest.raises(UnknownNameError, match="score prefix 'v3'"):
        score_name("v3.map@10")


@pytest.mark.parametrize("name, expected", [
    ("ndcg@10", (0, 1)), ("v1.map", (0, 1)), ("v2.map@1000", (0, 1)), ("recall@100", (0, 1)), ("v1.mrr@10", (0, 1)),
    ("span_iou@5", (0, 1)), ("neighbour_recall@10", (0, 1)), ("context_tokens@5", (0, float("inf"))),
    ("answer_rank", (0, float("inf"))), ("something_new", (float("-inf"), float("inf")))])
def test_each_score_has_the_range_its_values_can_take(name, expected):
    assert score_range(name) == expected
