"""`inspect` of a retrieval folder: inconsistencies `load_retrieval` refuses are reported with counts and lines."""

from __future__ import annotations

import pytest

from embedlab.data.retrieval import load_retrieval
from embedlab.errors import DataError
from embedlab.quality.inspect import inspect_path
from embedlab.quality.inspect_retrieval import inspect_retrieval
from tests.conftest import write_beir


def test_retrieval_inconsistencies_are_reported_not_raised(messy_beir):
    with pytest.raises(DataError):
        load_retrieval(messy_beir)
    inspection = inspect_path(messy_beir)
    assert inspection.layout == "retrieval"
    found = {f.code: (f.severity, f.count, f.locations) for f in inspection.findings}
    assert found == {
        "duplicate_id": ("error", 1, ["corpus.jsonl:5"]),
        "qrels_unknown_query": ("error", 1, ["qrels.tsv:4"]),
        "qrels_unknown_doc": ("error", 1, ["qrels.tsv:3"]),
        "conflicting_judgment": ("error", 1, ["qrels.tsv:7"]),
        "empty_text": ("error", 1, ["corpus.jsonl:4"]),
        "query_without_judgment": ("warning", 1, ["queries.jsonl:3"]),
        "query_without_relevant": ("warning", 1, ["queries.jsonl:5"]),
        "duplicate_query": ("warning", 1, ["queries.jsonl:4"]),
        "duplicate_judgment": ("info", 1, ["qrels.tsv:6"]),
        "normalised_duplicate_document": ("info", 1, ["corpus.jsonl:3"]),
    }
    assert inspection.finding("qrels_unknown_doc").examples[0].text == "corpus-id 'd9'"
    assert inspection.finding("conflicting_judgment").examples[0].text == "q2 d2: 0 here, 1 at qrels.tsv:5"
    assert inspection.counts == {"documents": 4, "queries": 5, "judgments": 8, "judged_queries": 4,
                                 "queries_with_relevant": 3, "relevant_documents": 2}
    assert inspection.per_row["relevant"] == {"min": 0, "mean": 0.75, "max": 1}
    assert set(inspection.lengths) == {"query", "document"}


def test_clean_retrieval_folder_has_only_the_unjudged_query(retrieval_dir):
    inspection = inspect_retrieval(retrieval_dir)
    assert [(f.code, f.count) for f in inspection.findings] == [("query_without_judgment", 1)]
    assert inspection.counts["relevant_documents"] == 4


def test_duplicate_documents(tmp_path):
    folder = write_beir(tmp_path / "b", {"d1": "same", "d2": "same", "d3": "other"}, {"q1": "a"}, [("q1", "d1", 1)])
    finding = inspect_retrieval(folder).finding("duplicate_document")
    assert (finding.count, finding.locations, finding.details) == (1, ["corpus.jsonl:2"], {"rows": 2})
