import dataclasses
import json

import pytest

from embedlab import evaluate
from embedlab.data.resolve import load_cmteb
from embedlab.demo import RERANKING, RETRIEVAL
from embedlab.errors import DataError, UnknownNameError
from embedlab.results.mteb_export import custom_task_name, export_mteb, folder_name, mteb_scores
from embedlab.results.table import short_name
from embedlab.run.evaluation import RunOptions
from embedlab.tasks.cmteb import TASKS
from tests.conftest import FakeEncoder
from tests.tasks.cmteb_snapshots import write_cmteb, write_mteb

REVISION = TASKS["T2Reranking"].mteb_revision


@pytest.fixture
def named(tmp_path):
    pytest.importorskip("pyarrow")
    write_mteb(write_cmteb(tmp_path))
    tasks = [load_cmteb(n, data_dir=tmp_path) for n in ("T2Reranking", "C-MTEB/T2Retrieval", "C-MTEB/T2Reranking")]
    return tasks


def test_named_tasks_keep_mtebs_name_split_language_and_the_revision_read(named):
    rerank, retrieval, _ = named
    results = evaluate(FakeEncoder(), [rerank, retrieval])
    files = {str(f.path): f for f in export_mteb([results]).files}
    assert set(files) == {"fake-bigram/no_revision_available/model_meta.json",
                          "fake-bigram/no_revision_available/T2Reranking.json",
                          "fake-bigram/no_revision_available/T2Retrieval.json"}
    t2 = files["fake-bigram/no_revision_available/T2Reranking.json"].content
    ours = results.runs[0].tasks[0].scores
    assert t2["task_name"] == "T2Reranking" and t2["dataset_revision"] == REVISION
    assert t2["mteb_version"].startswith("2.")
    (entry,) = t2["scores"]["dev"]
    assert entry == {"map_at_1000": ours["v2.map@1000"], "mrr_at_10": ours["v2.mrr@10"],
                     "ndcg_at_10": ours["v2.ndcg@10"], "main_score": ours["v2.map@1000"], "hf_subset": "default",
                     "languages": ["cmn-Hans"], "mteb_version": t2["mteb_version"]}
    assert t2["embedlab"]["reranking_v1"] == {"map": ours["v1.map"], "mrr_at_10": ours["v1.mrr@10"]}
    assert "v2" in t2["embedlab"]["semantics"] and t2["evaluation_time"] >= 0
    retrieval_file = files["fake-bigram/no_revision_available/T2Retrieval.json"].content
    assert retrieval_file["dataset_revision"] == TASKS["T2Retrieval"].cmteb_revision  # C-MTEB's, as read
    assert retrieval_file["scores"]["dev"][0]["main_score"] == results.runs[0].tasks[1].scores["ndcg@10"]
    assert retrieval_file["scores"]["dev"][0]["recall_at_1000"] == results.runs[0].tasks[1].scores["recall@1000"]


def test_an_unrecorded_revision_is_the_tables_and_said(named):
    old_rerank = named[2]  # a plain folder: no commit recorded
    out = export_mteb([evaluate(FakeEncoder(), old_rerank)])
    content = out.files[1].content
    assert content["dataset_revision"] == TASKS["T2Reranking"].cmteb_revision
    assert "assumed" in content["embedlab"]["data"] and "did not record its commit" in out.notes[0]


def test_custom_data_samples_and_old_results_are_custom_tasks(named):
    results = evaluate(FakeEncoder(), [RERANKING, RETRIEVAL])
    files = export_mteb([results], language="eng-Latn").files
    rerank = files[1].content
    assert rerank["task_name"] == "Custom-demo_reranking" == custom_task_name("demo/reranking")
    assert rerank["dataset_revision"] == results.runs[0].tasks[0].data_hash
    assert list(rerank["scores"]) == ["test"] and rerank["scores"]["test"][0]["languages"] == ["eng-Latn"]
    sampled = export_mteb([evaluate(FakeEncoder(), named[0], run=RunOptions(sample=2, seed=3))])
    assert sampled.files[1].task == "Custom-T2Reranking-sample-2-of-5-seed-3" and "a sample" in sampled.notes[0]
    old = evaluate(FakeEncoder(), named[0])
    old.runs[0].tasks[0] = dataclasses.replace(old.runs[0].tasks[0], dataset=None)  # written before provenance
    out = export_mteb([old])
    assert out.files[1].task == "Custom-T2Reranking" and "re-run eval" in out.notes[0]


def test_model_names_revisions_and_collisions(named):
    results = evaluate(FakeEncoder(), [RERANKING])
    results.runs[0].model.update(name="/data/models/bge-tuned/checkpoint-24", revision="dir-sha256:46e89f",
                                 dimension=64)
    (meta, task) = export_mteb([results]).files
    assert str(task.path) == "bge-tuned__checkpoint-24/dir-sha256_46e89f/Custom-demo_reranking.json"
    assert meta.content["name"] == "bge-tuned/checkpoint-24" and meta.content["revision"] == "dir-sha256_46e89f"
    assert meta.content["embed_dim"] == 64 and meta.content["model_type"] == ["dense"]
    renamed = export_mteb([results], name="my-org/bge tuned", revision="v1").files
    assert str(renamed[1].path) == "my-org__bge_tuned/v1/Custom-demo_reranking.json"
    with pytest.raises(DataError, match="would both be written to"):
        export_mteb([results, results])
    assert len(export_mteb([results, results], models=("bge-tuned/checkpoint-24 [run 1]",)).files) == 2
    with pytest.raises(UnknownNameError, match="unknown model 'nope'"):
        export_mteb([results], models=("nope",))
    with pytest.raises(DataError, match="--name names one model"):
        export_mteb([results, results], name="a/b")
    assert folder_name("bm25:char >> ce@10") == "bm25_char____ce@10"


def test_scores_in_mtebs_names(named):
    results = evaluate(FakeEncoder(), [named[0], named[1]])
    rerank, retrieval = results.runs[0].tasks
    assert mteb_scores(rerank) == ({"map_at_1000": rerank.scores["v2.map@1000"],
                                    "mrr_at_10": rerank.scores["v2.mrr@10"],
                                    "ndcg_at_10": rerank.scores["v2.ndcg@10"]}, "map_at_1000")
    scores, main = mteb_scores(retrieval)
    assert main == "ndcg_at_10" and scores["hit_rate_at_5"] == retrieval.scores["hit_rate@5"] and len(scores) == 42


@pytest.mark.slow
def test_mtebs_result_cache_and_load_results_read_them_back(named, tmp_path, monkeypatch):
    """The proof: mteb 2.x itself reads the exported files, named tasks validated against its metadata."""
    mteb = pytest.importorskip("mteb")
    from embedlab.demo import default_model
    from tests.cli.test_main import run

    results = evaluate(default_model(), [*named[:2], RERANKING])
    results.to_json(tmp_path / "run.json")
    out = run("export-mteb", str(tmp_path / "run.json"), "-o", str(tmp_path / "cache" / "results"), "--format", "json")
    assert out.returncode == 0, out.stderr
    written = json.loads(out.stdout)
    ours = {t.task: t.scores for t in results.runs[0].tasks}
    expected = {"T2Reranking": ours["T2Reranking"]["v2.map@1000"], "T2Retrieval": ours["T2Retrieval"]["ndcg@10"],
                "Custom-demo_reranking": ours["demo/reranking"]["v2.map@1000"]}
    assert {w["task"]: w["main_score"] for w in written} == expected
    loaded = mteb.ResultCache(tmp_path / "cache").load_results()
    (model,) = loaded.model_results
    assert {t.task_name: t.get_score() for t in model.task_results} == pytest.approx(expected, abs=0)
    assert model.model_name == short_name(results.runs[0].model["name"])  # a local path's last parts
    from mteb.models.model_meta import ModelMeta

    meta = next((tmp_path / "cache" / "results").glob("*/*/model_meta.json"))
    assert ModelMeta.model_validate_json_resolved(meta.read_text()).name == model.model_name
    monkeypatch.setenv("MTEB_CACHE", str(tmp_path / "cache"))
    validated = mteb.load_results(download_latest=False, tasks=["T2Reranking", "T2Retrieval"])
    (model,) = validated.model_results
    scores = {t.task_name: t.get_score() for t in model.task_results}
    assert scores == {"T2Reranking": expected["T2Reranking"], "T2Retrieval": expected["T2Retrieval"]}
    scores = {t.task_name: t.scores["dev"][0] for t in model.task_results}
    assert scores["T2Reranking"]["mrr_at_10"] == ours["T2Reranking"]["v2.mrr@10"]
    assert scores["T2Retrieval"]["recall_at_100"] == ours["T2Retrieval"]["recall@100"]


def test_a_pruned_sample_says_so_in_its_name_and_its_note_once_per_task(retrieval_dir):
    """Issue 30, item 2: the name said "sample-200-of-200" and nothing of the pruned corpus (which inflates scores);
    item 10: each sample note was printed once per run."""
    options = RunOptions(sample=2, seed=3, prune_corpus=1)
    results = evaluate([FakeEncoder(), FakeEncoder("query: ")], [retrieval_dir], run=options)
    results.runs[1].model["name"] = "other"
    out = export_mteb([results])
    tasks = [file.task for file in out.files if file.task]
    assert tasks == ["Custom-beir-sample-2-of-3-seed-3-pruned-1"] * 2
    assert out.notes == ["beir: a sample, not mteb's task (seeded sample of 2 of 3 (seed 3), corpus pruned to their "
                         "judged documents + 1 others: scores are higher than on the whole corpus): exported as "
                         "Custom-beir-sample-2-of-3-seed-3-pruned-1"]
