"""What users name as data -> tasks: files, folders, C-MTEB names, the demo; wrong types refused."""

from __future__ import annotations

import pytest

from embedlab.data.resolve import resolve, resolve_all
from embedlab.errors import DataError


def test_files_are_reranking_rows_and_folders_with_corpus_queries_qrels_are_retrieval(rerank_file, retrieval_dir):
    (rerank,) = resolve(rerank_file)
    (retrieval,) = resolve(str(retrieval_dir))
    assert rerank.type == "reranking" and retrieval.type == "retrieval"
    assert resolve(rerank) == [rerank]  # a loaded task is used as it is
    assert [t.type for t in resolve_all([rerank_file, retrieval_dir])] == ["reranking", "retrieval"]
    assert resolve_all(None) == []


def test_the_wrong_type_is_refused_with_the_option_to_use(rerank_file, retrieval_dir):
    with pytest.raises(DataError, match="is not a retrieval folder"):
        resolve(rerank_file, expect="retrieval")
    with pytest.raises(DataError, match="is retrieval data, not reranking data .*--retrieval"):
        resolve(retrieval_dir, expect="reranking")


def test_the_demo_and_its_parts():
    assert [t.type for t in resolve("demo")] == ["reranking", "retrieval"]
    assert [t.type for t in resolve("demo", expect="retrieval")] == ["retrieval"]


def test_missing_paths_and_unknown_task_names(tmp_path):
    with pytest.raises(DataError, match="no such file or directory"):
        resolve(tmp_path / "nope.jsonl")
    with pytest.raises(DataError, match="no such file or directory, and unknown C-MTEB task 'T2Reranknig'; "
                                        "did you mean 'T2Reranking'"):
        resolve("T2Reranknig")


def test_tasks_are_named_after_their_dataset(tmp_path):
    from tests.conftest import RERANK_ROWS, write_beir, write_jsonl

    rerank = write_jsonl(tmp_path / "xquad_r_zh" / "reranking" / "test.jsonl", RERANK_ROWS)
    retrieval = write_beir(tmp_path / "cranfield_en" / "retrieval", {"d1": "a"}, {"q1": "b"}, [("q1", "d1", 1)])
    split = write_jsonl(tmp_path / "splits" / "test.jsonl", RERANK_ROWS)
    plain = write_jsonl(tmp_path / "t2.jsonl", RERANK_ROWS)
    names = [t.name for t in resolve_all([rerank, retrieval, split, plain])]
    assert names == ["xquad_r_zh/reranking/test", "cranfield_en/retrieval", "splits/test", "t2"]
    (named,) = resolve(f"my-data={plain}")
    assert named.name == "my-data" and named.source == str(plain)


def test_names_are_unique_in_a_run_and_the_same_data_twice_is_refused(tmp_path):
    """The first release named both `a/rr.jsonl` and `b/rr.jsonl` `rr`: tables showed one of them."""
    from embedlab.data.resolve import distinct_names
    from tests.conftest import RERANK_ROWS, write_jsonl

    a = write_jsonl(tmp_path / "x" / "a" / "rr.jsonl", RERANK_ROWS)
    b = write_jsonl(tmp_path / "x" / "b" / "rr.jsonl", RERANK_ROWS[:2])
    names = [t.name for t in distinct_names(resolve_all([a, b]))]
    assert names == ["a/rr", "b/rr"]
    with pytest.raises(DataError, match="rr.jsonl: is given twice"):
        distinct_names(resolve_all([a, a]))
