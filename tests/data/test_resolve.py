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
