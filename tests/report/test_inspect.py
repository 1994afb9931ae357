"""report/inspect.py: what `embedlab inspect` prints, from an Inspection and a FixResult."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from embedlab.quality import FixResult, inspect_path, inspect_rows
from embedlab.report.inspect import (
    examples,
    findings_entry,
    findings_table,
    fix_lines,
    lengths_table,
    print_fix,
    print_inspection,
    quartet,
    spread,
    summary_lines,
)
from tests.conftest import write_jsonl
from tests.quality.test_inspect import ROWS


@pytest.fixture
def inspection(tmp_path):
    return inspect_rows(write_jsonl(tmp_path / "rows.jsonl", ROWS))


def render(renderable, width=200) -> str:
    console = Console(file=io.StringIO(), width=width)
    console.print(renderable)
    return console.file.getvalue()


def test_summary_of_rows_and_of_a_retrieval_folder(inspection, retrieval_dir):
    assert summary_lines(inspection) == [
        "rows.jsonl: 10 rows (keys positive/negative 10), 8 distinct queries, 11 distinct passages (8 positives)",
        "positives per row: 0–1 (mean 0.9); negatives per row: 0–3 (mean 1.6)"]
    assert summary_lines(inspect_path(retrieval_dir)) == [
        "beir: retrieval folder, 6 documents, 4 queries, 5 judgments (3 queries judged, 3 with a relevant "
        "document)", "judgments per query: 1–2 (mean 1.67)"]


def test_lengths_and_findings_tables(inspection):
    lengths = render(lengths_table(inspection))
    assert "lengths (min / p50 / p95 / max)" in lengths and "tokens" not in lengths
    assert "negative" in lengths and "16" in lengths
    table = render(findings_table(inspection))
    assert "positive_also_negative" in table and "rows.jsonl:6, rows.jsonl:7" in table


def test_a_finding_in_a_few_lines_and_its_examples(inspection):
    empty = inspection.finding("empty_text")
    lines = [line.plain for line in findings_entry(empty)]
    assert lines[0].startswith("error    empty_text (3): ")
    assert lines[1:] == ["         at rows.jsonl:6, rows.jsonl:7", "         e.g. negative: '   '"]
    shared = inspection.finding("normalised_duplicate_passage")
    assert examples(shared)[0] == "rows.jsonl:3, rows.jsonl:10"


def test_printing_uses_a_table_only_when_the_terminal_is_wide(inspection):
    wide, narrow = (Console(file=io.StringIO(), width=w) for w in (160, 80))
    print_inspection(inspection, wide)
    print_inspection(inspection, narrow)
    assert "│ empty_text" in wide.file.getvalue() and "│ empty_text" not in narrow.file.getvalue()
    assert "error    empty_text (3): " in narrow.file.getvalue()


def test_what_fix_changed():
    fixed = FixResult("a/clean.jsonl", "a/clean.changes.jsonl", 12, 7, {"removed_malformed_row": 2})
    assert fix_lines(fixed) == ["cleaned copy: a/clean.jsonl (7 of 12 rows); every change logged in "
                                "a/clean.changes.jsonl", "  removed_malformed_row: 2"]
    assert fix_lines(FixResult("o", "l", 3, 3))[-1] == "  no changes were needed"
    console = Console(file=io.StringIO(), width=20)
    print_fix(fixed, console)
    assert console.file.getvalue().splitlines()[0] == fix_lines(fixed)[0]  # never wrapped


def test_number_helpers():
    assert spread({"min": 0, "max": 3, "mean": 1.5}) == "0–3 (mean 1.5)"
    assert quartet({"count": 0}) == "–"
    assert quartet({"count": 3, "min": 1, "p50": 1200, "p95": 3000, "max": 4000}) == "1 / 1,200 / 3,000 / 4,000"
