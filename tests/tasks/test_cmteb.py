import json

import pytest

from embedlab.errors import DataError, UnknownNameError
from embedlab.data.resolve import load_cmteb as load_task
from embedlab.tasks.cmteb import TASKS, lookup
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
    with pytest.raises(DataError, match="no local copy of C-MTEB/MMarcoReranking.*--data-dir"):
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
