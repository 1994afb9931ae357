"""The queries two models differ most on, rendered: the report's HTML (rows, filter box, no network), its
markdown, the terminal table; nothing when no run was saved."""

from __future__ import annotations

import re

import pytest

import embedlab
from embedlab.report.page import build
from embedlab.report.query_diff import FILTER_SCRIPT, html_analysis, markdown_analysis, rich_analysis
from embedlab.results.compare import compare
from embedlab.results.query_diff import QueryAnalysis, QueryDiff, Ranked, query_analyses
from embedlab.run.evaluation import RunOptions
from tests.conftest import FakeEncoder
from tests.run.test_observers import tied_dir  # noqa: F401 - a fixture

ANALYSIS = QueryAnalysis("T", "ndcg@10", ("/models/base", "tuned <b>"), [
    QueryDiff("q7", "why <script> | pipes", (0.9, 0.1), -0.8, 2,
              ([Ranked("d1", 2, "the right answer"), Ranked("d2", 0, "wrong")],
               [Ranked("d2", 0, "wrong"), Ranked("gone", None, None)]), (1, None)),
], of=10, wins=3, losses=4)


def test_html_rows_are_escaped_and_filterable():
    page = html_analysis(ANALYSIS, "qdiff-0")
    assert "<script>" not in page and "why &lt;script&gt; | pipes" in page and "tuned &lt;b&gt;" in page
    assert "class='qfilter' data-table='qdiff-0'" in page and "id='qdiff-0'" in page
    assert page.count("<tr>") == 2 and "<span class='rel'>d1 [2]</span>" in page
    assert "<span class='nonrel'>d2 [0]</span>" in page and "<i>not in the corpus</i>" in page
    assert "-0.800" in page and "0.900 → 0.100" in page and "1 → –" in page
    assert "base wins 3, loses 4 of 10 queries" not in page and "tuned &lt;b&gt; wins 3, loses 4 of 10" in page


def test_markdown_and_terminal():
    lines = markdown_analysis(ANALYSIS)
    row = next(line for line in lines if line.startswith("| q7"))
    assert "why <script> \\| pipes" in row and "**d1**[2], d2[0]" in row and "| 1 / – |" in row
    from rich.console import Console

    console = Console(width=160, record=True)
    console.print(rich_analysis(ANALYSIS))
    text = console.export_text()
    assert "q7 why <script> | pipes" in text and "Δ -0.800 (0.900 → 0.100)" in text
    assert "d1 [2] the right answer" in text and "gone  (not in the corpus)" in text
    assert "first relevant: 1" in text and "first relevant: –" in text and "[grade]" in text


@pytest.fixture
def saved(tied_dir, tmp_path):  # noqa: F811
    return embedlab.evaluate([FakeEncoder(), "bm25"], [tied_dir], run=RunOptions(save_run=tmp_path / "runs"))


def test_the_report_page_has_a_section_per_task_with_runs(saved):
    page, markdown = build([saved])
    analyses, _ = query_analyses([saved], compare(saved))
    assert len(analyses) == 1 and analyses[0].queries
    for q in analyses[0].queries:
        assert f"<b>{q.query_id}</b>" in page and f"| {q.query_id} " in markdown
    assert page.count(FILTER_SCRIPT) == 1 and page.index("qdiff-0") < page.index(FILTER_SCRIPT)
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page)
    assert "where bm25 and fake-bigram differ most" in markdown
    assert "qfilter" not in build([saved], queries=0)[0]


def test_no_saved_runs_no_section(tied_dir):  # noqa: F811
    page, _ = build([embedlab.evaluate([FakeEncoder(), "bm25"], [tied_dir])])
    assert "qfilter" not in page and "differ most" not in page


def test_names_queries_and_documents_are_shown_as_written_in_the_terminal():
    """Issue 24, item 21: escaped for markup, but `:smile:` still became an emoji."""
    from rich.console import Console

    odd = QueryAnalysis("T :smile:", "ndcg@10", ("openai:[bold]a", "b :smile:"), [
        QueryDiff("q:smile:", "[red]why :smile:", (0.9, 0.1), -0.8, 1,
                  ([Ranked("d:smile:", 2, "[i]text :smile:")], []), (1, None))], of=1, wins=0, losses=1)
    console = Console(width=200, record=True)
    console.print(rich_analysis(odd))
    text = console.export_text()
    for shown in ("openai:[bold]a", "b :smile:", "q:smile: [red]why :smile:", "d:smile: [2] [i]text :smile:"):
        assert shown in text, shown
    assert "😄" not in text
