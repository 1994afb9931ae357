"""The deployment table (terminal, markdown) and the HTML page with its frontier plots."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.report.deploy import (
    HEADER,
    deploy_page,
    deploy_rows,
    markdown_deploy,
    recommendations,
    rich_deploy,
    terminal_rows,
)
from embedlab.results import Results
from embedlab.results.deploy import deploy_summaries
from tests.results.test_deploy import run, two_tasks


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
    assert len(rich_deploy(summary())) == 3  # heading, table, caption (issue 30, item 7: the caption apart)


def test_page_is_self_contained_with_plots():
    pytest.importorskip("matplotlib")
    page = deploy_page([summary()])
    assert page.count("data:image/png;base64,") == 2 and "http" not in page.replace("http-equiv", "")


def test_the_terminal_table_fits_and_every_column_stays_in_markdown():
    """issue 30, item 7: the terminal table was over 200 columns wide."""
    from rich.console import Console

    rng = np.random.default_rng(1)
    base = rng.uniform(0.3, 1, 50)
    runs = [run(1024, "float32", base, baseline=True, documents=281)]
    runs += [run(dim, precision, base + rng.normal(0, .01, 50), index=index, documents=281)
             for dim in (1024, 256) for precision in ("float32", "int8", "binary") for index in ("exact", "usearch")]
    for variant in runs[1:]:
        variant.model["deploy"]["precision"] += "+rescore" if variant.model["deploy"]["precision"] == "binary" else ""
        variant.tasks[0].scores["neighbour_recall@10"] = 0.99
    [s] = deploy_summaries(Results(runs), resamples=200)

    def widest(summary) -> int:
        console = Console(record=True, width=200)
        for part in rich_deploy(summary):
            console.print(part)
        return max(len(line.rstrip()) for line in console.export_text().splitlines())

    assert widest(s) <= 120
    header, rows = terminal_rows(s)
    assert header == ["variant", "score", "Δ [95% CI]", "bytes", "nbr recall", "", "frontier"]  # 281 docs: no ms
    assert rows[0][0] == "@1024 float32 exact" and rows[1][0].startswith("@256 binary+rescore")
    assert deploy_rows(s)[0] == HEADER and all(column in markdown_deploy(s)[2] for column in HEADER[:-1])
    assert "warning: t: 281 documents" in "\n".join(markdown_deploy(s))
    no_index = terminal_rows(summary())[0]
    assert "nbr recall" not in no_index and "ms/q" not in no_index
    for variant in runs:
        variant.tasks[0].counts["documents"] = 20_000
    large = deploy_summaries(Results(runs), resamples=200)[0]
    assert "ms/q" in terminal_rows(large)[0] and widest(large) <= 120


def test_recommendations_end_every_format():
    summaries = two_tasks(0.05)
    lines = recommendations(summaries)
    assert len(lines) == 3 and lines[0].startswith("retrieval: @64 binary exact") and lines[2].startswith("overall: ")
    assert f"**recommended**: {summaries[1].recommendation}" in markdown_deploy(summaries[1])
    pytest.importorskip("matplotlib")
    page = deploy_page(summaries)
    assert "<h2>Recommendations</h2>" in page and "overall: keep the baseline" in page
