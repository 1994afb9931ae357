"""quality/findings.py: findings collected as the checks go, with messages, examples and statistics."""

from __future__ import annotations

import json
from pathlib import Path

from embedlab.quality.findings import (
    MAX_EXAMPLES,
    MESSAGES,
    Findings,
    Inspection,
    TextIndex,
    by_severity,
    normalised_duplicates,
    repeated_texts,
    snippet,
    spread,
    stats,
    where,
)


def test_findings_count_every_occurrence_keep_a_few_examples_and_sort_errors_first():
    found = Findings()
    for line in range(1, 9):
        found.add("no_negative", "info", f"f:{line}", f"query {line}")
    found.add("empty_text", "error", "f:3", "query: ''")
    found.add("duplicate_query", "warning", "f:4", "q", count=2)
    found.detail("duplicate_query", rows=4)
    found.detail("leak_query", other="never added")  # details of an absent code are ignored
    done = found.done()
    assert [(f.code, f.severity, f.count) for f in done] == [
        ("empty_text", "error", 1), ("duplicate_query", "warning", 2), ("no_negative", "info", 8)]
    assert len(done[2].examples) == MAX_EXAMPLES and done[2].locations == [f"f:{n}" for n in range(1, 6)]
    assert done[1].message == "queries that occur in more than one row (4 rows)"
    assert set(MESSAGES) >= {f.code for f in done}


def test_a_dict_detail_is_rendered_in_the_message():
    found = Findings()
    found.add("too_long", "warning", "f:1")
    found.detail("too_long", max_length=8, by_kind={"query": 0, "positive": 3})
    assert found.done()[0].message == ("texts longer than the model's 8 tokens, truncated when encoded "
                                       "(query 0, positive 3)")


def test_by_severity_is_stable_within_a_severity():
    found = Findings()
    for code, severity in (("no_negative", "info"), ("no_positive", "warning"), ("empty_text", "info")):
        found.add(code, severity, "f:1")
    assert [f.code for f in by_severity(list(reversed(found.done())))] == [
        "no_positive", "empty_text", "no_negative"]


def test_snippet_where_stats_and_spread():
    assert snippet("a\r\nb\tc\nd") == "a b c d"
    assert snippet("x" * 100) == "x" * 79 + "…" and len(snippet("x" * 100)) == 80
    assert where(Path("/some/dir/rows.jsonl"), 12) == "rows.jsonl:12"
    assert stats([]) == {"count": 0}
    assert stats([5, 1, 3, 2, 4]) == {"count": 5, "min": 1, "p50": 3, "p95": 5, "max": 5, "mean": 3.0}
    assert spread([]) == {"min": 0, "mean": 0.0, "max": 0} and spread([1, 2]) == {"min": 1, "mean": 1.5, "max": 2}


def test_repeated_and_normalised_duplicates():
    found = Findings()
    occurrences = [("tea", "f:1"), ("Tea!", "f:2"), ("tea", "f:3"), ("  ", "f:4"), ("  ", "f:5"), ("tea", "f:6")]
    repeated_texts(occurrences, "duplicate_query", "warning", found)
    normalised_duplicates(occurrences, "normalised_duplicate_query", "warning", found)
    done = {f.code: f for f in found.done()}
    assert (done["duplicate_query"].count, done["duplicate_query"].locations) == (1, ["f:3"])
    assert done["duplicate_query"].details == {"rows": 3} and done["duplicate_query"].examples[0].text == \
        "also at f:1: tea"
    assert done["normalised_duplicate_query"].examples[0].text == "Tea! ~ tea (f:1)"


def test_text_index_and_the_inspection_as_json():
    index = TextIndex()
    index.add_query("Tea?", "f:1")
    index.add_query("tea", "f:2")
    index.add_passage("Green tea.", "f:1", positive=True)
    index.add_passage("green tea", "f:2", positive=False)
    assert index.queries == {"tea": {"Tea?": "f:1", "tea": "f:2"}} and index.query_rows == {"tea": 2}
    assert index.passages == {"greentea": ("Green tea.", "f:1")} and index.positives == {"greentea"}
    found = Findings()
    found.add("empty_text", "error", "f:1", "query: ''")
    inspection = Inspection("rows.jsonl", "rows", {"rows": 1}, {}, {}, findings=found.done(),
                            values={"chars": {"query": [1]}}, index=index)
    assert inspection.finding("empty_text").count == 1 and inspection.finding("no_negative") is None
    assert inspection.severity_counts() == {"error": 1, "warning": 0, "info": 0}
    data = json.loads(json.dumps(inspection.as_dict()))
    assert "values" not in data and "index" not in data and data["findings"][0]["code"] == "empty_text"
    assert inspection.index is index  # as_dict leaves the inspection as it was
