"""The stack view as text (terminal, markdown, HTML page) and as a quality vs latency plot."""

from __future__ import annotations

import dataclasses

import pytest

import embedlab
from embedlab.report.page import build, stack_section
from embedlab.report.stack import cost_per_1k, rich_stack, stack_cells, stack_markdown, stack_plot
from embedlab.results.stack import stack_rows
from embedlab.run.evaluation import RunOptions
from tests.conftest import FakeEncoder
from tests.scorers.test_two_stage import Oracle


@pytest.fixture
def rows(retrieval_dir):
    results = embedlab.evaluate(FakeEncoder(), [retrieval_dir], run=RunOptions(reranker=Oracle(), rerank_depths=(3, 5)))
    return results, stack_rows(results)


def test_cells_show_each_stage(rows):
    _, stack = rows
    header, cells = stack_cells(stack)
    assert header[2] == "first-stage recall@depth" and len(cells) == 3
    assert cells[0][1] == "fake-bigram" and cells[0][2] == "–" and cells[0][6] == ""
    assert cells[1][1].strip() == ">> oracle@3" and cells[1][9] == "0 (local)"
    assert cells[2][6].startswith(("+", "-")) and " to " in cells[2][7]
    lines = stack_markdown(stack)
    assert lines[0].startswith("| task | stack |") and len(lines) == 2 + 3 + 3
    assert rich_stack(stack).row_count == 3


def test_api_cost_per_thousand_queries(rows):
    _, stack = rows
    api = dataclasses.replace(stack[2], reranker_model={"model": "m", "usage": {"requests": 3}}, tokens_per_query=2000)
    assert cost_per_1k(api) == "–"  # no price known
    assert cost_per_1k(api, price_per_mtok=0.5) == "1.0000"
    assert cost_per_1k(dataclasses.replace(api, price_per_mtok=1.0), price_per_mtok=0.5) == "2.0000"  # recorded wins


def test_the_page_has_a_stack_section_with_a_plot(rows):
    results, stack = rows
    assert stack_plot(stack)[:8] == b"\x89PNG\r\n\x1a\n"
    page, markdown = build([results])
    assert "Retrieval stacks" in page and page.count("data:image/png") >= 4
    assert "## Retrieval stacks: first stage, then reranked" in markdown and ">> oracle@5" in markdown
    assert stack_section([]) == ([], [])


def test_names_are_shown_as_written(rows):
    """Issue 24, item 21."""
    import io

    from rich.console import Console

    _, stack = rows
    stack = [dataclasses.replace(row, model="openai:[bold]x :smile:") for row in stack]
    console = Console(file=io.StringIO(), width=300)
    console.print(rich_stack(stack))
    assert "openai:[bold]x :smile:" in console.file.getvalue()
