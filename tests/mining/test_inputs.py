"""What mining reads: rows (files and retrieval folders), candidate corpora, and what it will embed."""

from __future__ import annotations

import pytest

from embedlab.errors import DataError
from embedlab.mining.config import MiningConfig
from embedlab.mining.inputs import read_corpus, read_rows, texts_to_embed
from tests.conftest import write_beir, write_jsonl
from tests.mining.conftest import ROW


def test_rows_without_positive_are_skipped_and_counted(rerank_file, tmp_path):
    rows = [{"query": "x", "positive": [], "negative": ["y"]}, {"query": "q", "pos": ["p"], "neg": []}]
    source = read_rows(write_jsonl(tmp_path / "rows.jsonl", rows))
    assert [r.query for r in source.rows] == ["q"] and source.skipped == {"no_positive": 1}


def test_retrieval_folder_rows_and_corpus(tmp_path, retrieval_dir):
    source = read_rows(retrieval_dir)
    by_id = {r.record["_id"]: r for r in source.rows}
    assert by_id["q1"].positives == ["green tea is brewed at 80 degrees", "black tea needs boiling water"]
    assert by_id["q2"].negatives == ["oil the bicycle chain monthly"]  # judged 0
    assert source.skipped == {"no_judgments": 1}
    assert set(read_corpus(retrieval_dir)) == set(source.corpus.values())
    assert source.candidates() == list(dict.fromkeys(source.corpus.values()))
    rows = read_rows(write_jsonl(tmp_path / "rows.jsonl", [ROW, {**ROW, "_id": "r2", "negative": ["a", "pos"]}]))
    assert rows.candidates() == ["pos", "e", "a"]  # every passage of the rows, once, first-seen order
    corpus_file = write_jsonl(tmp_path / "corpus.jsonl", [{"_id": "1", "title": "T", "text": "body"},
                                                          {"_id": "2", "text": "other"}])
    assert read_corpus(corpus_file) == ["T body", "other"]


def test_bad_rows_name_file_and_line(tmp_path):
    from embedlab.errors import DataError

    path = write_jsonl(tmp_path / "rows.jsonl", [{"query": "q", "positive": ["p", " "], "negative": []}])
    with pytest.raises(DataError, match=r"rows.jsonl:1: field 'positive': empty passage"):
        read_rows(path)


def test_write_beir_helper_layout_is_read(tmp_path):
    folder = write_beir(tmp_path / "b", {"d1": "x", "d2": "y"}, {"q": "x?"}, [("q", "d1", 1)])
    source = read_rows(folder)
    assert source.rows[0].positives == ["x"] and source.corpus == {"d1": "x", "d2": "y"}


def test_texts_to_embed_per_model_and_kind(tmp_path):
    rows = read_rows(write_jsonl(tmp_path / "rows.jsonl", [ROW, {**ROW, "_id": "r2", "positive": ["other"]}])).rows
    corpus = ["a", "pos"]
    first = texts_to_embed(rows, corpus, MiningConfig())
    assert first == {"query": ["q"], "document": ["a", "pos", "other"]}  # candidates, then positives not in them
    kept = MiningConfig(keep_given=True)
    assert texts_to_embed(rows, corpus, kept)["document"] == ["a", "pos", "e", "other"]
    assert texts_to_embed(rows, corpus, kept, second_model=True) == first  # the second model scores no given ones


def test_read_corpus_drops_empty_texts_and_duplicates(tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl", [{"text": "x"}, {"text": "x"}, {"title": "", "text": "y"}])
    assert read_corpus(path) == ["x", "y"]
    with pytest.raises(DataError, match=r"bad.jsonl:1: field 'text': missing"):
        read_corpus(write_jsonl(tmp_path / "bad.jsonl", [{"body": "x"}]))
