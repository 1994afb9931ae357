import json
from pathlib import Path

import pytest

from embedlab.data.records import read_records
from embedlab.data.writer import container_of, describe, write_records
from embedlab.errors import DataError


def records(values, field="x"):
    return [(Path("in.jsonl"), i + 1, {field: v}) for i, v in enumerate(values)]


@pytest.mark.parametrize("name, container", [("a.jsonl", "jsonl"), ("a.NDJSON", "jsonl"), ("a.parquet", "parquet"),
                                              ("folder", "dataset")])
def test_the_container_follows_the_output_path(tmp_path, name, container):
    assert container_of(tmp_path / name) == container


def test_an_unknown_suffix_is_refused(tmp_path):
    with pytest.raises(DataError, match=r"'\.tsv'.*name it .jsonl or .parquet"):
        container_of(tmp_path / "a.tsv")


def test_the_first_conflicting_row_is_named_far_into_a_column(tmp_path):
    values = [[0.5, 1]] * 500 + [["a"]] + [[2.0]] * 10
    with pytest.raises(DataError, match=r"in.jsonl:501: field 'x': is a list of strings here but a list of "
                                        r"numbers at line 1"):
        write_records(records(values), tmp_path / "o.parquet", "parquet")
    assert list(tmp_path.iterdir()) == []


def test_a_value_no_table_can_hold_is_named(tmp_path):
    with pytest.raises(DataError, match=r"in.jsonl:2: field 'x': cannot be stored in a table column"):
        write_records(records([1, 2 ** 70]), tmp_path / "o.parquet", "parquet")


@pytest.mark.parametrize("value, words", [(True, "true/false"), (3, "an integer"), (0.5, "a number"),
                                          ("s", "a string"), ({"a": 1}, "an object"), ([], "a list"),
                                          ([None, "s"], "a list of strings"), ([[1]], "a list of lists")])
def test_describe(value, words):
    assert describe(value) == words


@pytest.mark.parametrize("name, container", [("o.jsonl", "jsonl"), ("o.parquet", "parquet"), ("o", "dataset")])
def test_every_container_reads_back_the_same_values(tmp_path, name, container):
    rows = [(Path("in.jsonl"), 1, {"q": "a", "l": ["x", "y"], "n": 1, "o": {"k": [1.5]}}),
            (Path("in.jsonl"), 2, {"q": "b", "l": [], "n": 2, "o": {"k": []}})]
    missing = write_records(rows, tmp_path / name, container)
    assert missing == {}
    assert [r for _, _, r in read_records(tmp_path / name)] == [r for _, _, r in rows]


def test_jsonl_names_a_value_json_cannot_hold(tmp_path):
    rows = [(Path("in.parquet"), 7, {"q": "a", "raw": b"\x00"})]
    with pytest.raises(DataError, match=r"in.parquet:7: field 'raw': a bytes cannot be written as JSON"):
        write_records(rows, tmp_path / "o.jsonl", "jsonl")
    assert not (tmp_path / "o.jsonl").exists()


def test_jsonl_is_utf8_and_unescaped(tmp_path):
    write_records([(Path("i"), 1, {"q": "为这个句子"})], tmp_path / "o.jsonl", "jsonl")
    text = (tmp_path / "o.jsonl").read_text(encoding="utf-8")
    assert text == '{"q": "为这个句子"}\n' and json.loads(text) == {"q": "为这个句子"}
