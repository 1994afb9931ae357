import numpy as np
import pytest
import scipy.stats

from embedlab.results.stats import bootstrap_ci, paired_bootstrap_ci


def test_bootstrap_interval_agrees_with_scipy_percentile_bootstrap():
    values = np.random.default_rng(0).beta(2, 3, size=300)
    ours = bootstrap_ci(values, resamples=20_000, seed=1)
    ref = scipy.stats.bootstrap((values,), np.mean, n_resamples=20_000, method="percentile",
                                confidence_level=0.95, random_state=2).confidence_interval
    assert ours.mean == pytest.approx(values.mean())
    assert ours.low == pytest.approx(ref.low, abs=2e-3) and ours.high == pytest.approx(ref.high, abs=2e-3)


def test_paired_interval_is_about_differences():
    rng = np.random.default_rng(0)
    base = rng.uniform(size=200)
    assert paired_bootstrap_ci(base, base).as_dict()["high"] == 0.0
    better = paired_bootstrap_ci(np.clip(base + 0.05 + 0.01 * rng.normal(size=200), 0, 2), base)
    assert 0 < better.low < 0.05 < better.high < 0.06
    # unpaired intervals of the two means overlap, the paired delta is still clearly positive
    assert bootstrap_ci(base).high > bootstrap_ci(base + 0.05).low
    with pytest.raises(ValueError, match="same queries"):
        paired_bootstrap_ci(base, base[:-1])


def _gather_bootstrap(values, resamples, seed):
    """The textbook form: resample query indices, average the resampled values (the draws bootstrap_cis makes)."""
    rng, n = np.random.default_rng(seed), len(values)
    chunk = max(1, 2_000_000 // n)
    means = np.concatenate([values[rng.integers(0, n, (min(resamples, s + chunk) - s, n))].mean(1)
                            for s in range(0, resamples, chunk)])
    return np.quantile(means, [0.025, 0.975])


def test_intervals_of_many_columns_are_each_columns_own():
    from embedlab.results.stats import bootstrap_cis

    rng = np.random.default_rng(3)
    columns = [rng.uniform(size=1500), rng.beta(1, 4, size=1500), np.zeros(1500), rng.integers(0, 2, 1500)]
    together = bootstrap_cis(columns, resamples=3000, seed=7)
    for column, interval in zip(columns, together):
        low, high = _gather_bootstrap(np.asarray(column, dtype=float), 3000, 7)
        assert interval.low == pytest.approx(low, abs=1e-12) and interval.high == pytest.approx(high, abs=1e-12)
        alone = bootstrap_ci(column, resamples=3000, seed=7)  # the same draws; sums in another order
        assert (alone.low, alone.high) == pytest.approx((interval.low, interval.high), abs=1e-12)
    with pytest.raises(ValueError):
        bootstrap_cis([np.ones(3), np.ones(4)])
    with pytest.raises(ValueError):
        bootstrap_cis([])


def test_resampled_means_are_the_draws_the_intervals_come_from():
    from embedlab.results.stats import bootstrap_cis, resampled_means

    rng = np.random.default_rng(4)
    matrix = rng.uniform(size=(80, 3))
    means = resampled_means(matrix, resamples=500, seed=9)
    assert means.shape == (500, 3)
    intervals = bootstrap_cis(list(matrix.T), resamples=500, seed=9)
    for column, interval in enumerate(intervals):
        assert (interval.low, interval.high) == tuple(np.quantile(means[:, column], [0.025, 0.975]))
    # each draw resamples the queries: column means move together with the rows drawn
    first = rng.integers(0, 80, 80)
    assert not np.allclose(means[0], matrix[first].mean(axis=0))
