"""The deployment table (terminal, markdown) and the HTML page with its frontier plots."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.report.deploy import deploy_page, deploy_rows, markdown_deploy, rich_deploy
from embedlab.results import Results
from embedlab.results.deploy import deploy_summaries
from tests.results.test_deploy import run


def summary():
    rng = np.random.default_rng(1)
    base = rng.uniform(0.3, 1, 50)
    return deploy_summaries(Results([run(64, "float32", base, baseline=True), run(64, "int8", base + rng.normal(0, .01, 50)),
                                     run(16, "binary", base * 0.5)]), resamples=500)[0]


def test_rows_mark_the_baseline_free_savings_and_the_frontier():
    header, rows = deploy_rows(summary())
    assert header[0] == "variant" and len(rows) == 3
    assert rows[0][-1].startswith("baseline") and rows[0][3] == ""
    assert "worse" in rows[1][-1] and "frontier:bytes" in rows[1][-1]  # binary: smallest, worse
    assert rows[2][-1].startswith("free saving")
    assert markdown_deploy(summary())[0].startswith("## t: m, ndcg@10")
    assert len(rich_deploy(summary())) == 2


def test_page_is_self_contained_with_plots():
    pytest.importorskip("matplotlib")
    page = deploy_page([summary()])
    assert page.count("data:image/png;base64,") == 2 and "http" not in page.replace("http-equiv", "")
