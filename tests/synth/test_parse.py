import pytest

from embedlab.synth.parse import parse_queries


@pytest.mark.parametrize("text, n, expected", [
    ('{"queries": ["who won?", "when"]}', 2, ["who won?", "when"]),
    ('["who won?"]', 2, ["who won?"]),  # a bare list, fewer than asked: kept
    ('```json\n{"queries": ["a  b\\n c"]}\n```', 1, ["a b c"]),  # one code fence around the whole answer; spaces joined
    ('  {"queries": ["谁赢了？"]}  ', 1, ["谁赢了？"]),
])
def test_a_strict_answer_is_read(text, n, expected):
    assert parse_queries(text, n) == (expected, "")


@pytest.mark.parametrize("text, n, reason", [
    ("", 1, "empty answer"),
    ("   ", 1, "empty answer"),
    ("Sure! 1. who won? 2. when?", 2, "not JSON"),
    ('Here you go: {"queries": ["who won?"]}', 1, "not JSON"),  # JSON inside free text is not dug out
    ('{"queries": ["who', 1, "not JSON"),
    ('{"questions": ["who?"]}', 1, "not a list of queries"),
    ('{"queries": [1, 2]}', 2, "not a list of queries"),
    ('{"queries": []}', 1, "empty answer"),
    ('{"queries": ["who?", " "]}', 2, "an empty query"),
    ('{"queries": ["a", "b", "c"]}', 2, "3 queries for 2 asked"),
])
def test_anything_else_is_a_reason_never_a_query(text, n, reason):
    assert parse_queries(text, n) == ([], reason)
