"""Mining settings: what is refused before any work, and the margins a second model applies."""

from __future__ import annotations

import pytest

from embedlab.mining.config import MiningConfig


@pytest.mark.parametrize("settings,message", [
    ({"range_min": 5, "range_max": 5}, "range_min < range_max"),
    ({"range_min": -1}, "range_min < range_max"),
    ({"num_negatives": 0}, "num_negatives must be >= 1"),
    ({"sampling": "hardest"}, "sampling is 'top' or 'random'"),
    ({"index": "annoy"}, r"unknown index 'annoy' \(known: exact, flat, hnsw, ivf, usearch\)"),
    # issue 24, item 11: NaN turned the filters off
    ({"relative_margin": float("nan")}, r"relative_margin must be a number in \[0, 1\), not nan"),
    ({"relative_margin": 1.5}, r"relative_margin must be a number in \[0, 1\), not 1.5"),
    ({"absolute_margin": float("inf")}, "absolute_margin must be a finite number, not inf"),
    ({"max_score": float("nan")}, "max_score must be a finite number, not nan"),
    ({"min_score": float("-inf")}, "min_score must be a finite number, not -inf"),
    ({"min_score": 0.9, "max_score": 0.5}, "min_score 0.9 is above max_score 0.5: every candidate would be dropped"),
])
def test_check_refuses_settings_no_run_can_use(settings, message):
    with pytest.raises(ValueError, match=message):
        MiningConfig(**settings).check()
    MiningConfig().check()


def test_second_model_margins():
    config = MiningConfig(absolute_margin=0.1, relative_margin=0.2, max_score=0.9, min_score=0.1)
    margins = config.second_model_margins()
    assert (margins.absolute_margin, margins.relative_margin) == (0.1, 0.2)
    assert margins.max_score is None and margins.min_score is None  # fixed limits are about the mining model
    bare = MiningConfig(relative_margin=None).second_model_margins()
    assert (bare.absolute_margin, bare.relative_margin) == (0.0, None)  # below the positive
