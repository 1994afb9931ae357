import pytest

from embedlab.data.training import load_training
from embedlab.errors import DataError
from tests.conftest import write_jsonl


def test_both_key_styles_prompt_and_rows_without_negatives(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [
        {"query": "q1", "pos": ["p1"], "neg": ["n1", "n2"], "prompt": "Represent: "},
        {"query": "q2", "positive": ["p2"], "negative": []},
        {"query": "q3", "pos": ["p3"]},
        {"query": "q4", "pos": [], "neg": ["n4"]},
    ])
    data = load_training(path)
    assert [r.query for r in data.rows] == ["q1", "q2", "q3"]
    assert data.rows[0].prompt == "Represent: " and data.rows[0].negatives == ("n1", "n2")
    assert data.rows[1].negatives == () and data.rows[2].negatives == ()
    assert data.skipped == {"no_positive": 1}
    assert data.passages() == ["p1", "n1", "n2", "p2", "p3"]


@pytest.mark.parametrize("row, match", [
    ({"query": " ", "pos": ["p"]}, "field 'query': empty query"),
    ({"query": "q", "pos": ["p", ""]}, "field 'positive': empty passage"),
    ({"query": "q", "pos": "p"}, "field 'pos': expected a list"),
])
def test_bad_rows_name_line_and_field(tmp_path, row, match):
    path = write_jsonl(tmp_path / "t.jsonl", [{"query": "ok", "pos": ["p"]}, row])
    with pytest.raises(DataError, match=rf"t.jsonl:2: {match}"):
        load_training(path)
