"""Rows -> a retrieval collection: the corpus is the pool of passages, rows of one query text are one query."""

from __future__ import annotations

from pathlib import Path

import pytest

from embedlab.data.rows_to_retrieval import rows_to_retrieval
from embedlab.errors import DataError


def rows(*records):
    return [(Path("rows.jsonl"), line, record) for line, record in enumerate(records, start=1)]


def test_documents_are_numbered_in_first_seen_order_and_judged():
    c = rows_to_retrieval(rows({"_id": "a", "query": "tea", "positive": ["P1"], "negative": ["N1", "N2"]},
                               {"_id": "b", "query": "bike", "positive": ["P2", "N1"], "negative": ["P1"]}))
    assert c.corpus == {"d1": "P1", "d2": "N1", "d3": "N2", "d4": "P2"}
    assert c.queries == {"a": "tea", "b": "bike"}
    assert c.grades == {"a": {"d1": 1, "d2": 0, "d3": 0}, "b": {"d4": 1, "d2": 1, "d1": 0}}
    assert list(c.judgments) == [("a", "d1"), ("a", "d2"), ("a", "d3"), ("b", "d4"), ("b", "d2"), ("b", "d1")]
    assert c.corpus_records()[0] == {"_id": "d1", "text": "P1"} and c.query_records()[1] == {"_id": "b", "text": "bike"}


def test_rows_sharing_a_query_text_are_one_query_with_every_judgment():
    c = rows_to_retrieval(rows({"_id": "a", "query": "Brew tea?", "positive": ["P1"], "negative": ["N1"]},
                               {"_id": "b", "query": "brew tea", "positive": ["N1", "P2"], "negative": ["N3"]},
                               {"_id": "c", "query": "other", "pos": ["P3"], "neg": []}))
    assert c.queries == {"a": "Brew tea?", "c": "other"}  # the first row's id and text
    assert c.grades["a"] == {"d1": 1, "d2": 1, "d3": 1, "d4": 0}  # N1: negative of one row, positive of the other
    assert (c.merged_rows, c.both, c.rows_of) == (1, {("a", "d2")}, {"a": 2, "c": 1})


def test_the_same_passage_text_is_one_document():
    c = rows_to_retrieval(rows({"query": "q", "positive": ["Tea is green."], "negative": ["tea is green", " "]}))
    assert c.corpus == {"d1": "Tea is green."}
    assert c.grades == {"q1": {"d1": 1}} and c.both == {("q1", "d1")}
    assert (c.merged_passages, c.empty_passages) == (1, 1)


def test_ids_queries_without_positive_and_empty_queries():
    c = rows_to_retrieval(rows({"query": "no id", "positive": ["P1"]},
                               {"id": 7, "query": "integer id", "positive": ["P2"]},
                               {"_id": "z", "query": "only negatives", "positive": [], "negative": ["N9"]},
                               {"_id": "e", "query": "  ", "positive": ["P3"]}))
    assert c.queries == {"q1": "no id", "7": "integer id"}
    assert c.corpus == {"d1": "P1", "d2": "P2", "d3": "N9"}  # the pool keeps every passage of readable rows
    assert (c.no_positive, c.empty_queries) == (1, 1) and "z" not in c.grades
    numbered = rows_to_retrieval(rows({"_id": "x", "query": "a", "positive": ["P"]}), with_ids=False)
    assert list(numbered.queries) == ["q1"]


def test_fields_it_cannot_hold_are_collected_and_a_reused_id_is_refused():
    c = rows_to_retrieval(rows({"query": "a", "positive": ["P"], "prompt": "Represent: ", "_id": "a"}))
    assert c.dropped.rows == {"prompt": 1}
    with pytest.raises(DataError, match=r"rows.jsonl:2: field '_id': duplicate id 'a' \(first at rows.jsonl:1"):
        rows_to_retrieval(rows({"_id": "a", "query": "one", "positive": ["P"]},
                               {"_id": "a", "query": "another", "positive": ["Q"]}))
