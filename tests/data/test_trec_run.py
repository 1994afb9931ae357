"""TREC run files: reading (trec_eval's order, the 3-column form), one-line errors naming file:line, writing."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.data.trec_run import file_safe, format_run, format_score, read_run, run_file_name, write_run
from embedlab.errors import DataError


def _write(tmp_path, text: str, name: str = "run.trec"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_documents_are_ordered_by_score_then_id_descending_never_by_the_rank_column(tmp_path):
    path = _write(tmp_path, "q1 Q0 d1 1 0.5 es\nq1 Q0 d3 2 0.9 es\nq1 Q0 d2 3 0.5 es\n\nq2\tQ0\tx\t9\t-1e-3\tes\n")
    run = read_run(path)
    assert run.rankings["q1"][0] == ["d3", "d2", "d1"]  # the tie 0.5 goes to the higher id, ranks ignored
    assert run.rankings["q1"][1].tolist() == [0.9, 0.5, 0.5]
    assert run.rankings["q2"][0] == ["x"] and run.rankings["q2"][1][0] == -0.001
    assert run.columns == 6 and run.tags == ["es"] and run.documents == 4 and run.line_of("q2") == 5


def test_ids_tie_in_byte_order_as_trec_eval_compares_them(tmp_path):
    path = _write(tmp_path, "q 0 B 1 1 t\nq 0 a 1 1 t\nq 0 文 1 1 t\nq 0 é 1 1 t\n")
    assert read_run(path).rankings["q"][0] == ["文", "é", "a", "B"]


def test_three_columns_with_or_without_a_header(tmp_path):
    with_header = read_run(_write(tmp_path, "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t3\n", "a.tsv"))
    plain = read_run(_write(tmp_path, "q1 d1 2\nq1 d2 3\n", "b.tsv"))
    assert with_header.rankings["q1"][0] == plain.rankings["q1"][0] == ["d2", "d1"]
    assert plain.columns == 3 and plain.tags == []


@pytest.mark.parametrize("text, where, words", [
    ("q1 Q0 d1 1 0.5\n", ":1:", "5 columns"),
    ("q1 Q0 d1 1 0.5 t\nq1 d2 0.4\n", ":2:", "3 columns where the file's first line has 6"),
    ("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 high t\n", ":2: field 'score'", "'high' is not a finite number"),
    ("q1 Q0 d1 1 nan t\n", ":1: field 'score'", "'nan' is not a finite number"),
    ("q1 Q0 d1 1 1_000 t\n", ":1: field 'score'", "not a finite number"),
    ("q1 Q0 d1 1 1e300 t\n", ":1: field 'score'", "'1e300' is not a finite number as trec_eval reads it (a C float"),
    ("q1 Q0 d1 1 -4e38 t\n", ":1: field 'score'", "as trec_eval reads it"),
    ("q1 Q0 d1 1 0.5 t\nq2 Q0 d1 1 0.5 t\nq1 Q0 d1 3 0.1 t\n", ":3:", "'d1' is ranked twice for query 'q1' (first at line 1)"),
    ("\n\n", "run.trec:", "no ranked documents"),
    ("q1 d1 score\n", "run.trec:", "no ranked documents"),
])
def test_a_bad_run_is_one_line_naming_file_and_line(tmp_path, text, where, words):
    with pytest.raises(DataError) as error:
        read_run(_write(tmp_path, text))
    message = str(error.value)
    assert "\n" not in message and where in message and words in message, message


def test_a_missing_file_a_folder_and_bad_bytes(tmp_path):
    with pytest.raises(DataError, match="absent.trec: no such file"):
        read_run(tmp_path / "absent.trec")
    with pytest.raises(DataError, match="is a folder"):
        read_run(tmp_path)
    path = tmp_path / "latin1.trec"
    path.write_bytes(b"q1 Q0 d1 1 1 t\nq1 Q0 caf\xe9 2 0.5 t\n")
    with pytest.raises(DataError, match=r"latin1.trec:2: not valid UTF-8"):
        read_run(path)


def test_written_runs_read_back_in_the_order_given(tmp_path):
    scores32 = np.array([0.8234, 0.5, 0.5, 1e-8], dtype=np.float32)
    path = write_run(tmp_path / "out" / "m.trec", [("q1", ["d9", "d2", "d1", "d0"], scores32),
                                                    ("q2", ["d5"], np.array([0.1 + 0.2]))], "my model")
    lines = path.read_text().splitlines()
    assert lines[0] == "q1 Q0 d9 1 0.8234 my_model" and lines[-1] == "q2 Q0 d5 1 0.30000000000000004 my_model"
    run = read_run(path)
    assert run.rankings["q1"][0] == ["d9", "d2", "d1", "d0"]
    assert run.rankings["q1"][1].astype(np.float32).tolist() == scores32.tolist()  # float32 values kept


def test_an_id_with_a_space_cannot_be_written(tmp_path):
    with pytest.raises(DataError, match="'a b' has a space"):
        format_run([("q1", ["a b"], [1.0])], "t")


def test_scores_and_names_as_text():
    assert format_score(np.float32(0.1)) == "0.1" and format_score(0.1) == "0.1"
    assert float(format_score(np.float32(1 / 3))) != float(format_score(np.float64(1 / 3)))
    assert file_safe("hybrid-bm25+e5 >> ce@100") == "hybrid-bm25+e5_ce@100"
    assert file_safe("demo/retrieval") == "demo_retrieval" and file_safe("检索/测试") == "检索_测试"
    assert file_safe("..") == "_"


def test_scores_equal_as_c_floats_are_ties_ordered_by_id_descending(tmp_path):
    run = read_run(_write(tmp_path, "q Q0 a 1 0.500000001 t\nq Q0 b 2 0.5 t\nq Q0 c 3 0.50000006 t\n"))
    assert run.rankings["q"][0] == ["c", "b", "a"]  # 0.50000006 is the next float32 above 0.5; a and b tie
    assert run.rankings["q"][1].tolist() == [0.50000006, 0.5, 0.500000001]  # the values as written


def test_written_runs_keep_their_order_when_trec_eval_reads_them_as_c_floats(tmp_path):
    """Scores that differ only beyond float32 (a fused score, float64) or equal scores in another order than
    trec_eval's tie order are written so that a C-float reader gives the order as written."""
    ids = ["a", "b", "c", "d", "e"]
    scores = np.array([0.7, 0.5 + 1e-12, 0.5, 0.5, 0.1])  # b, c, d tie as C floats; trec would put d, c, b
    path = write_run(tmp_path / "m.trec", [("q", ids, scores)], "m")
    run = read_run(path)
    assert run.rankings["q"][0] == ids
    written = [float(line.split()[4]) for line in path.read_text().splitlines()]
    assert np.all(np.diff(np.asarray(written, dtype=np.float32)) < 0)  # strictly decreasing as C floats
    assert written[0] == 0.7 and written[-1] == 0.1 and abs(written[2] - 0.5) < 1e-6  # moved by a float32 step
    trec_order = write_run(tmp_path / "n.trec", [("q", ["d", "c", "b"], np.array([0.5, 0.5, 0.5]))], "m")
    assert [line.split()[4] for line in trec_order.read_text().splitlines()] == ["0.5"] * 3  # already trec's order


def test_run_file_names_are_one_per_model_name():
    """Two names that make the same file-safe text get different files (issue 24, item 9: `openai:alt x` and
    `openai:alt_x` shared one); a name that is a file name already stays as it is."""
    assert run_file_name("bm25") == "bm25" and run_file_name("fake-bigram") == "fake-bigram"
    names = ["alt x", "alt_x", "alt/x", "alt  x", "检索/测试", "检索_测试"]
    files = [run_file_name(name) for name in names]
    assert len(set(files)) == len(names) and files[1] == "alt_x" and files[0].startswith("alt_x-")
    assert all(file_safe(file) == file for file in files)
