"""The real collections in ../shared/data load with the counts their README states (skipped if absent)."""

from __future__ import annotations

import pytest

from embedlab.data import load_reranking, load_retrieval
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is not present")


def test_xquad_r_zh_both_layouts():
    rerank = load_reranking(SHARED_DATA / "xquad_r_zh" / "reranking" / "test.jsonl")
    assert len(rerank.rows) + sum(rerank.skipped.values()) == 1157
    sentence = load_retrieval(SHARED_DATA / "xquad_r_zh" / "retrieval_sentence")
    assert len(sentence.corpus) == 1196 and sum(len(d) for d in sentence.qrels.values()) == 1205


def test_cranfield_graded_qrels():
    task = load_retrieval(SHARED_DATA / "cranfield_en" / "retrieval")
    assert len(task.corpus) == 1400 and len(task.queries) == 225
    assert {g for d in task.qrels.values() for g in d.values()} == {1, 2, 3, 4}
