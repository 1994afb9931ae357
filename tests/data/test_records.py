"""data/records.py: records of JSONL, parquet and dataset folders with their locations; typed fields."""

from __future__ import annotations

import pytest

from embedlab.data.records import (
    MAX_NESTING,
    choose_split,
    find_split_files,
    id_field,
    nesting,
    plain,
    read_json,
    read_jsonl,
    read_records,
    task_name,
    text_field,
)
from embedlab.errors import DataError
from tests.conftest import write_jsonl


def test_jsonl_records_carry_their_line_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('\ufeff{"q": 1}\n\n  \n{"q": 2}\r\n', encoding="utf-8")
    assert [(line, record) for _, line, record in read_records(path)] == [(1, {"q": 1}), (4, {"q": 2})]
    assert list(read_jsonl(path))[0][0] == path


@pytest.mark.parametrize("content, message", [
    (b'{"q": 1}\n{"q": \n', r"a.jsonl:2: malformed JSON: Expecting value"),
    (b'[1, 2]\n', r"a.jsonl:1: expected a JSON object, got list"),
    (b'{"q": "\xff"}\n', r"a.jsonl:1: not valid UTF-8 \(byte 7\)"),
])
def test_unreadable_lines_are_named(tmp_path, content, message):
    (tmp_path / "a.jsonl").write_bytes(content)
    with pytest.raises(DataError, match=message):
        list(read_records(tmp_path / "a.jsonl"))


def test_parquet_rows_are_numbered_from_one(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([{"q": "a"}, {"q": "b"}]), tmp_path / "t.parquet")
    assert [(line, r) for _, line, r in read_records(tmp_path / "t.parquet")] == [(1, {"q": "a"}), (2, {"q": "b"})]


def test_a_folder_of_split_files_reads_the_evaluation_split(tmp_path):
    write_jsonl(tmp_path / "hf" / "data" / "train-00000-of-00001.jsonl", [{"q": "train"}])
    write_jsonl(tmp_path / "hf" / "data" / "test.jsonl", [{"q": "test"}])
    assert set(find_split_files(tmp_path / "hf")) == {"train", "test"}
    assert [r["q"] for _, _, r in read_records(tmp_path / "hf")] == ["test"]
    assert [r["q"] for _, _, r in read_records(tmp_path / "hf", split="train")] == ["train"]
    with pytest.raises(DataError, match="no split 'dev' here; found: test, train"):
        list(read_records(tmp_path / "hf", split="dev"))
    with pytest.raises(DataError, match="several splits and none is the default"):
        choose_split({"a": [], "b": []}, None, tmp_path)
    with pytest.raises(DataError, match="no such file or directory"):
        list(read_records(tmp_path / "missing.jsonl"))


def test_fields_ids_and_names():
    record = {"query": "q", "n": 3, "_id": 7, "none": None}
    assert text_field(record, ("query",), path="f", line=1) == "q"
    assert text_field(record, ("none", "absent"), path="f", line=1, required=False) is None
    with pytest.raises(DataError, match="f:2: field 'n': expected a string, got int"):
        text_field(record, ("n",), path="f", line=2)
    with pytest.raises(DataError, match="field 'text or body': missing"):
        text_field(record, ("text", "body"), path="f", line=2)
    assert id_field(record, ("_id",), path="f", line=1) == "7"
    with pytest.raises(DataError, match="expected a string id, got bool"):
        id_field({"_id": True}, ("_id",), path="f", line=1)


def test_plain_and_task_name(tmp_path):
    import numpy as np

    assert plain({"v": np.array([1, 2]), "s": "x"}) == {"v": [1, 2], "s": "x"}
    path = write_jsonl(tmp_path / "t2" / "test.jsonl", [{"q": 1}])
    assert task_name(path) == "t2/test" and task_name(tmp_path / "t2") == "t2"


@pytest.mark.parametrize("depth", [150, 100_000])
def test_deeply_nested_json_is_one_line_not_a_recursion_error(tmp_path, depth):
    """Issue 24, item 20: a line nested 100,000 deep was a RecursionError traceback in eval, inspect, split, convert
    and estimate; one nested deeper than any record needs (and than a writer can write back) is refused too."""
    deep = "[" * depth + "]" * depth
    (tmp_path / "a.jsonl").write_text('{"query": "q"}\n{"query": "q", "meta": ' + deep + "}\n", encoding="utf-8")
    with pytest.raises(DataError) as error:
        list(read_records(tmp_path / "a.jsonl"))
    assert f"a.jsonl:2: nested {depth + 1:,} levels deep (at most {MAX_NESTING} are read)" in str(error.value)
    (tmp_path / "r.json").write_text('{"runs": ' + deep + "}", encoding="utf-8")
    with pytest.raises(DataError, match=f"r.json: nested {depth + 1:,} levels deep"):
        read_json(tmp_path / "r.json", what="results file", hint="")


def test_nesting_skips_brackets_inside_strings():
    assert nesting('{"a": "[[[[{{{", "b": [[1], {"c": "]]]\\"[["}]}') == 3 and nesting("1") == 0
