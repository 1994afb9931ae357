import json
from pathlib import Path

import pytest

from embedlab.data.records import read_records
from embedlab.data.writer import container_of, describe, dump_beir, write_beir, write_records
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


def test_a_beir_folder_that_load_retrieval_reads(tmp_path):
    from embedlab.data.retrieval import load_retrieval

    write_beir(tmp_path / "beir", [{"_id": "d1", "text": "green tea"}, {"_id": "d2", "title": "T", "text": "x"}],
               [{"_id": "q1", "text": "tea?"}], {("q1", "d1"): 1, ("q1", "d2"): 0})
    assert (tmp_path / "beir" / "qrels.tsv").read_text() == "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\n"
    task = load_retrieval(tmp_path / "beir")
    assert task.corpus == {"d1": "green tea", "d2": "T x"} and task.qrels == {"q1": {"d1": 1, "d2": 0}}
    assert [p.name for p in tmp_path.iterdir()] == ["beir"]


def test_an_id_qrels_cannot_hold_is_refused_and_nothing_is_left(tmp_path):
    with pytest.raises(DataError, match="holds a tab or a line break"):
        write_beir(tmp_path / "beir", [{"_id": "d\t1", "text": "a"}], [{"_id": "q", "text": "b"}], {("q", "d\t1"): 1})
    assert list(tmp_path.iterdir()) == []
    folder = tmp_path / "plain"
    folder.mkdir()
    dump_beir(folder, [{"_id": "d", "v": {1}}], [{"_id": "q", "text": "b"}], {}, default=sorted)
    assert json.loads((folder / "corpus.jsonl").read_text()) == {"_id": "d", "v": [1]}
