import json

import pytest

from embedlab.data.retrieval import load_retrieval
from embedlab.data.split_retrieval import split_retrieval
from embedlab.data.training import load_training
from embedlab.errors import DataError
from tests.conftest import write_beir, write_jsonl


@pytest.fixture
def folder(tmp_path):
    corpus = {f"d{i}": f"passage number {i}" for i in range(10)}
    queries = {f"q{i}": f"query {i}" for i in range(10)}
    qrels = [(f"q{i}", f"d{i}", 1) for i in range(10)] + [("q0", "d1", 1), ("q9", "d8", 2), ("q9", "d7", 0)]
    folder = write_beir(tmp_path / "synth", corpus, queries, qrels)
    write_jsonl(folder / "reranking.jsonl", [{"_id": "q3", "query": "query 3", "positive": ["passage number 3"],
                                              "negative": ["passage number 5", "passage number 6"]}])
    return folder


def test_no_passage_is_a_positive_of_train_and_of_held_out_queries(folder, tmp_path):
    out = tmp_path / "split"
    report = split_retrieval(folder, out, test=0.3, dev=0.2, seed=1)
    train = load_training(out / "train.jsonl")
    held = {name: load_retrieval(out / name) for name in ("test", "dev")}
    train_positives = {p for row in train.rows for p in row.positives}
    for task in held.values():
        assert len(task.corpus) == 10  # the whole corpus
        positives = {task.corpus[d] for judged in task.qrels.values() for d, g in judged.items() if g > 0}
        assert not positives & train_positives
    queries = {row.query for row in train.rows} | {q for task in held.values() for q in task.queries.values()}
    assert len(queries) == 10 and report.query_groups_merged == 2  # q0 with q1 (d1), q8 with q9 (d8)
    # whole groups: dev takes a group of two when it holds one query and wants two
    assert report.queries == {"train": len(train.rows), "test": 3, "dev": 3} and len(train.rows) == 4
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["layout"] == "retrieval, split by passage" and set(manifest["files"]) == {"train", "test", "dev"}


def test_rows_hold_positives_by_grade_then_judged_and_mined_negatives(folder, tmp_path):
    split_retrieval(folder, tmp_path / "split", test=0.1, seed=0)
    rows = {json.loads(line)["_id"]: json.loads(line) for line in (tmp_path / "split" / "train.jsonl").open()}
    assert rows["q9"]["positive"] == ["passage number 8", "passage number 9"]  # grade 2 first
    assert rows["q9"]["negative"] == ["passage number 7"]  # judged 0
    assert rows["q3"]["negative"] == ["passage number 5", "passage number 6"]  # mined into reranking.jsonl
    assert rows["q4"] == {"_id": "q4", "query": "query 4", "positive": ["passage number 4"], "negative": []}


def test_outputs_are_checked_first_and_appear_together(folder, tmp_path):
    with pytest.raises(DataError, match="would overwrite or change the input"):
        split_retrieval(folder, folder / "split")
    (tmp_path / "split").mkdir()
    (tmp_path / "split" / "train.jsonl").write_text("mine")
    with pytest.raises(DataError, match="already exists"):
        split_retrieval(folder, tmp_path / "split")
    assert sorted(p.name for p in (tmp_path / "split").iterdir()) == ["train.jsonl"]
