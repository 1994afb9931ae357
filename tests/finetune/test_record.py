"""run.json: the record of a run, what differs from another, and what a run folder holds for a resume."""

import json

import pytest

from embedlab.data.training import TrainingData, TrainRow
from embedlab.errors import EmbedlabError
from embedlab.finetune import FinetuneConfig
from embedlab.finetune.record import RESUMABLE, differences, previous_run, run_record, training_hash
from embedlab.results.curve import Curve
from tests.finetune.test_checkpoints import checkpoint


def data(*queries):
    return TrainingData([TrainRow(i + 1, q, ("p",), ("n",)) for i, q in enumerate(queries)], "train.jsonl")


def record(tmp_path, config=None, train=("a", "b"), test_hash="sha256:test"):
    model = tmp_path / "model"
    model.mkdir(exist_ok=True)
    (model / "config.json").write_text("{}")
    curve = Curve("test/v1.map", {"test": {"data_hash": test_hash}})
    return run_record(str(model), data(*train), curve, config or FinetuneConfig())


def test_the_record_holds_config_model_and_data_hashes(tmp_path):
    r = record(tmp_path)
    assert r["config"] == FinetuneConfig().as_dict() and r["model"]["spec"] == str((tmp_path / "model").resolve())
    assert r["data"] == {"train": training_hash(data("a", "b")), "test": "sha256:test"}
    assert training_hash(data("a", "b")) != training_hash(data("a", "c"))
    assert run_record("BAAI/bge-small-zh-v1.5", data("a"), Curve("test/v1.map", {}),
                      FinetuneConfig())["model"]["spec"] == "BAAI/bge-small-zh-v1.5"


def test_differences_name_what_changed_and_skip_what_may_change_on_a_resume(tmp_path):
    old = record(tmp_path)
    assert differences(old, record(tmp_path)) == []
    new = record(tmp_path, FinetuneConfig(learning_rate=2e-5, max_steps=10), train=("a", "c"), test_hash="x")
    assert differences(old, new) == ["max-steps None -> 10", "lr 1e-05 -> 2e-05", "train data changed",
                                     "test data changed"]
    resumable = FinetuneConfig(device="cuda:1", eval_batch_size=8, mini_batch_size=4,
                               gradient_checkpointing=True, keep_checkpoints=None)
    assert set(RESUMABLE) == {"device", "eval_batch_size", "mini_batch_size", "gradient_checkpointing",
                              "keep_checkpoints"}
    assert differences(old, record(tmp_path, resumable)) == []
    moved = {**old, "model": {"spec": "/elsewhere", "revision": old["model"]["revision"]}}
    assert differences(moved, old) == [f"model /elsewhere -> {(tmp_path / 'model').resolve()}"]
    assert differences({**old, "model": {**old["model"], "revision": "dir-sha256:0"}}, old) == [
        "model files changed"]
    assert differences({**old, "data": {"train": old["data"]["train"]}}, old) == ["test data added"]


def test_previous_run_resumes_the_same_run_and_refuses_another(tmp_path):
    out = tmp_path / "run"
    mine = record(tmp_path)
    assert previous_run(out, mine, resume=True).checkpoint is None  # no folder yet: nothing to resume
    out.mkdir()
    assert previous_run(out, mine, resume=True).checkpoint is None  # no checkpoint: starts over
    checkpoint(out, 2)
    with pytest.raises(EmbedlabError, match="no run.json .* cannot be checked.*--no-resume"):
        previous_run(out, mine, resume=True)
    (out / "run.json").write_text("{")
    with pytest.raises(EmbedlabError, match="not readable JSON"):
        previous_run(out, mine, resume=True)
    (out / "run.json").write_text(json.dumps(mine))
    found = previous_run(out, mine, resume=True)
    assert found.checkpoint == out / "checkpoint-2" and not found.complete  # trainer state: not finished
    with pytest.raises(EmbedlabError, match=r"another configuration \(lr 1e-05 -> 0.001\).*another output folder"):
        previous_run(out, record(tmp_path, FinetuneConfig(learning_rate=1e-3)), resume=True)
    assert previous_run(out, record(tmp_path, FinetuneConfig(learning_rate=1e-3)), resume=False).checkpoint is None
    (out / "checkpoint-2" / "trainer_state.json").write_text(json.dumps({"global_step": 2, "max_steps": 2}))
    assert not previous_run(out, mine, resume=True).complete  # finished training, no summary yet
    (out / "summary.json").write_text("{}")
    assert previous_run(out, mine, resume=True).complete
