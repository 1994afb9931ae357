"""The progress line: on a terminal a live line with the step, the loss and the latest score, and while a checkpoint
is scored which task and how many texts are encoded; in a log a plain line every EMBEDLAB_PROGRESS_SECONDS."""

import io
from types import SimpleNamespace

from rich.console import Console

from embedlab.finetune.progress import Announcer, progress_line, status
from embedlab.results.curve import Curve


def curve():
    points = [{"step": s, "scores": {"test": {"v1.map": v}}} for s, v in ((0, 0.5), (2, 0.7), (4, 0.6))]
    return Curve("test/v1.map", {}, points, [{"step": 4, "loss": 1.25}])


def test_status_has_the_loss_the_latest_score_and_the_best():
    assert status(curve()) == "loss 1.2500 · test/v1.map 0.6000 (best 0.7000 at step 2)"
    assert status(Curve("test/v1.map", {})) == ""


def test_a_terminal_gets_one_line():
    out = io.StringIO()
    line = progress_line(curve(), Console(file=out, force_terminal=True, width=120))
    state = SimpleNamespace(max_steps=8, global_step=4)
    line.on_train_begin(None, state, None)
    line.on_step_end(None, SimpleNamespace(max_steps=8, global_step=5), None)
    said = []
    line.announcing(said.append)("step 5: test/v1.map 0.7000")  # the live line steps aside, then returns
    assert said == ["step 5: test/v1.map 0.7000"] and line.bar.live.is_started
    line.on_train_end(None, state, None)
    assert not line.bar.live.is_started
    text = out.getvalue()
    assert "fine-tuning" in text and "5/8" in text and "best 0.7000 at step 2" in text and "{'loss'" not in text


def test_the_line_says_which_task_is_scored_and_how_far():
    """issue 30, item 8: `finetune` printed nothing while a checkpoint was scored (minutes per point)."""
    out = io.StringIO()
    line = progress_line(curve(), Console(file=out, force_terminal=True, width=160))
    line.on_train_begin(None, SimpleNamespace(max_steps=8, global_step=4), None)
    announce = line.announcing(lambda text: None)
    assert isinstance(announce, Announcer)
    announce.scoring(4, "test", 0, 1186)
    announce.scoring(4, "test", 512, 1186)
    assert line.bar.tasks[0].fields["status"].startswith("scoring step 4 on test: 512 of 1,186 texts encoded (43%, ")
    line.bar.refresh()
    assert "scoring step 4 on test: 512 of 1,186 texts encoded" in out.getvalue()
    announce.scoring(4)  # done: the score and loss again
    assert line.bar.tasks[0].fields["status"] == status(curve())
    line.stop()


def test_a_log_gets_a_plain_line_for_the_steps_and_the_scoring(monkeypatch):
    """Before, a log (nohup, CI) got nothing at all between curve points."""
    monkeypatch.setenv("EMBEDLAB_PROGRESS_SECONDS", "0")
    out = io.StringIO()
    line = progress_line(curve(), Console(file=out, force_terminal=False, width=300))
    line.on_train_begin(None, SimpleNamespace(max_steps=8, global_step=0), None)
    line.on_step_end(None, SimpleNamespace(max_steps=8, global_step=2), None)
    said = []
    announce = line.announcing(said.append)
    announce.scoring(2, "guard", 0, 40)
    announce.scoring(2, "guard", 40, 40)
    announce("step 2: test/v1.map 0.7000")
    line.stop()
    printed = out.getvalue().splitlines()
    assert printed[0].startswith("fine-tuning: step 2 of 8 (25%), ") and printed[0].endswith(
        "left; loss 1.2500 · test/v1.map 0.6000 (best 0.7000 at step 2)")
    assert printed[1:] == ["scoring step 2 on guard: 0 of 40 texts encoded", printed[2]]
    assert printed[2].startswith("scoring step 2 on guard: 40 of 40 texts encoded (100%, ")
    assert said == ["step 2: test/v1.map 0.7000"]
    quiet = io.StringIO()
    monkeypatch.setenv("EMBEDLAB_PROGRESS_SECONDS", "3600")
    line = progress_line(curve(), Console(file=quiet, force_terminal=False))
    line.on_train_begin(None, SimpleNamespace(max_steps=8, global_step=0), None)
    line.on_step_end(None, SimpleNamespace(max_steps=8, global_step=1), None)
    assert quiet.getvalue() == ""  # a step shorter than the interval adds nothing to the log
