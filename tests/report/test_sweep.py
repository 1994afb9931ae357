"""A sweep's summary rendered for the terminal, markdown and HTML, and in `report`'s page."""

from __future__ import annotations

import html

from rich.console import Console

from embedlab.report.page import build
from embedlab.report.sweep import best_line, curve_rows, heading, html_sweep, markdown_sweep, rich_sweep
from embedlab.results.sweep import sweep_summaries
from tests.results.test_sweep import swept  # noqa: F401 - the fixture


def test_the_sweep_in_every_format(swept):  # noqa: F811
    summary, = sweep_summaries(swept, resamples=500)
    header, rows = curve_rows(summary)
    assert header == ["weights", "ndcg@10 ×100"] and [row[0] for row in rows] == ["0,1", "0.5,0.5", "1,0"]
    assert rows[2][1].endswith(" best") and not rows[0][1].endswith("best")
    line = best_line(summary)
    assert line.startswith("best weights 1,0 (all weight on org/dense: fusing does not help here): ")
    assert "significantly better than 2 of 2 sub-models alone" in line
    assert "the best of 3 weights chosen on these same queries" in line
    assert heading(summary) == "t: weight sweep of hybrid-rrf:org/dense+bm25, ndcg@10 (60 queries)"
    markdown = "\n".join(markdown_sweep(summary))
    assert f"## {heading(summary)}" in markdown and f"**{summary.note}**" in markdown and "| org/dense |" in markdown
    page = html_sweep(summary)
    assert html.escape(summary.note) in page and page.count("<table>") == 2
    console = Console(record=True, width=200)
    for part in rich_sweep(summary):
        console.print(part)
    text = console.export_text()
    assert "0.5,0.5" in text and line[:40] in text and "Δ vs baseline hybrid-rrf(w=1,0)" in text


def test_report_shows_sweeps(swept):  # noqa: F811
    _, markdown = build([swept])
    assert "weight sweep of hybrid-rrf:org/dense+bm25" in markdown and "equal weights hurt here" in markdown
