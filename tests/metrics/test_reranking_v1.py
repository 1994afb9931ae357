"""C-MTEB v1 reranking metrics against sklearn (AP) and the mteb 1.x MRR loop."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.metrics import average_precision, mrr_at_k

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def pad(rows):
    width = max(len(s) for s, _ in rows)
    scores = np.full((len(rows), width), -np.inf)
    relevant = np.zeros((len(rows), width), dtype=bool)
    valid = np.zeros((len(rows), width), dtype=bool)
    for i, (s, r) in enumerate(rows):
        scores[i, : len(s)], relevant[i, : len(r)], valid[i, : len(s)] = s, r, True
    return scores, relevant, valid


def test_known_case_with_a_tie():
    scores, relevant, valid = pad([([.75, .93, .85, .76, .75], [1, 1, 1, 0, 0])])
    assert average_precision(scores, relevant, valid)[0] == pytest.approx(0.8666666666666667, abs=1e-12)


def reference_mrr(scores, relevant, k):
    """mteb 1.x RerankingEvaluator.mrr_at_k_score after a stable descending sort."""
    for rank, index in enumerate(np.argsort(-np.asarray(scores), kind="stable")[:k]):
        if relevant[index]:
            return 1 / (rank + 1)
    return 0.0


@pytest.mark.parametrize("seed", range(4))
def test_random_rows_match_sklearn_and_mteb1(seed):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(200):
        n_pos, n_neg = rng.integers(1, 5), rng.integers(1, 30)
        decimals = 1 if rng.random() < 0.5 else 7  # half the rows full of ties
        s = np.round(rng.random(n_pos + n_neg), decimals)
        rows.append((s, [1] * n_pos + [0] * n_neg))
    scores, relevant, valid = pad(rows)
    ours_ap = average_precision(scores, relevant, valid)
    ours_mrr = mrr_at_k(scores, relevant, valid, 10)
    for i, (s, r) in enumerate(rows):
        assert ours_ap[i] == pytest.approx(sklearn_metrics.average_precision_score(r, s), abs=1e-12)
        assert ours_mrr[i] == pytest.approx(reference_mrr(s, r, 10), abs=1e-12)


def test_float32_scores_and_padding_do_not_leak():
    s = np.array([[0.9, 0.1, -np.inf, -np.inf]], dtype=np.float32)
    rel = np.array([[False, True, True, False]])  # a "relevant" padding cell must be ignored
    valid = np.array([[True, True, False, False]])
    assert average_precision(s, rel, valid)[0] == pytest.approx(0.5)
    assert mrr_at_k(s, rel, valid, 1)[0] == 0.0
