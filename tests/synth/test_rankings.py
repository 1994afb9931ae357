import numpy as np
import pytest
import scipy.stats

from embedlab.synth.rankings import average_ranks, kendall_tau, spearman


def test_tau_b_and_rho_equal_scipy_with_and_without_ties():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, size=(200, 6)).astype(float)  # many ties
    y = rng.integers(0, 4, size=(200, 6)).astype(float)
    x[:50] = rng.normal(size=(50, 6))
    taus, rhos = kendall_tau(x, y), spearman(x, y)
    for row in range(len(x)):
        expected_tau = scipy.stats.kendalltau(x[row], y[row]).statistic
        expected_rho = scipy.stats.spearmanr(x[row], y[row]).statistic
        if np.isnan(expected_tau):
            assert np.isnan(taus[row])
        else:
            assert taus[row] == pytest.approx(expected_tau, abs=1e-9)
        if np.isnan(expected_rho):
            assert np.isnan(rhos[row])
        else:
            assert rhos[row] == pytest.approx(expected_rho, abs=1e-9)


def test_average_ranks_equal_scipy():
    x = np.array([[3.0, 1.0, 3.0, 2.0], [5.0, 5.0, 5.0, 5.0]])
    assert average_ranks(x).tolist() == [scipy.stats.rankdata(row).tolist() for row in x]


def test_identical_and_reversed_rankings():
    x = np.array([0.1, 0.5, 0.3, 0.9])
    assert kendall_tau(x, x)[0] == pytest.approx(1.0) and spearman(x, -x)[0] == pytest.approx(-1.0)
    assert np.isnan(kendall_tau(np.ones(4), x)[0])  # one side all tied: undefined, as scipy says
