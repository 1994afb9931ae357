import pytest

from embedlab.data.retrieval_rows import retrieval_rows
from embedlab.tasks.retrieval import RetrievalTask

CORPUS = {f"d{i}": f"text {i}" for i in range(40)}


def task(queries):
    qrels = {"q1": {"d3": 1, "d1": 1, "d2": 3, "d9": 0, "d8": 0}, "q2": {"d5": 1}, "q3": {"d6": 0}}
    return RetrievalTask("t", CORPUS, queries, {q: qrels[q] for q in queries}, "folder")


def test_positives_by_grade_then_id_judged_negatives_first():
    built = retrieval_rows(task({"q1": "one", "q3": "three"}), negatives=3, seed=0)
    (_, line, row), = built.rows
    assert line == 1 and row["_id"] == "q1" and row["positive"] == ["text 2", "text 1", "text 3"]
    assert row["negative"][:2] == ["text 8", "text 9"] and len(row["negative"]) == 5
    assert not set(row["negative"][2:]) & {"text 1", "text 2", "text 3", "text 8", "text 9"}
    assert built.no_positive == 1 and built.short_of_samples == 0


def test_samples_depend_on_seed_and_query_not_on_the_other_queries():
    alone = retrieval_rows(task({"q2": "two"}), negatives=4, seed=7).rows[0][2]
    together = retrieval_rows(task({"q1": "one", "q2": "two"}), negatives=4, seed=7).rows[1][2]
    other_seed = retrieval_rows(task({"q2": "two"}), negatives=4, seed=8).rows[0][2]
    assert alone == together and alone["negative"] != other_seed["negative"]


def test_without_ids_and_bad_count():
    assert "_id" not in retrieval_rows(task({"q2": "two"}), with_ids=False).rows[0][2]
    assert retrieval_rows(task({"q2": "two"})).without_negative == 1
    with pytest.raises(ValueError, match="negatives must be >= 0"):
        retrieval_rows(task({"q2": "two"}), negatives=-1)
