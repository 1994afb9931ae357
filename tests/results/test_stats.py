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
