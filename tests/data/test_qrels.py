"""Qrels layouts: detected from the header or the columns' contents; what is ambiguous is refused."""

from __future__ import annotations

import pytest

from embedlab.data.qrels import parse_grade, qrels_rows, read_qrels
from embedlab.errors import DataError


def _rows(tmp_path, text, name="qrels.tsv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return [(qid, did, raw) for _, _, qid, did, raw in qrels_rows(path)]


def test_beir_with_header_and_trec_without(tmp_path):
    assert _rows(tmp_path, "query-id\tcorpus-id\tscore\nq1\td1\t1\n") == [("q1", "d1", "1")]
    trec = _rows(tmp_path, "1 0 184 2\n1 0 29 1\n2 Q0 12 1\n".replace("Q0", "0"), "trec.qrels")
    assert trec == [("1", "184", "2"), ("1", "29", "1"), ("2", "12", "1")]
    headed = _rows(tmp_path, "qid\titer\tdocid\trel\nq1\t0\td1\t3\n")
    assert headed == [("q1", "d1", "3")]
    reordered = _rows(tmp_path, "score\tdocid\tqid\n2\td1\tq1\n")
    assert reordered == [("q1", "d1", "2")]


def test_headerless_four_columns_with_an_extra_column_is_not_read_as_trec(tmp_path):
    """The first release read `qid docid score annotator` as TREC: with numeric ids, a silently wrong nDCG."""
    rows = _rows(tmp_path, "1\t184\t2\t7\n1\t29\t1\t7\n2\t12\t1\t9\n")
    assert rows == [("1", "184", "2"), ("1", "29", "1"), ("2", "12", "1")]


@pytest.mark.parametrize("text", ["1\t0\t184\t2\n", "q1\td1\tx\ty\nq2\td2\tz\tw\n", "a\tb\tc\td\te\nf\tg\th\ti\tj\n"])
def test_what_cannot_be_told_apart_is_refused_with_a_hint(tmp_path, text):
    with pytest.raises(DataError, match="cannot tell which .*(add a header line|name them query-id, corpus-id, score)"):
        _rows(tmp_path, text)


def test_lines_with_another_column_count_and_bad_grades_name_the_line(tmp_path):
    with pytest.raises(DataError, match=r"qrels.tsv:3: expected 3 tab-separated columns like the first line, got 2"):
        _rows(tmp_path, "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\n")
    path = tmp_path / "q.tsv"
    path.write_text("q1\td1\t1\nq1\td1\t2\n", encoding="utf-8")
    with pytest.raises(DataError, match="q.tsv:2: field 'score': \\(q1, d1\\) is graded 1 at line 1 and 2 here"):
        read_qrels([path])
    assert parse_grade("2", path, 1) == 2 and parse_grade(3.0, path, 1) == 3
