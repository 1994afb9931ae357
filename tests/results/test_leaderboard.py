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
    from embedlab.report.leaderboard import leaderboard_cells, variant_notes
    from embedlab.run.evaluation import RunOptions

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


def test_published_scores_beside_the_runs_marked_by_data_and_semantics(tmp_path):
    """`--mteb`: another dataset revision, C-MTEB's original data or a legacy file get their own data label; a
    reranking score of the other semantics is marked and kept out of the mean and the order."""
    pytest.importorskip("pyarrow")
    from embedlab.data.resolve import load_cmteb
    from embedlab.report.leaderboard import leaderboard_cells, variant_notes
    from tests.results.test_mteb_import import SNAPSHOT
    from tests.tasks.cmteb_snapshots import write_mteb

    write_mteb(tmp_path / "data")
    tasks = [load_cmteb(name, data_dir=tmp_path / "data") for name in ("T2Reranking", "T2Retrieval")]
    evaluate(FakeEncoder(), tasks).to_json(tmp_path / "runs" / "fake.json")
    board = leaderboard(tmp_path / "runs", mteb=SNAPSHOT)
    rerank, retrieval = board.tasks
    rows = {r["model"]: r for r in board.rows}
    assert [r["model"] for r in board.rows] == ["fake-bigram", "example-org/zh-embed-base",
                                                "example-org/zh-embed-legacy", "example-org/zh-embed-small"]
    small, base, legacy = (rows[f"example-org/zh-embed-{n}"] for n in ("small", "base", "legacy"))
    assert small["scores"][rerank] == 0.62115 and board.mark(small, rerank) == "v2" and small["mean"] is None
    assert board.label(small, rerank) == board.label(rows["fake-bigram"], rerank) == "a"  # the same revision
    assert board.label(base, rerank) == "b" and board.mark(base, rerank) == "" and base["mean"] is not None
    assert board.label(legacy, rerank) == "c" and retrieval not in legacy["scores"]
    assert board.label(small, retrieval) == "a" and board.label(base, retrieval) == "b"
    _, cells = leaderboard_cells(board)
    assert cells[3][1:3] == ["example-org/zh-embed-small (published)", "62.11 [a, v2]"]
    assert cells[3][-1] == "results/example-org__zh-embed-small/01234567…"
    notes = variant_notes(board)
    assert "[b] published: C-MTEB/T2Reranking@76631901, C-MTEB's original data (mteb 1.x)" in notes[0]
    assert "[c] published: dataset revision not recorded, legacy results format of mteb 1.1.0" in notes[0]
    assert "read from mteb/T2Reranking@a34fe6bc" in notes[0]
    assert "scores marked v2 are mteb 2.x's" in notes[2] and "--metric v2.map@1000" in notes[2]
    v2 = leaderboard(tmp_path / "runs", mteb=SNAPSHOT, metric="v2.map@1000", sort="T2Reranking")
    assert [r["model"] for r in v2.rows][:2] == ["fake-bigram", "example-org/zh-embed-small"]  # v1 scores sort last
    assert {v2.mark(r, "T2Reranking v2.map@1000") for r in v2.rows[2:]} == {"v1"}
    only = leaderboard(tmp_path / "runs", mteb=SNAPSHOT, mteb_models=("*legacy",))
    assert [r["model"] for r in only.rows] == ["fake-bigram", "example-org/zh-embed-legacy"]


def test_an_edited_score_is_left_out_and_said_not_ranked_first(results_dir):
    """Issue 24, item 10: a main score edited to 42 ranked first (and was exported as main_score 42)."""
    data = json.loads((results_dir / "a.json").read_text())
    data["runs"][0]["tasks"][0]["scores"]["v1.map"] = 42
    (results_dir / "edited.json").write_text(json.dumps(data))
    board = leaderboard(results_dir)
    assert [r["file"] for r in board.rows] == ["a.json", "nested/b.json"]
    assert board.damaged == [str(results_dir / "edited.json")] and len(board.skipped) == 3
    assert board.notes == [f"skipped {results_dir / 'edited.json'}: a damaged results file (runs[0].tasks[0]"
                           ".scores['v1.map'] is 42, outside 0..1)"]
    out = run("leaderboard", str(results_dir))
    assert out.returncode == 0 and "skipped 2 JSON file(s) that are not embedlab results" in out.stderr
    assert "edited.json: a damaged results file" in out.stderr


def test_a_weight_sweeps_points_are_left_out_of_the_ranking_and_said(tmp_path):
    """Issue 30, item 10: each weight of a sweep (chosen on the queries scored) was ranked among real models."""
    from embedlab.models.hybrid import Hybrid
    from tests.models.test_hybrid import WordOverlap

    evaluate(Hybrid([FakeEncoder(), WordOverlap()], weights="sweep"), RETRIEVAL).to_json(tmp_path / "sweep.json")
    board = leaderboard(tmp_path)
    assert {r["model"] for r in board.rows} == {"fake-bigram", "word-overlap"}  # the parts alone are models
    assert board.notes == ["left out 11 run(s) of hybrid weight sweeps: their weights were chosen on the queries "
                           "scored, so the best is optimistic; evaluate the hybrid at the --weights chosen to rank it"]


def test_published_scores_that_cannot_be_scores_are_left_out_and_said(tmp_path):
    """Issue 24, item 10: NaN, 82.931 (shown 8,293.10, first), -5 and 1e400 were taken; broken files dropped
    uncounted."""
    runs = tmp_path / "runs"
    evaluate(FakeEncoder(), RETRIEVAL).to_json(runs / "a.json")
    mteb = tmp_path / "mteb" / "results"
    for model, value in (("percent", "82.931"), ("nan", "NaN"), ("fine", "0.5")):
        path = mteb / f"org__{model}" / "r" / "Custom-demo_retrieval.json"
        path.parent.mkdir(parents=True)
        path.write_text('{"task_name": "Custom-demo_retrieval", "scores": {"test": [{"hf_subset": "default", '
                        f'"ndcg_at_10": {value}}}]}}}}')
    board = leaderboard(runs, mteb=tmp_path / "mteb")
    assert [r["model"] for r in board.rows] == ["fake-bigram", "org/fine"]
    (note,) = board.notes
    assert note.startswith("--mteb: left out 2 published result file(s) that cannot be used: ")
    assert "org__percent/r/Custom-demo_retrieval.json: its ndcg@10 score is 82.931, not a number in 0..1" in note


def test_ones_own_export_is_found_and_said_and_nothing_found_is_said(tmp_path):
    """Issue 30, item 10: `leaderboard --mteb` on one's own export of a sample found nothing and said nothing."""
    from embedlab.results.mteb_export import export_mteb
    from embedlab.run.evaluation import RunOptions

    results = evaluate(FakeEncoder(), RETRIEVAL, run=RunOptions(sample=5, seed=2))
    results.to_json(tmp_path / "runs" / "a.json")
    for file in export_mteb([results]).files:
        (tmp_path / "mteb" / file.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "mteb" / file.path).write_text(json.dumps(file.content))
    board = leaderboard(tmp_path / "runs", mteb=tmp_path / "mteb")
    assert [r["model"] for r in board.rows] == ["fake-bigram"] * 2 and board.variants == {}  # the same data
    assert board.notes == ["fake-bigram (published, fake-bigram/no_revision_available) has the scores of fake-bigram "
                           "in a.json on the same data: an export of that run, it adds nothing"]
    (tmp_path / "empty").mkdir()
    nothing = leaderboard(tmp_path / "runs", mteb=tmp_path / "empty")
    assert nothing.notes == [f"--mteb {tmp_path / 'empty'}: no published scores of demo/retrieval there: it adds "
                             "nothing to the table"]


def test_a_pruned_corpus_is_said_with_its_scores(tmp_path):
    """Issue 30, item 2: the label of a pruned sample did not say the corpus was pruned (scores inflated)."""
    from embedlab.run.evaluation import RunOptions

    evaluate(FakeEncoder(), RETRIEVAL, run=RunOptions(sample=5, seed=2, prune_corpus=3)).to_json(tmp_path / "p.json")
    board = leaderboard(tmp_path)
    assert board.notes == ["demo/retrieval ndcg@10: every run is on a seeded sample whose corpus was pruned: scores "
                           "higher than on the whole corpus"]
    evaluate(FakeEncoder(), RETRIEVAL).to_json(tmp_path / "whole.json")
    both = leaderboard(tmp_path)
    assert both.notes == [] and any("corpus pruned to judged + 3: scores higher than on the whole corpus" in key
                                    for key in both.variants["demo/retrieval ndcg@10"])
