"""Fixtures the command tests share."""

from __future__ import annotations

import pytest

from embedlab import evaluate
from embedlab.demo import RERANKING, RETRIEVAL
from tests.conftest import FakeEncoder
from tests.report.test_page import _curve


@pytest.fixture
def saved(tmp_path):
    """Two results files of a fake encoder and a curve file."""
    other = FakeEncoder(query_prefix="zz ")
    other.name = "fake-with-prefix"
    evaluate(FakeEncoder(), [RERANKING, RETRIEVAL]).to_json(tmp_path / "A.json")
    evaluate(other, [RERANKING, RETRIEVAL]).to_json(tmp_path / "B.json")
    curve = _curve()
    curve.path = tmp_path / "curve.json"
    curve.save()
    return tmp_path


@pytest.fixture
def run_file(tmp_path):
    """A results file of the fake encoder on the demo reranking rows, in a folder of its own."""
    path = tmp_path / "runs" / "fake.json"
    evaluate(FakeEncoder(), RERANKING).to_json(path)
    return path
