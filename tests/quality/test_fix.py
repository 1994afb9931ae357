"""`fix` of rows: a cleaned copy and a log of every change; the input untouched, outputs checked first."""

from __future__ import annotations

import json

import pytest

from embedlab.errors import DataError
from embedlab.quality import default_log_path, fix
from embedlab.quality.inspect import inspect_rows
from tests.conftest import write_jsonl
from tests.quality.test_inspect import ROWS, pos_neg


@pytest.fixture
def rows_file(tmp_path):
    return write_jsonl(tmp_path / "rows.jsonl", ROWS)


DIRTY = [
    {"_id": "a", "query": " brew tea ", "positive": ["P1 ", "P1"], "negative": ["", "N1", "p1"], "extra": 1},
    {"_id": "b", "query": "brew tea", "positive": ["P2"], "negative": ["P1", "N2"]},
    {"_id": "c", "query": "no pos", "positive": [], "negative": ["N3"]},
    {"_id": "d", "query": "brew tea", "positive": ["P2"], "negative": ["N2"]},
    {"_id": "e", "query": "   ", "positive": ["P5"], "negative": []},
    {"_id": "f", "query": "untouched", "positive": ["P6"], "negative": ["N6"], "extra": [1, {"k": None}]},
]


def test_fix_writes_a_clean_copy_and_logs_every_change(tmp_path):
    source = write_jsonl(tmp_path / "dirty.jsonl", DIRTY)
    before = source.read_bytes()
    result = fix(source, tmp_path / "out" / "clean.jsonl")
    assert source.read_bytes() == before
    cleaned = [json.loads(line) for line in (tmp_path / "out" / "clean.jsonl").read_text().splitlines()]
    assert cleaned == [
        {"_id": "a", "query": "brew tea", "positive": ["P1"], "negative": ["N1"], "extra": 1},
        {"_id": "b", "query": "brew tea", "positive": ["P2"], "negative": ["N2"]},
        DIRTY[5],
    ]
    log_path = tmp_path / "out" / "clean.changes.jsonl"
    assert result.log == str(log_path) == str(default_log_path(tmp_path / "out" / "clean.jsonl"))
    log = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [(e["line"], e["field"], e["action"], e["value"], e.get("duplicate_of")) for e in log] == [
        (1, "query", "stripped_whitespace", " brew tea ", None),
        (1, "positive", "stripped_whitespace", "P1 ", None),
        (1, "positive", "removed_duplicate_passage_in_row", "P1", 1),
        (1, "negative", "removed_empty_text", "", None),
        (1, "negative", "removed_negative_equal_to_positive", "p1", 1),
        (2, "negative", "removed_negative_equal_to_positive", "P1", 1),
        (3, None, "removed_row_without_positive", "no pos", None),
        (4, None, "removed_duplicate_row", "brew tea", 2),
        (5, "query", "removed_row_with_empty_query", "   ", None),
    ]
    assert all(e["file"] == "dirty.jsonl" for e in log)
    assert (result.rows_read, result.rows_written) == (6, 3)
    assert result.actions == {"removed_row_with_empty_query": 1, "stripped_whitespace": 2, "removed_empty_text": 1,
                              "removed_duplicate_passage_in_row": 1, "removed_negative_equal_to_positive": 2,
                              "removed_row_without_positive": 1, "removed_duplicate_row": 1}
    assert inspect_rows(tmp_path / "out" / "clean.jsonl").severity_counts()["error"] == 0


def test_fix_removes_what_inspect_reports_as_errors(tmp_path, rows_file):
    result = fix(rows_file, tmp_path / "clean.jsonl", tmp_path / "changes.jsonl")
    assert result.actions["removed_malformed_row"] == 2 and result.actions["removed_duplicate_row"] == 1
    # as inspect counted: positive_also_negative at lines 3 and 5, positive_negative_same_query at line 2
    assert result.actions["removed_negative_equal_to_positive"] == 3
    after = inspect_rows(tmp_path / "clean.jsonl")
    assert after.severity_counts()["error"] == 0 and after.finding("duplicate_row") is None


def test_fix_keeps_the_pos_neg_key_style(tmp_path):
    source = write_jsonl(tmp_path / "flag.jsonl", [pos_neg(r) for r in DIRTY])
    fix(source, tmp_path / "clean.jsonl")
    first = json.loads((tmp_path / "clean.jsonl").read_text().splitlines()[0])
    assert list(first) == ["_id", "query", "pos", "neg", "extra"] and first["neg"] == ["N1"]
    log = [json.loads(line) for line in (tmp_path / "clean.changes.jsonl").read_text().splitlines()]
    assert {e["field"] for e in log} == {"query", "pos", "neg", None}


def test_fix_refuses_to_overwrite_the_input(tmp_path):
    source = write_jsonl(tmp_path / "dirty.jsonl", DIRTY)
    before = source.read_bytes()
    with pytest.raises(DataError, match="overwrite or change the input") as error:
        fix(source, tmp_path / "." / "dirty.jsonl")
    assert error.value.hint and "somewhere else" in error.value.hint
    with pytest.raises(DataError, match="the log would overwrite"):
        fix(source, tmp_path / "clean.jsonl", source)
    write_jsonl(tmp_path / "hf" / "test.jsonl", DIRTY)
    with pytest.raises(DataError, match="overwrite or change the input"):
        fix(tmp_path / "hf", tmp_path / "hf" / "clean.jsonl")
    assert source.read_bytes() == before and not (tmp_path / "clean.jsonl").exists()


# -- outputs: an existing one only with overwrite, nothing under the final names after a failure ----------

def test_an_existing_output_or_log_is_refused_without_overwrite(tmp_path):
    source = write_jsonl(tmp_path / "dirty.jsonl", DIRTY)
    precious = write_jsonl(tmp_path / "precious.jsonl", [{"query": f"q{i}", "positive": ["p"]} for i in range(50)])
    before = precious.read_bytes()
    with pytest.raises(DataError, match="already exists") as refused:
        fix(source, precious)
    assert "--overwrite" in refused.value.hint
    assert precious.read_bytes() == before and not (tmp_path / "precious.changes.jsonl").exists()
    log = write_jsonl(tmp_path / "clean.changes.jsonl", [{"kept": True}])
    with pytest.raises(DataError, match="already exists"):
        fix(source, tmp_path / "clean.jsonl")
    assert not (tmp_path / "clean.jsonl").exists() and json.loads(log.read_text()) == {"kept": True}
    result = fix(source, precious, overwrite=True)
    assert result.rows_written == 3 and len(precious.read_text().splitlines()) == 3
    assert (tmp_path / "precious.changes.jsonl").exists()


def test_a_fix_that_fails_while_writing_leaves_no_output(tmp_path, monkeypatch):
    from embedlab.quality.changes import ChangeLog

    source = write_jsonl(tmp_path / "dirty.jsonl", DIRTY)

    def fail(self, path):
        raise OSError("disk full")

    monkeypatch.setattr(ChangeLog, "write", fail)
    with pytest.raises(OSError, match="disk full"):
        fix(source, tmp_path / "out" / "clean.jsonl")
    assert list((tmp_path / "out").iterdir()) == []  # no copy, no log, no partial file
    write_jsonl(tmp_path / "out" / "clean.jsonl", DIRTY[:1])
    with pytest.raises(OSError, match="disk full"):
        fix(source, tmp_path / "out" / "clean.jsonl", overwrite=True)
    assert [json.loads(line) for line in (tmp_path / "out" / "clean.jsonl").read_text().splitlines()] == DIRTY[:1]
