"""embedlab's vectorised ranking metrics against pytrec_eval on the same runs, to 1e-9."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.errors import UnknownNameError
from embedlab.metrics import all_metrics, ideal_matrix, parse_metric, ranking_metrics

pytrec_eval = pytest.importorskip("pytrec_eval")

K_VALUES = (1, 3, 5, 10, 20, 100, 1000)
PYTREC_NAME = {"ndcg": "ndcg_cut_{k}", "map": "map_cut_{k}", "recall": "recall_{k}",
               "precision": "P_{k}", "hit_rate": "success_{k}"}


def random_case(seed: int, n_queries: int = 60, n_docs: int = 300, depth: int = 150):
    rng = np.random.default_rng(seed)
    qrels, run = {}, {}
    for q in range(n_queries):
        qid = f"q{q}"
        judged = rng.choice(n_docs, size=rng.integers(1, 12), replace=False)
        grades = rng.integers(0, 4, size=len(judged))
        if q % 7 == 0:
            grades[:] = 0  # only non-relevant judgments: measures divided by R must be 0
        qrels[qid] = {f"d{d:04d}": int(g) for d, g in zip(judged, grades)}
        retrieved = rng.choice(n_docs, size=rng.integers(1, depth), replace=False)
        scores = np.round(rng.random(len(retrieved)), 1 if q % 3 == 0 else 6)  # many ties on some
        run[qid] = {f"d{d:04d}": float(s) for d, s in zip(retrieved, scores)}
    return qrels, run


def embedlab_from_dicts(qrels, run, metrics):
    """Rank each run by (score desc, doc id desc), as trec_eval does, then score with embedlab."""
    qids = sorted(run)
    depth = max(len(run[q]) for q in qids)
    gains = np.zeros((len(qids), depth))
    for row, qid in enumerate(qids):
        ranked = sorted(run[qid].items(), key=lambda item: (item[1], item[0]), reverse=True)
        gains[row, : len(ranked)] = [qrels[qid].get(d, 0) for d, _ in ranked]
    n_rel = np.array([sum(g >= 1 for g in qrels[q].values()) for q in qids])
    ideal = ideal_matrix([list(qrels[q].values()) for q in qids])
    return qids, ranking_metrics(gains, n_rel, ideal, metrics)


def mteb_mrr(qrels, run, k):
    """mteb 2.x's own MRR@k loop (retrieval_metrics.mrr), the reference for our mrr."""
    values = []
    for qid, docs in run.items():
        top = sorted(docs.items(), key=lambda item: (item[1], item[0]), reverse=True)[:k]
        relevant = {d for d, g in qrels[qid].items() if g > 0}
        values.append(next((1.0 / (r + 1) for r, (d, _) in enumerate(top) if d in relevant), 0.0))
    return values


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_measure_matches_pytrec_eval(seed):
    qrels, run = random_case(seed)
    measures = {f"{name}." + ",".join(map(str, K_VALUES))
                for name in ("ndcg_cut", "map_cut", "recall", "P", "success")}
    reference = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    qids, ours = embedlab_from_dicts(qrels, run, all_metrics(K_VALUES))
    checked = 0
    for metric in all_metrics(K_VALUES):
        if metric.measure == "mrr":
            expected = mteb_mrr(qrels, {q: run[q] for q in qids}, metric.k)
        else:
            key = PYTREC_NAME[metric.measure].format(k=metric.k)
            expected = [reference[q][key] for q in qids]
        np.testing.assert_allclose(ours[str(metric)], expected, rtol=0, atol=1e-9, err_msg=str(metric))
        checked += 1
    assert checked == 6 * len(K_VALUES)


def test_ties_are_broken_by_descending_doc_id_like_trec_eval():
    qrels = {"q": {"a": 1, "b": 0, "c": 0}}
    run = {"q": {"a": 0.5, "b": 0.5, "c": 0.5}}  # all tied: trec_eval ranks c, b, a
    reference = pytrec_eval.RelevanceEvaluator(qrels, {"P.1", "recip_rank"}).evaluate(run)["q"]
    _, ours = embedlab_from_dicts(qrels, run, [parse_metric("p@1"), parse_metric("mrr@10")])
    assert reference["P_1"] == ours["precision@1"][0] == 0.0
    assert reference["recip_rank"] == pytest.approx(ours["mrr@10"][0]) == pytest.approx(1 / 3)


def test_metric_names_parse_and_fail_helpfully():
    assert str(parse_metric("nDCG@10")) == "ndcg@10"
    assert str(parse_metric("P@5")) == "precision@5"
    with pytest.raises(UnknownNameError, match="did you mean 'ndcg'"):
        parse_metric("ndgc@10")
    with pytest.raises(UnknownNameError, match="cutoff"):
        parse_metric("ndcg")
