"""`fix` of a retrieval folder: a folder `eval` loads, every change logged, the input untouched."""

from __future__ import annotations

import json

import pytest

from embedlab.data.retrieval import load_retrieval
from embedlab.errors import DataError
from embedlab.quality.fix import fix
from embedlab.quality.inspect import inspect_path
from tests.conftest import write_beir, write_jsonl


def _log(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_messy_folder_becomes_one_eval_loads(tmp_path, messy_beir):
    before = {p.name: p.read_bytes() for p in messy_beir.iterdir()}
    with pytest.raises(DataError):
        load_retrieval(messy_beir)
    result = fix(messy_beir, tmp_path / "clean")
    assert {p.name: p.read_bytes() for p in messy_beir.iterdir()} == before
    task = load_retrieval(tmp_path / "clean")
    assert task.corpus == {"d1": "green tea", "d2": "black tea", "d3": "Green tea!"}
    assert task.qrels == {"q1": {"d1": 1}, "q2": {"d2": 1}, "q5": {"d2": 0}, "q4": {"d1": 2}}
    assert task.skipped == {"no_judgments": 1}  # q3 is kept in queries.jsonl; eval skips and counts it
    log = _log(tmp_path / "clean.changes.jsonl")
    assert [(e["file"], e["line"], e["field"], e["action"], e.get("duplicate_of")) for e in log] == [
        ("corpus.jsonl", 4, "text", "removed_empty_text", None),
        ("corpus.jsonl", 5, "_id", "removed_duplicate_id", 2),
        ("qrels.tsv", 3, "corpus-id", "removed_judgment_of_unknown_document", None),
        ("qrels.tsv", 4, "query-id", "removed_judgment_of_unknown_query", None),
        ("qrels.tsv", 6, "score", "removed_duplicate_judgment", 5),
        ("qrels.tsv", 7, "score", "removed_conflicting_judgment", 5),
    ]
    assert log[3]["value"] == "qx d1 1" and log[5]["value"] == "q2 d2 0"
    assert not any(e["action"].startswith("removed_judgment_of_removed") for e in log)  # d4 was not judged
    assert (result.rows_read, result.rows_written, result.unit) == (18, 12, "records")
    after = inspect_path(tmp_path / "clean")
    assert after.severity_counts()["error"] == 0
    assert {f.code for f in after.findings} == {"query_without_judgment", "query_without_relevant",
                                                "duplicate_query", "normalised_duplicate_document"}


def test_fields_kept_whitespace_stripped_and_malformed_records_removed(tmp_path):
    folder = tmp_path / "beir"
    write_jsonl(folder / "corpus.jsonl", [
        {"_id": "d1", "title": " Tea ", "text": "green tea ", "url": "https://example.org/1"},
        {"_id": 2, "text": "integer ids are kept as they are"},
        {"_id": "d3"},  # no text
        {"_id": "d4", "text": ["not", "a", "string"]}])
    write_jsonl(folder / "queries.jsonl", [{"_id": "q1", "text": " brew tea", "lang": "en"}])
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\t2\tmaybe\nq1\td3\t1\n",
                                      encoding="utf-8")
    result = fix(folder, tmp_path / "out", tmp_path / "log.jsonl")
    corpus = [json.loads(line) for line in (tmp_path / "out" / "corpus.jsonl").read_text().splitlines()]
    assert corpus == [{"_id": "d1", "title": "Tea", "text": "green tea", "url": "https://example.org/1"},
                      {"_id": 2, "text": "integer ids are kept as they are"}]
    queries = [json.loads(line) for line in (tmp_path / "out" / "queries.jsonl").read_text().splitlines()]
    assert queries == [{"_id": "q1", "text": "brew tea", "lang": "en"}]
    assert (tmp_path / "out" / "qrels.tsv").read_text() == "query-id\tcorpus-id\tscore\nq1\td1\t1\n"
    assert result.actions == {"removed_malformed_row": 3, "stripped_whitespace": 3,
                              "removed_judgment_of_unknown_document": 1}  # d3 could not be read
    malformed = [e for e in _log(tmp_path / "log.jsonl") if e["action"] == "removed_malformed_row"]
    assert [(e["file"], e["line"]) for e in malformed] == [("corpus.jsonl", 3), ("corpus.jsonl", 4),
                                                           ("qrels.tsv", 3)]
    assert "not a number" in malformed[2]["value"]


def test_judgments_of_an_emptied_document_say_so(tmp_path):
    folder = tmp_path / "beir"
    write_jsonl(folder / "corpus.jsonl", [{"_id": "d1", "text": "tea"}, {"_id": "d2", "title": "", "text": " "}])
    write_jsonl(folder / "queries.jsonl", [{"_id": "q1", "text": "tea?"}, {"_id": "q2", "text": ""}])
    (folder / "qrels.tsv").write_text("q1\td1\t1\nq1\td2\t2\nq2\td1\t1\n", encoding="utf-8")
    fix(folder, tmp_path / "out")
    log = _log(tmp_path / "out.changes.jsonl")
    assert [(e["file"], e["line"], e["action"], e["value"]) for e in log] == [
        ("corpus.jsonl", 2, "removed_empty_text", " "),
        ("queries.jsonl", 2, "removed_empty_text", ""),
        ("qrels.tsv", 2, "removed_judgment_of_removed_document", "q1 d2 2"),
        ("qrels.tsv", 3, "removed_judgment_of_removed_query", "q2 d1 1"),
    ]
    assert load_retrieval(tmp_path / "out").qrels == {"q1": {"d1": 1}}


def test_refuses_to_write_into_the_input_and_an_empty_result(tmp_path, messy_beir):
    with pytest.raises(DataError, match="overwrite or change the input"):
        fix(messy_beir, messy_beir / "clean")
    folder = tmp_path / "empty"
    write_jsonl(folder / "corpus.jsonl", [{"_id": "d1", "text": "tea"}])
    write_jsonl(folder / "queries.jsonl", [{"_id": "q1", "text": "tea?"}])
    (folder / "qrels.tsv").write_text("qx\td1\t1\n", encoding="utf-8")
    with pytest.raises(DataError, match="nothing of the qrels is left"):
        fix(folder, tmp_path / "out")


def test_rows_into_a_folder_is_refused(tmp_path, rerank_file):
    (tmp_path / "a_folder").mkdir()
    with pytest.raises(DataError, match="a JSONL file, not a folder"):
        fix(rerank_file, tmp_path / "a_folder")


def test_an_existing_folder_is_replaced_only_with_overwrite_and_only_a_retrieval_folder(tmp_path, messy_beir):
    existing = write_beir(tmp_path / "existing", {"d1": "an earlier copy"}, {"q1": "tea"}, [("q1", "d1", 1)])
    before = {p.name: p.read_bytes() for p in existing.iterdir()}
    with pytest.raises(DataError, match="already exists"):
        fix(messy_beir, existing)
    assert {p.name: p.read_bytes() for p in existing.iterdir()} == before
    assert not (tmp_path / "existing.changes.jsonl").exists()
    fix(messy_beir, existing, overwrite=True)
    assert load_retrieval(existing).corpus == {"d1": "green tea", "d2": "black tea", "d3": "Green tea!"}
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    with pytest.raises(DataError, match="not a retrieval folder"):
        fix(messy_beir, other, overwrite=True)
    assert [p.name for p in other.iterdir()] == ["mine.txt"]
    with pytest.raises(DataError, match="log would be inside"):
        fix(messy_beir, tmp_path / "clean", tmp_path / "clean" / "log.jsonl")


def test_a_fix_that_fails_while_writing_leaves_no_folder(tmp_path, messy_beir, monkeypatch):
    import embedlab.quality.fix_retrieval as module

    def fail(folder, *args, **kwargs):
        (folder / "corpus.jsonl").write_text('{"_id": "d1", "text": "half"}\n')
        raise OSError("disk full")

    monkeypatch.setattr(module, "dump_beir", fail)
    with pytest.raises(OSError, match="disk full"):
        fix(messy_beir, tmp_path / "out" / "clean")
    assert list((tmp_path / "out").iterdir()) == []
