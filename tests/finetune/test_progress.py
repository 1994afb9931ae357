"""The progress line: drawn on a terminal only, with the step, the loss and the latest score."""

import io
from types import SimpleNamespace

from rich.console import Console

from embedlab.finetune.progress import progress_line, status
from embedlab.results.curve import Curve


def curve():
    points = [{"step": s, "scores": {"test": {"v1.map": v}}} for s, v in ((0, 0.5), (2, 0.7), (4, 0.6))]
    return Curve("test/v1.map", {}, points, [{"step": 4, "loss": 1.25}])


def test_status_has_the_loss_the_latest_score_and_the_best():
    assert status(curve()) == "loss 1.2500 · test/v1.map 0.6000 (best 0.7000 at step 2)"
    assert status(Curve("test/v1.map", {})) == ""


def test_a_terminal_gets_one_line_and_a_log_file_none():
    assert progress_line(curve(), Console(file=io.StringIO(), force_terminal=False)) is None
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
