import pytest

from embedlab.report.notes import cost_note
from embedlab.run.evaluation import RunOptions, evaluate
from tests.conftest import FakeEncoder

pytest.importorskip("faiss")


def test_an_approximate_search_reports_its_cost_against_exact(retrieval_dir):
    exact = evaluate(FakeEncoder(), [retrieval_dir])
    run = evaluate(FakeEncoder(), [retrieval_dir], run=RunOptions(index="hnsw"))
    cost = run.runs[0].embedding["approximate_search"]["beir"]
    assert cost["method"] == "hnsw" and cost["queries_sampled"] == 3  # the judged queries, all of them
    assert cost["recall@6_vs_exact"] == 1.0 and cost["ndcg@10_change"] == 0.0  # a 6-document corpus: no miss
    assert run.runs[0].tasks[0].scores == pytest.approx(exact.runs[0].tasks[0].scores)
    note = cost_note(cost)
    assert note.startswith("hnsw: recall@6 1.0000 against exact search, ndcg@10 +0.0000 [+0.0000, +0.0000]")
    assert "exact" not in evaluate(FakeEncoder(), [retrieval_dir]).runs[0].embedding
