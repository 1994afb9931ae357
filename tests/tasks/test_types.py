"""The task-type table: everything that differs between reranking and retrieval, in one place."""

import pytest

from embedlab.errors import UnknownNameError
from embedlab.tasks.types import TASK_TYPES, score_names, task_type


@pytest.mark.parametrize("name", sorted(TASK_TYPES))
def test_each_type_is_consistent(name):
    kind = TASK_TYPES[name]
    names = score_names(name)
    assert kind.name == name and kind.main_score in names
    assert set(kind.table_rows) <= set(names)
    assert kind.mteb[0].lower() == name


def test_types_are_looked_up_by_name_or_task(rerank_file):
    from embedlab.data import load_reranking

    assert task_type(load_reranking(rerank_file)) is TASK_TYPES["reranking"]
    assert task_type("retrieval").main_score == "ndcg@10"
    assert task_type("reranking").query_ids(load_reranking(rerank_file)) == ["a", "b", "c"]
    with pytest.raises(UnknownNameError, match="did you mean 'retrieval'"):
        task_type("retreival")
