import json

import pytest

from embedlab import evaluate
from embedlab.demo import RERANKING, RETRIEVAL
from embedlab.errors import UnknownNameError
from embedlab.results.leaderboard import leaderboard
from tests.cli.test_main import run
from tests.conftest import FakeEncoder


@pytest.fixture
def results_dir(tmp_path):
    weak = FakeEncoder(query_prefix="zzzz qqqq ")
    weak.name = "weak-fake"
    evaluate(FakeEncoder(), [RERANKING, RETRIEVAL]).to_json(tmp_path / "a.json")
    evaluate(weak, RERANKING).to_json(tmp_path / "nested" / "b.json")
    (tmp_path / "notes.json").write_text('{"not": "results"}')
    (tmp_path / "broken.json").write_text("{")
    return tmp_path


def test_every_run_one_row_sorted_by_mean_or_task(results_dir):
    board = leaderboard(results_dir)
    assert board.tasks == ["demo/reranking v1.map", "demo/retrieval ndcg@10"]
    assert [r["model"] for r in board.rows] == ["fake-bigram", "weak-fake"]  # weak has no mean: last
    saved = json.loads((results_dir / "a.json").read_text())
    assert board.rows[0]["scores"]["demo/reranking v1.map"] == saved["runs"][0]["tasks"][0]["scores"]["v1.map"]
    assert board.rows[1]["mean"] is None and len(board.skipped) == 2
    by_rerank = leaderboard(results_dir, sort="demo/reranking")
    values = [r["scores"]["demo/reranking v1.map"] for r in by_rerank.rows]
    assert values == sorted(values, reverse=True)
    with pytest.raises(UnknownNameError, match="sort column"):
        leaderboard(results_dir, sort="nope")


def test_leaderboard_command(results_dir):
    out = run("leaderboard", str(results_dir), "--format", "markdown")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith("| # | model | demo/reranking v1.map")
    assert "| 1 | fake-bigram |" in out.stdout and "skipped 2 JSON" in out.stderr


def test_runs_on_other_data_or_another_sample_are_never_mixed_unmarked(tmp_path):
    """The first release ranked a full run and a seeded sample in one column without a mark."""
    from embedlab.evaluation import RunOptions
    from embedlab.report.leaderboard import leaderboard_cells, variant_notes

    evaluate(FakeEncoder(), RERANKING).to_json(tmp_path / "full.json")
    evaluate(FakeEncoder(), RERANKING, run=RunOptions(sample=10, seed=1)).to_json(tmp_path / "sample.json")
    evaluate(FakeEncoder(), RERANKING, run=RunOptions(sample=10, seed=1)).to_json(tmp_path / "sample2.json")
    board = leaderboard(tmp_path)
    column = "demo/reranking v1.map"
    assert board.variants[column] and len(set(board.variants[column].values())) == 2
    labels = {r["file"]: board.label(r, column) for r in board.rows}
    assert labels["sample.json"] == labels["sample2.json"] != labels["full.json"]
    _, cells = leaderboard_cells(board)
    assert all(cell.endswith(("[a]", "[b]")) for cell in (row[2] for row in cells))
    (note,) = variant_notes(board)
    assert "sample 10 of 37, seed 1" in note and "(all)" in note
    same = leaderboard(tmp_path, sort=None)
    assert same.variants == board.variants
    alone = tmp_path / "alone"
    alone.mkdir()
    (tmp_path / "full.json").rename(alone / "full.json")
    assert leaderboard(alone).variants == {}  # one kind of data: no marks
