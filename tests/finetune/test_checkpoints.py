"""The run folder across runs: the last complete checkpoint, resume keeping its curve, clear, best/."""

import json
from pathlib import Path

import pytest

from embedlab.finetune.checkpoints import (
    last_checkpoint,
    prune_checkpoints,
    resume_or_clear,
    step_of,
    training_finished,
    write_best,
)
from embedlab.results.curve import Curve


def checkpoint(out_dir, step, complete=True):
    folder = out_dir / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    for name in ("model.safetensors", "optimizer.pt", "scheduler.pt", "rng_state.pth"):
        (folder / name).write_text(f"{name} of step {step}")
    if complete:
        (folder / "trainer_state.json").write_text("{}")
    return folder


def previous_run(out_dir, metric="test/v1.map"):
    points = [{"step": s, "scores": {"test": {"v1.map": s / 10}}} for s in (0, 2, 4, 6)]
    loss = [{"step": s, "loss": 1.0 / s} for s in (1, 3, 5)]
    Curve(metric, {}, points, loss, out_dir / "curve.json").save()
    for name in ("curve.png", "summary.json"):
        (out_dir / name).write_text("old")
    (out_dir / "best").mkdir()


def test_step_of_and_last_checkpoint_skip_what_the_trainer_did_not_finish(tmp_path):
    assert step_of(checkpoint(tmp_path, 4)) == 4
    assert step_of(checkpoint(tmp_path, 10, complete=False)) is None  # killed while saving
    (tmp_path / "checkpoint-x").mkdir()
    assert last_checkpoint(tmp_path) == tmp_path / "checkpoint-4"
    assert last_checkpoint(tmp_path / "checkpoint-x") is None


def test_resume_keeps_the_curve_up_to_the_checkpoint(tmp_path):
    previous_run(tmp_path)
    checkpoint(tmp_path, 4)
    curve, notes = Curve("test/v1.map", {}), []
    assert resume_or_clear(tmp_path, curve, resume=True, announce=notes.append) == tmp_path / "checkpoint-4"
    assert [p["step"] for p in curve.points] == [0, 2, 4] and [p["step"] for p in curve.loss] == [1, 3]
    assert notes == ["resuming from checkpoint-4 (3 curve points kept)"]
    assert curve.path == tmp_path / "curve.json" and (tmp_path / "best").is_dir()
    other = Curve("test/v1.mrr@10", {})  # another curve metric: its points are measured again
    resume_or_clear(tmp_path, other, resume=True, announce=notes.append)
    assert other.points == []


def test_no_resume_clears_the_previous_run_outputs(tmp_path):
    previous_run(tmp_path)
    checkpoint(tmp_path, 4)
    curve = Curve("test/v1.map", {})
    assert resume_or_clear(tmp_path, curve, resume=False, announce=pytest.fail) is None
    # the old run's checkpoints go too: a later resume of the new run must not find them
    assert sorted(p.name for p in tmp_path.iterdir()) == [] and curve.points == []


def test_best_is_the_checkpoint_model_without_trainer_state_and_replaces_the_old_one(tmp_path):
    checkpoint(tmp_path, 2)
    (tmp_path / "best").mkdir()
    (tmp_path / "best" / "stale.bin").write_text("from an earlier run")
    write_best(tmp_path, 2, "base-model", trained_model=None, device="cpu")
    best = tmp_path / "best"
    assert sorted(p.name for p in best.iterdir()) == ["embedlab-best.json", "model.safetensors"]
    assert (best / "model.safetensors").read_text() == "model.safetensors of step 2"
    assert json.loads((best / "embedlab-best.json").read_text()) == {"step": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best", "checkpoint-2"]  # no partial folder


def test_best_pruned_by_keep_checkpoints_is_the_trained_model(tmp_path):
    class Trained:
        def save(self, path):
            Path(path, "weights").write_text("trained")

    write_best(tmp_path, 8, "base-model", trained_model=Trained(), device="cpu")
    assert (tmp_path / "best" / "weights").read_text() == "trained"
    assert json.loads((tmp_path / "best" / "embedlab-best.json").read_text()) == {"step": 8}


def test_training_finished_reads_the_trainer_state(tmp_path):
    folder = checkpoint(tmp_path, 4)
    state = folder / "trainer_state.json"
    state.write_text(json.dumps({"global_step": 4, "max_steps": 8}))
    assert not training_finished(folder)
    state.write_text(json.dumps({"global_step": 8, "max_steps": 8}))
    assert training_finished(folder)
    stopped = {"TrainerControl": {"args": {"should_training_stop": True}}}  # early stopping
    state.write_text(json.dumps({"global_step": 4, "max_steps": 8, "stateful_callbacks": stopped}))
    assert training_finished(folder)


def test_prune_keeps_the_last_n_and_the_given_steps(tmp_path):
    for step in (2, 4, 6, 8, 10):
        checkpoint(tmp_path, step)
    checkpoint(tmp_path, 12, complete=False)  # being written: never touched
    steps = lambda: sorted(int(p.name.split("-")[1]) for p in tmp_path.glob("checkpoint-*"))
    assert prune_checkpoints(tmp_path, None, set()) == [] and steps() == [2, 4, 6, 8, 10, 12]
    assert prune_checkpoints(tmp_path, 2, {4}) == [2, 6]
    assert steps() == [4, 8, 10, 12]
    assert prune_checkpoints(tmp_path, 1, {0}) == [4, 8] and steps() == [10, 12]
