"""Results JSON in and out: atomic writes, a clear error for a file that is not results."""

import json

import pytest

from embedlab.errors import DataError
from embedlab.results.results import Results
from tests.results.test_table import results


def test_to_json_round_trip_through_a_file_and_text(tmp_path):
    path = tmp_path / "deep" / "r.json"
    text = results().to_json(path)
    assert Results.from_json(path) == results() == Results.from_json(text)
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]  # written via a renamed partial file


@pytest.mark.parametrize("content, message", [
    ('{"runs": [{"model"', r"not a readable results file \(invalid JSON"),
    (json.dumps({"metric": "test/v1.map", "points": []}), "no list of 'runs'"),
])
def test_a_file_that_is_not_results_is_a_clear_error_naming_it(tmp_path, content, message):
    path = tmp_path / "r.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message) as caught:
        Results.from_json(path)
    assert str(path) in str(caught.value) and "embedlab eval -o" in str(caught.value)
