"""Comparison tables: mean [CI], Δ [CI], Holm-corrected p with a significance mark; the sample note."""

import io

from rich.console import Console

from embedlab.report.compare import comparison_rows, margin_note, rich_comparison
from embedlab.results.compare import ModelRow, TaskComparison
from embedlab.results.stats import Interval


def interval(mean, low, high):
    return Interval(mean, low, high, 0.95, 1000)


def comparison(sample=None):
    rows = [ModelRow("BAAI/bge-small-zh-v1.5", 0.5, interval(0.5, 0.45, 0.55), rows_for_margin=2500),
            ModelRow("/runs/ft/best", 0.6, interval(0.6, 0.55, 0.65), interval(0.1, 0.05, 0.15),
                     0.00001, 0.00002, True),
            ModelRow("other", 0.49, interval(0.49, 0.44, 0.54), interval(-0.01, -0.03, 0.01),
                     0.3, 0.3, False)]
    return TaskComparison("t2", "v1.map", "sha256:x", 1000, "BAAI/bge-small-zh-v1.5", "permutation", 0.05,
                          0.01, rows, sample)


def test_rows_show_baseline_delta_interval_and_a_clear_mark():
    header, rows = comparison_rows(comparison())
    assert header == ["model", "mean", "95% CI", "Δ", "95% CI of Δ", "p (Holm)"]
    assert rows[0] == ["BAAI/bge-small-zh-v1.5", "50.00", "45.00–55.00", "baseline", "", ""]
    assert rows[1] == ["ft/best", "60.00", "55.00–65.00", "+10.00", "+5.00 to +15.00", "<0.0001 better"]
    assert rows[2][3:] == ["-1.00", "-3.00 to +1.00", "0.3000 n.s."]


def test_rich_comparison_names_the_test_and_the_baseline():
    console = Console(file=io.StringIO(), width=200)
    console.print(rich_comparison(comparison()))
    text = console.file.getvalue()
    assert "t2: MAP (C-MTEB v1), 1,000 queries, Δ vs baseline BAAI/bge-small-zh-v1.5" in text
    assert "paired randomization test, Holm-corrected across 2 comparison(s)" in text
    assert "<0.0001 better" in text


def test_margin_note_only_for_a_sample():
    assert margin_note(comparison()) is None
    note = margin_note(comparison({"n": 1000, "of": 2000, "seed": 0}))
    assert "a seeded sample of 1,000 of 2,000" in note and "±5.00 points" in note
    assert "about 2,500 rows (more than the data has)" in note


def test_a_pruned_corpus_is_said_beside_the_interval():
    """Issue 30, item 2: the note said "sample of 200 of 200" and "(more than the data has)", and nothing of the
    pruned corpus that inflates the scores."""
    note = margin_note(comparison({"n": 1000, "of": 3219, "seed": 0, "corpus": "pruned", "distractors": 100}))
    assert note.startswith("t2: a seeded sample of 1,000 of 3,219 (seed 0), corpus pruned to their judged documents "
                           "+ 100 others: scores are higher than on the whole corpus; ")
    assert note.endswith("about 2,500 rows")  # 2,500 < 3,219: no "more than the data has"


def test_names_are_shown_as_written_never_as_markup_or_emoji():
    """Issue 24, item 21."""
    c = comparison()
    name = "openai:[bold]x[/bold] :smile:"
    c.rows[1].model = c.baseline = name
    console = Console(file=io.StringIO(), width=250)
    console.print(rich_comparison(c))
    text = console.file.getvalue()
    assert text.count(name) == 2 and "😄" not in text  # the title's baseline and the row
