import json

import pytest

from embedlab.data.resolve import load_cmteb as load_task
from embedlab.errors import DataError, UnknownNameError
from embedlab.tasks.cmteb import TASKS, lookup, parse_name
from tests.cli.test_main import run

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


@pytest.fixture
def data_dir(tmp_path):
    """Hand-made snapshots in C-MTEB's hub layouts: a plain folder, and a hub-cache folder."""
    _write(tmp_path / "T2Reranking" / "data" / "dev-00000-of-00001.parquet", [
        {"query": "茶怎么泡", "positive": ["绿茶用八十度的水泡"], "negative": ["自行车链条每月上油", "仙人掌少浇水"]},
        {"query": "补胎", "positive": ["内胎破了要补"], "negative": ["绿茶用八十度的水泡"]},
    ])
    snapshot = tmp_path / "datasets--C-MTEB--T2Retrieval" / "snapshots" / "0123abc"
    _write(snapshot / "data" / "corpus-00000-of-00001.parquet",
           [{"id": "d1", "text": "绿茶用八十度的水泡"}, {"id": "d2", "text": "内胎破了要补"}])
    _write(snapshot / "data" / "queries-00000-of-00001.parquet",
           [{"id": "q1", "text": "茶怎么泡"}, {"id": "q2", "text": "没人判断的问题"}])
    _write(tmp_path / "C-MTEB" / "T2Retrieval-qrels" / "data" / "dev-00000-of-00001.parquet",
           [{"qid": "q1", "pid": "d1", "score": 1}])
    return tmp_path


def test_tasks_load_from_local_snapshots(data_dir):
    rerank = load_task("T2Reranking", data_dir=data_dir)
    assert rerank.name == "T2Reranking" and rerank.type == "reranking" and len(rerank.rows) == 2
    retrieval = load_task("t2retrieval", data_dir=data_dir)  # names are case-insensitive
    assert retrieval.name == "T2Retrieval" and retrieval.qrels == {"q1": {"d1": 1}}
    assert retrieval.corpus == {"d1": "绿茶用八十度的水泡", "d2": "内胎破了要补"}
    assert retrieval.skipped == {"no_judgments": 1}


def test_environment_variable_and_clear_failures(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_DATA_DIR", str(data_dir))
    assert load_task("T2Reranking").name == "T2Reranking"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(DataError, match="no local copy of mteb/MMarcoReranking or C-MTEB/Mmarco-reranking.*"
                                        "--revision 91c0f9d5.*--data-dir"):
        load_task("MMarcoReranking")
    with pytest.raises(UnknownNameError, match="did you mean 'T2Reranking'"):
        lookup("T2Reranknig")
    assert {"T2Reranking", "T2Retrieval", "CMedQAv2-reranking", "VideoRetrieval"} <= set(TASKS)


def test_task_by_name_from_the_command_line(data_dir):
    from embedlab.demo import default_model

    out = run("estimate", "-m", default_model(), "--task", "T2Reranking", "--task", "T2Retrieval",
              "--data-dir", str(data_dir), "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    # distinct texts across both tasks: 2 queries (one shared), 4 passages (the corpus repeats two)
    assert rows[0]["unique_texts"] == 2 + 4
    missing = run("estimate", "-m", default_model(), "--task", "T2Rerank", "--data-dir", str(data_dir))
    assert missing.returncode == 2 and "did you mean 'T2Reranking'" in missing.stderr


def test_every_task_mteb_lists_with_did_you_mean_and_the_names_it_had():
    assert len(TASKS) == 13 and TASKS["LeCaRDv2"].type == "retrieval" and TASKS["LeCaRDv2"].split == "test"
    assert TASKS["LeCaRDv2"].layouts == ("mteb",)  # never a C-MTEB dataset
    with pytest.raises(UnknownNameError, match="did you mean 'LeCaRDv2'"):
        lookup("LeCaRD2")
    assert lookup("CMedQAv1").name == "CMedQAv1-reranking"  # its name in old mteb results
    assert lookup("mmarco-reranking").name == "MMarcoReranking"  # C-MTEB's dataset name
    assert parse_name("C-MTEB/Mmarco-reranking") == (TASKS["MMarcoReranking"], "C-MTEB")
    assert parse_name("mteb/T2Retrieval") == (TASKS["T2Retrieval"], "mteb")
    with pytest.raises(UnknownNameError, match="C-MTEB dataset"):
        parse_name("C-MTEB/LeCaRDv2")


def test_the_same_task_from_both_layouts_gives_the_same_scores(tmp_path):
    from embedlab import evaluate
    from tests.conftest import FakeEncoder
    from tests.tasks.cmteb_snapshots import write_cmteb, write_mteb

    write_mteb(write_cmteb(tmp_path))
    for name in ("T2Reranking", "T2Retrieval"):
        old, new = load_task(f"C-MTEB/{name}", data_dir=tmp_path), load_task(f"mteb/{name}", data_dir=tmp_path)
        assert (old.dataset["layout"], new.dataset["layout"]) == ("C-MTEB", "mteb")
        assert old.skipped == new.skipped and old.counts() == new.counts()
        ours = evaluate(FakeEncoder(), [old, new])
        assert ours.runs[0].tasks[0].scores == ours.runs[0].tasks[1].scores
    assert old.fingerprint() == new.fingerprint()  # retrieval: same ids, same texts
    assert [r.id for r in load_task("mteb/T2Reranking", data_dir=tmp_path).rows][:2] == ["dev-0", "dev-1"]


def test_mteb_layout_first_and_where_each_copy_came_from(tmp_path):
    from tests.tasks.cmteb_snapshots import write_cmteb, write_mteb

    write_mteb(write_cmteb(tmp_path))
    rerank, retrieval = load_task("T2Reranking", data_dir=tmp_path), load_task("T2Retrieval", data_dir=tmp_path)
    assert rerank.dataset == {"task": "T2Reranking", "layout": "mteb", "repo": "mteb/T2Reranking",
                              "revision": TASKS["T2Reranking"].mteb_revision, "split": "dev"}  # hub-cache commit
    assert retrieval.dataset["revision"] == TASKS["T2Retrieval"].mteb_revision  # hf download --local-dir's record
    old = load_task("C-MTEB/T2Retrieval", data_dir=tmp_path).dataset
    assert old["revision"] == TASKS["T2Retrieval"].cmteb_revision and old["qrels_revision"] is None
    assert load_task("C-MTEB/T2Reranking", data_dir=tmp_path).dataset["revision"] is None  # a plain folder


def test_a_copy_of_the_other_type_is_refused(tmp_path):
    from tests.tasks.cmteb_snapshots import write_mteb

    write_mteb(tmp_path)
    (tmp_path / "mteb" / "T2Retrieval").rename(tmp_path / "mteb" / "VideoRetrieval")
    (tmp_path / "datasets--mteb--T2Reranking").rename(tmp_path / "datasets--mteb--CovidRetrieval")
    assert load_task("VideoRetrieval", data_dir=tmp_path).name == "VideoRetrieval"
    with pytest.raises(DataError, match="holds reranking data, but CovidRetrieval is a retrieval task"):
        load_task("CovidRetrieval", data_dir=tmp_path)


def test_layout_names_and_new_tasks_from_the_command_line(tmp_path):
    from embedlab.demo import default_model
    from tests.tasks.cmteb_snapshots import write_cmteb, write_mteb

    write_mteb(write_cmteb(tmp_path))
    out = run("estimate", "-m", default_model(), "--task", "mteb/T2Reranking", "--task", "C-MTEB/T2Retrieval",
              "--data-dir", str(tmp_path), "--format", "json")
    assert out.returncode == 0, out.stderr
    typo = run("estimate", "-m", default_model(), "--task", "LeCaRDv3", "--data-dir", str(tmp_path))
    assert typo.returncode == 2 and "did you mean 'LeCaRDv2'" in typo.stderr
    missing = run("estimate", "-m", default_model(), "--task", "LeCaRDv2", "--data-dir", str(tmp_path))
    assert missing.returncode == 2 and "no local copy of mteb/LeCaRDv2 (" in missing.stderr
