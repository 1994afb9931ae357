from __future__ import annotations

import json

import pytest

from embedlab.data import load_reranking
from embedlab.errors import DataError
from tests.conftest import RERANK_ROWS, write_jsonl


def test_cmteb_keys_and_skip_counts(rerank_file):
    task = load_reranking(rerank_file)
    assert [r.id for r in task.rows] == ["a", "b", "c"]
    assert task.skipped == {"no_negative": 1}
    assert task.counts()["rows_skipped"] == 1
    assert task.rows[1].positives == ("patch the inner tube of the tyre", "replace the tube when the hole is large")


def test_flagembedding_keys_give_the_same_task(tmp_path, rerank_file):
    flag = [{"query": r["query"], "pos": r["positive"], "neg": r["negative"], "_id": r["_id"]}
            for r in RERANK_ROWS]
    task = load_reranking(write_jsonl(tmp_path / "flag.jsonl", flag))
    assert task.fingerprint() == load_reranking(rerank_file).fingerprint()


def test_parquet_and_hf_snapshot_and_saved_dataset(tmp_path, rerank_file):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    datasets = pytest.importorskip("datasets")
    expected = load_reranking(rerank_file).fingerprint()
    table = pa.Table.from_pylist(RERANK_ROWS)
    pq.write_table(table, tmp_path / "rows.parquet")
    assert load_reranking(tmp_path / "rows.parquet").fingerprint() == expected
    # a downloaded C-MTEB/T2Reranking snapshot: data/dev-00000-of-00001.parquet (one split, 'dev')
    snapshot = tmp_path / "T2Reranking"
    (snapshot / "data").mkdir(parents=True)
    pq.write_table(table, snapshot / "data" / "dev-00000-of-00001.parquet")
    (snapshot / "README.md").write_text("---\n---\n")
    assert load_reranking(snapshot).fingerprint() == expected
    saved = tmp_path / "saved"
    datasets.DatasetDict({"test": datasets.Dataset.from_list(RERANK_ROWS)}).save_to_disk(str(saved))
    assert load_reranking(saved).fingerprint() == expected


def test_several_splits_need_a_choice(tmp_path):
    write_jsonl(tmp_path / "snap" / "train.jsonl", RERANK_ROWS)
    write_jsonl(tmp_path / "snap" / "other.jsonl", RERANK_ROWS[:2])
    with pytest.raises(DataError, match="several splits"):
        load_reranking(tmp_path / "snap")
    assert len(load_reranking(tmp_path / "snap", split="other").rows) == 2


@pytest.mark.parametrize("line,match,field", [
    ('{"query": "q", "positive": ["p"], "negative": ["n"]\n', "malformed JSON", None),
    ('["not", "an", "object"]\n', "expected a JSON object", None),
    ('{"positive": ["p"], "negative": ["n"]}\n', "missing", "query"),
    ('{"query": 3, "positive": ["p"], "negative": ["n"]}\n', "expected a string", "query"),
    ('{"query": "q", "positive": "p", "negative": ["n"]}\n', "list of strings", "positive"),
    ('{"query": "q", "positive": ["p", 5], "negative": ["n"]}\n', "item 1", "positive"),
    ('{"query": "q", "positive": ["p"]}\n', "missing", "negative or neg"),
])
def test_errors_name_file_line_and_field(tmp_path, line, match, field):
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"query": "ok", "positive": ["p"], "negative": ["n"]}) + "\n"
    path.write_text(good + "\n" + line, encoding="utf-8")
    with pytest.raises(DataError, match=match) as info:
        load_reranking(path)
    assert info.value.line == 3 and str(path) in str(info.value)
    assert info.value.field == field


def test_non_utf8_and_duplicate_ids(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"query": "caf\xe9", "positive": ["p"], "negative": ["n"]}\n')
    with pytest.raises(DataError, match="UTF-8") as info:
        load_reranking(path)
    assert info.value.line == 1
    dup = write_jsonl(tmp_path / "dup.jsonl", [RERANK_ROWS[0], RERANK_ROWS[0]])
    with pytest.raises(DataError, match="duplicate id 'a'") as info:
        load_reranking(dup)
    assert info.value.line == 2


def test_a_file_with_no_usable_row_is_an_error(tmp_path):
    path = write_jsonl(tmp_path / "empty.jsonl", [{"query": "q", "positive": [], "negative": ["n"]}])
    with pytest.raises(DataError, match="no usable rows"):
        load_reranking(path)


def test_a_lone_surrogate_is_invalid_text_at_read_time(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"query": "q", "positive": ["ok \\ud83d\\ude00"], "negative": ["n"]}\n'
                    '{"query": "q2", "positive": ["p"], "negative": ["bad \\ud800 text"]}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"r.jsonl:2: field 'negative': invalid text: a lone surrogate \\ud800"):
        load_reranking(path)


@pytest.mark.parametrize("content", [b"not parquet at all", b"PAR1\x00\x00\x00"])
def test_a_file_that_is_not_parquet_is_one_line(tmp_path, content):
    pytest.importorskip("pyarrow")
    path = tmp_path / "rows.parquet"
    path.write_bytes(content)
    with pytest.raises(DataError, match="rows.parquet: cannot be read as a parquet file"):
        load_reranking(path)


def test_one_definition_of_a_repeated_row_id_for_every_reader(tmp_path):
    """eval refused repeated ids but inspect --strict found no error and fix, convert, split and mine passed
    them through. Now every reader applies `RowIds`: refused, reported, or removed (first kept)."""
    from embedlab.data.convert import convert
    from embedlab.data.split import split_rows
    from embedlab.mining import read_rows
    from embedlab.quality import fix, inspect_path

    rows = [{"_id": "a", "query": f"q{i}", "positive": [f"p{i}"], "negative": [f"n{i}"]} for i in range(2)]
    rows += [{"_id": "b", "query": "q9", "positive": ["p9"], "negative": ["n9"]}]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for read in (load_reranking, read_rows, lambda p: split_rows(p, tmp_path / "split"),
                 lambda p: convert(p, tmp_path / "out.jsonl", to="flag")):
        with pytest.raises(DataError, match=r"rows.jsonl:2: field '_id': duplicate id 'a' \(first seen at .*rows.jsonl:1\)"):
            read(path)
    finding = inspect_path(path).finding("duplicate_id")
    assert finding is not None and finding.severity == "error" and finding.count == 1
    result = fix(path, tmp_path / "clean.jsonl")
    assert result.actions == {"removed_duplicate_id": 1} and result.rows_written == 2
    assert [r.id for r in load_reranking(tmp_path / "clean.jsonl").rows] == ["a", "b"]
