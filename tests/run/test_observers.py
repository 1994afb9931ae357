"""`eval --save-run` (`run.observers.SavedRuns`): the rankings scored are saved as TREC runs (every kind of run: a
dense model, BM25, a run file, a weight sweep, two-stage), read back with `-m run:` they give the same scores,
nothing is computed twice, the folder is checked before any model runs; and the price of paid runs is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

import embedlab
from embedlab.data.trec_run import read_run, run_file_name
from embedlab.errors import DataError
from embedlab.run.evaluation import IncompleteRun, RunOptions
from embedlab.run.observers import SAVED_DEPTH
from tests.conftest import FakeEncoder, write_beir


@pytest.fixture
def tied_dir(tmp_path) -> Path:
    """Retrieval data where documents tie: the same text under several ids (every model scores them alike)."""
    corpus = {"d1": "green tea is brewed at 80 degrees", "d2": "black tea needs boiling water",
              "d3": "patch the inner tube of a bicycle tyre", "d4": "a cactus needs little water",
              "d5": "black tea needs boiling water", "d6": "patch the inner tube of a bicycle tyre",
              "d7": "black tea needs boiling water", "d8": "ferns like humid air"}
    queries = {"q1": "brew black tea", "q2": "flat bicycle tyre", "q3": "water a cactus"}
    qrels = [("q1", "d1", 2), ("q1", "d5", 1), ("q2", "d3", 1), ("q3", "d4", 1), ("q3", "d8", 0)]
    return write_beir(tmp_path / "tied", corpus, queries, qrels)


def _per_query(results):
    return {run.model["name"]: [t.per_query for t in run.tasks] for run in results.runs}


def test_saved_runs_read_back_give_the_same_scores(tied_dir, tmp_path):
    runs = tmp_path / "runs"
    encoder = FakeEncoder()
    saved = embedlab.evaluate([encoder, "bm25"], [tied_dir], run=RunOptions(save_run=runs))
    files = {run.model["name"]: run.model["saved_runs"]["tied"] for run in saved.runs}
    assert files == {"fake-bigram": str(runs / "tied" / "fake-bigram.trec"), "bm25": str(runs / "tied" / "bm25.trec")}
    assert read_run(files["bm25"]).tags == ["bm25"]
    first = read_run(files["fake-bigram"]).rankings["q1"][0]
    assert first.index("d7") < first.index("d5") < first.index("d2")  # the tie, in trec_eval's order
    back = embedlab.evaluate([f"run:{files['fake-bigram']}", f"run:{files['bm25']}"], [tied_dir])
    assert list(_per_query(back).values()) == list(_per_query(saved).values())
    again = FakeEncoder()
    embedlab.evaluate([again], [tied_dir])
    assert again.texts_encoded == encoder.texts_encoded  # saving computed nothing twice


def test_a_deep_corpus_saves_the_top_100(tmp_path):
    corpus = {f"d{i:03d}": f"text number {i} " + "word " * (i % 7) for i in range(150)}
    folder = write_beir(tmp_path / "deep", corpus, {"q": "text number 5 word"}, [("q", "d005", 1), ("q", "d120", 1)])
    results = embedlab.evaluate(FakeEncoder(), [folder], run=RunOptions(save_run=tmp_path / "runs"))
    run = read_run(results.runs[0].model["saved_runs"]["deep"])
    assert run.documents == SAVED_DEPTH == 100
    back = embedlab.evaluate(f"run:{run.path}", [folder]).runs[0].tasks[0].per_query
    ours = results.runs[0].tasks[0].per_query
    assert {k: v for k, v in back.items() if not k.endswith("@1000")} == \
        {k: v for k, v in ours.items() if not k.endswith("@1000")}


def test_a_sweep_and_a_two_stage_run_save_each_of_their_runs(tied_dir, tmp_path):
    from embedlab.models.hybrid import Hybrid
    from tests.models.test_hybrid import WordOverlap
    from tests.scorers.test_two_stage import Oracle

    runs = tmp_path / "runs"
    swept = embedlab.evaluate(Hybrid([FakeEncoder(), WordOverlap()], weights="sweep"), [tied_dir],
                              run=RunOptions(save_run=runs))
    assert len({run.model["saved_runs"]["tied"] for run in swept.runs}) == len(swept.runs) == 13
    staged = embedlab.evaluate(FakeEncoder(), [tied_dir], run=RunOptions(save_run=runs, reranker=Oracle(),
                                                                         rerank_depths=(2, 8)))
    paths = [run.model["saved_runs"]["tied"] for run in staged.runs]
    # the names of the two stages are not file names: each gets a hash of its name (issue 24, item 9)
    assert [Path(p).name for p in paths] == ["fake-bigram.trec", f"{run_file_name('fake-bigram >> oracle@2')}.trec",
                                             f"{run_file_name('fake-bigram >> oracle@8')}.trec"]
    assert Path(paths[1]).name.startswith("fake-bigram_oracle@2-")
    back = embedlab.evaluate([f"run:{p}" for p in paths], [tied_dir])
    assert list(_per_query(back).values()) == list(_per_query(staged).values())


def test_an_existing_run_is_replaced_and_other_files_are_kept(tied_dir, tmp_path):
    runs = tmp_path / "runs"
    (runs / "tied").mkdir(parents=True)
    (runs / "tied" / "fake-bigram.trec").write_text("old", encoding="utf-8")
    (runs / "tied" / "production.trec").write_text("q1 Q0 d1 1 1 es\n", encoding="utf-8")
    embedlab.evaluate(FakeEncoder(), [tied_dir], run=RunOptions(save_run=runs))
    assert (runs / "tied" / "fake-bigram.trec").read_text().startswith("q1 Q0 ")
    assert (runs / "tied" / "production.trec").read_text() == "q1 Q0 d1 1 1 es\n"
    assert sorted(p.name for p in (runs / "tied").iterdir()) == ["fake-bigram.trec", "production.trec"]


@pytest.mark.parametrize("where", ["inside", "file", "holds"])
def test_the_folder_is_checked_before_any_model_runs(tied_dir, tmp_path, where):
    target = {"inside": tied_dir / "runs", "file": tied_dir / "queries.jsonl", "holds": tmp_path}[where]
    encoder = FakeEncoder()
    with pytest.raises(DataError):
        embedlab.evaluate(encoder, [tied_dir], run=RunOptions(save_run=target))
    assert encoder.calls == [] and not (tied_dir / "runs").exists()


def test_ids_with_whitespace_are_refused_before_any_model_runs(tmp_path):
    folder = write_beir(tmp_path / "spaced", {"doc 1": "a", "d2": "b"}, {"q1": "a"}, [("q1", "doc 1", 1)])
    encoder = FakeEncoder()
    with pytest.raises(DataError, match="the id 'doc 1' of task spaced has whitespace"):
        embedlab.evaluate(encoder, [folder], run=RunOptions(save_run=tmp_path / "runs"))
    assert encoder.calls == []


def test_the_runs_of_the_tasks_done_are_written_when_a_later_one_fails(tied_dir, retrieval_dir, tmp_path):
    class Breaks(FakeEncoder):
        def encode(self, texts, kind="document"):
            if any("chain monthly" in t for t in texts):  # a document of the second task only
                raise RuntimeError("boom")
            return super().encode(texts, kind)

    with pytest.raises(IncompleteRun) as error:
        embedlab.evaluate(Breaks(), [tied_dir, retrieval_dir], run=RunOptions(save_run=tmp_path / "runs"))
    assert list(error.value.results.runs[0].model["saved_runs"]) == ["tied"]
    assert (tmp_path / "runs" / "tied" / "fake-bigram.trec").exists()


def test_models_whose_names_make_the_same_file_name_get_their_own_files(tied_dir, tmp_path):
    """`alt x` then `alt_x`, saved by two evals into one folder: the second does not replace the first's run
    (issue 24, item 9)."""
    paths = []
    for name in ("alt x", "alt_x"):
        encoder = FakeEncoder(name)
        encoder.name = name
        run = embedlab.evaluate(encoder, [tied_dir], run=RunOptions(save_run=tmp_path / "runs")).runs[0]
        paths.append(run.model["saved_runs"]["tied"])
        assert run.model["saved_runs_sha256"]["tied"] == read_run(paths[-1]).sha256
    assert paths[0] != paths[1] and all(Path(p).exists() for p in paths)
    assert read_run(paths[0]).tags == ["alt_x"] and Path(paths[1]).name == "alt_x.trec"
