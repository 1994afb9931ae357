"""One progress line for a fine-tune on a terminal: steps, time left, the train loss and the latest score.

Only on a terminal (a log file gets no redraws). There, and everywhere else, the evaluator announces one
plain line per evaluation; the live line steps aside for it (`announcing`), so it stays in the history.
"""

from __future__ import annotations

from embedlab.results.curve import Curve


def progress_line(curve: Curve, console=None):
    """A TrainerCallback drawing the line on `console` (default: stderr), or None when that is no terminal.

    Route notes through `announcing(announce)` while it is live; call its `stop()` when training ends
    or fails (training end stops it too)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from transformers import TrainerCallback

    console = console or Console(stderr=True)
    if not console.is_terminal:
        return None

    class ProgressLine(TrainerCallback):
        def __init__(self) -> None:
            self.bar = Progress(TextColumn("fine-tuning"), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), TextColumn("{task.fields[status]}"),
                                console=console, transient=True)
            self.task = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.bar.start()
            self.task = self.bar.add_task("train", total=state.max_steps, completed=state.global_step,
                                          status=status(curve))

        def on_step_end(self, args, state, control, **kwargs):
            self.update(state)

        def on_log(self, args, state, control, logs=None, **kwargs):
            self.update(state)

        def on_evaluate(self, args, state, control, **kwargs):
            self.update(state)

        def on_train_end(self, args, state, control, **kwargs):
            self.stop()

        def update(self, state) -> None:
            if self.task is not None:
                self.bar.update(self.task, completed=state.global_step, status=status(curve))

        def stop(self) -> None:
            self.bar.stop()

        def announcing(self, announce):
            """`announce`, called with the live line erased for a moment (a note printed under it
            would be cut by the next redraw)."""
            def say(text: str) -> None:
                live = self.bar.live.is_started
                if live:
                    self.bar.stop()
                announce(text)
                if live:
                    self.bar.start()
            return say

    return ProgressLine()


def status(curve: Curve) -> str:
    """`loss 0.4210 · test/v1.map 0.6455 (best 0.6860 at step 5)`, from what is known so far."""
    parts = [f"loss {curve.loss[-1]['loss']:.4f}"] if curve.loss else []
    if curve.points:
        best = curve.best()
        parts.append(f"{curve.metric} {curve.value(curve.points[-1]):.4f} "
                     f"(best {curve.value(best):.4f} at step {best['step']})")
    return " · ".join(parts)
