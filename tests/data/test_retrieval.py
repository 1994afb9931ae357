from __future__ import annotations

import pytest

from embedlab.data import load_retrieval
from embedlab.errors import DataError
from tests.conftest import write_beir, write_jsonl


def test_beir_folder_graded_qrels_and_skipped_queries(retrieval_dir):
    task = load_retrieval(retrieval_dir)
    assert set(task.queries) == {"q1", "q2", "q3"}
    assert task.skipped == {"no_judgments": 1}
    assert task.qrels["q1"] == {"d1": 2, "d2": 1}
    assert task.qrels["q2"] == {"d3": 1, "d5": 0}  # a zero grade keeps the query, as in mteb
    assert len(task.corpus) == 6


def test_title_is_joined_like_mteb(tmp_path):
    folder = tmp_path / "t"
    write_jsonl(folder / "corpus.jsonl", [{"_id": "1", "title": "Tea", "text": " hot water "},
                                          {"_id": 2, "text": " no title "}])
    write_jsonl(folder / "queries.jsonl", [{"_id": "q", "text": "tea"}])
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq\t1\t1\n")
    task = load_retrieval(folder)
    assert task.corpus == {"1": "Tea  hot water", "2": "no title"}


def test_qrels_subfolder_with_splits(tmp_path):
    folder = write_beir(tmp_path / "b", {"d": "x", "e": "y"}, {"q": "x", "r": "y"}, [("q", "d", 1)],
                        qrels_name="qrels/test.tsv")
    (folder / "qrels" / "dev.tsv").write_text("query-id\tcorpus-id\tscore\nr\te\t1\n")
    assert set(load_retrieval(folder).queries) == {"q"}  # 'test' preferred
    assert set(load_retrieval(folder, split="dev").queries) == {"r"}


def test_cmteb_parquet_layout_sharded_inside_a_hidden_cache_folder(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    folder = tmp_path / ".cache" / "T2Retrieval"
    (folder / "data").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([{"id": "p1", "text": "a"}]),
                   folder / "data" / "corpus-00000-of-00002.parquet")
    pq.write_table(pa.Table.from_pylist([{"id": "p2", "text": "b"}]),
                   folder / "data" / "corpus-00001-of-00002.parquet")
    pq.write_table(pa.Table.from_pylist([{"id": "q1", "text": "a?"}]),
                   folder / "data" / "queries-00000-of-00001.parquet")
    pq.write_table(pa.Table.from_pylist([{"qid": "q1", "pid": "p2", "score": 1}]),
                   folder / "qrels-dev.parquet")
    task = load_retrieval(folder)
    assert task.corpus == {"p1": "a", "p2": "b"} and task.qrels == {"q1": {"p2": 1}}


@pytest.mark.parametrize("qrels,match,line", [
    ("q1\tnope\t1\n", "corpus-id 'nope' is not in corpus.jsonl", 2),
    ("zz\td1\t1\n", "query-id 'zz' is not in queries.jsonl", 2),
    ("q1\td1\thigh\n", "not a number", 2),
    ("q1\td1\t0.5\n", "whole number", 2),
    ("q1\td1\t1\nq1\td1\t2\n", "graded 1 at line 2 and 2 here", 3),
    ("q1\td1\n", "3 tab-separated columns", 2),
])
def test_qrels_errors(retrieval_dir, qrels, match, line):
    (retrieval_dir / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels)
    with pytest.raises(DataError, match=match) as info:
        load_retrieval(retrieval_dir)
    assert info.value.line == line and "qrels.tsv" in str(info.value)


def test_duplicate_corpus_id_and_missing_files(retrieval_dir, tmp_path):
    with open(retrieval_dir / "corpus.jsonl", "a") as handle:
        handle.write('{"_id": "d1", "text": "again"}\n')
    with pytest.raises(DataError, match="duplicate id 'd1' \\(first at corpus.jsonl:1\\)") as info:
        load_retrieval(retrieval_dir)
    assert info.value.line == 7
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no corpus file"):
        load_retrieval(tmp_path / "empty")


@pytest.mark.parametrize("grade", ["nan", "inf", "1e400", "99999999999999999999", "-1", "1.5", "true"])
def test_grades_that_are_not_small_whole_numbers_are_one_line(tmp_path, grade):
    from tests.conftest import write_beir

    folder = write_beir(tmp_path / "b", {"d1": "tea"}, {"q1": "tea?"}, [("q1", "d1", 1)])
    (folder / "qrels.tsv").write_text(f"query-id\tcorpus-id\tscore\nq1\td1\t{grade}\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"qrels.tsv:2: field 'score': score '.*' (must be a whole number from 0 "
                                        r"to 1000|is not a number)"):
        load_retrieval(folder)


def test_a_task_where_every_grade_is_zero_is_an_error(tmp_path):
    from tests.conftest import write_beir

    folder = write_beir(tmp_path / "b", {"d1": "tea", "d2": "coffee"}, {"q1": "tea?"}, [("q1", "d1", 0), ("q1", "d2", 0)])
    with pytest.raises(DataError, match="qrels.tsv: every judgment has grade 0: no query has a relevant document"):
        load_retrieval(folder)


def test_queries_are_read_as_written_and_corpus_texts_joined_as_mteb_joins_them(tmp_path):
    folder = write_beir(tmp_path / "b", {"d1": " green tea "}, {"q1": " tea? "}, [("q1", "d1", 1)])
    task = load_retrieval(folder)
    assert task.queries == {"q1": " tea? "}  # mteb encodes queries as they are
    assert task.corpus == {"d1": "green tea"}  # f"{title} {text}".strip()


def test_qrels_file_and_qrels_folder_both_here_say_which_was_read(tmp_path, caplog):
    """Issue 24, item 21: qrels.tsv was silently preferred over qrels/test.tsv; and --split test still read qrels.tsv."""
    folder = write_beir(tmp_path / "b", {"d": "x", "e": "y"}, {"q": "x", "r": "y"}, [("q", "d", 1)])
    (folder / "qrels").mkdir()
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nr\te\t1\n")
    with caplog.at_level("WARNING", logger="embedlab.data.retrieval"):
        assert set(load_retrieval(folder).queries) == {"q"}
    assert caplog.messages == [f"{folder}: read qrels.tsv; the folder qrels/ (test) holds judgments too: --split "
                               "test reads qrels/test.tsv"]
    caplog.clear()
    with caplog.at_level("WARNING", logger="embedlab.data.retrieval"):
        assert set(load_retrieval(folder, split="test").queries) == {"r"}
    assert caplog.messages == [f"{folder}: read qrels/test.tsv (--split test), not qrels.tsv"]
