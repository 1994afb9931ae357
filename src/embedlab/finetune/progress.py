"""Progress of a fine-tune: the training steps, and each checkpoint's scoring between them (minutes on a large
held-out set, which must not look like a hang).

On a terminal, one live line: steps, time left, the train loss and the latest score; while a checkpoint is scored,
its status says which task and how many texts are encoded. Elsewhere (CI, nohup, `2>log`) a plain line every
`EMBEDLAB_PROGRESS_SECONDS` (30 s) says the same. The evaluator's notes (one line per curve point) go through
`ProgressLine.announcing`, which returns an `Announcer`: its lines stay in the history (the live line steps aside),
its `scoring` updates the status.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from embedlab.progress import duration
from embedlab.results.curve import Curve


class Announcer:
    """What the checkpoint evaluator speaks through: `announce(line)` for a line that stays, `announce.scoring(...)`
    for the passing status of the checkpoint being scored (None: done)."""

    def __init__(self, say: Callable[[str], None], show: Callable[[str | None], None]) -> None:
        self.say, self.show = say, show
        self.started = 0.0

    def __call__(self, text: str) -> None:
        self.say(text)

    def scoring(self, step: int, task: str | None = None, done: int = 0, total: int = 0) -> None:
        """Step `step`'s checkpoint is being scored on `task`: `done` of the checkpoint's `total` texts encoded (0
        when it starts; task None when it is done)."""
        now = time.monotonic()
        if task is None:
            self.show(None)
            return
        if not done:
            self.started = now
        rate = done / max(now - self.started, 1e-9) if done else 0.0
        left = f", {duration((total - done) / rate)} left" if rate > 0 and done < total else ""
        self.show(f"scoring step {step} on {task}: {done:,} of {total:,} texts encoded"
                  + (f" ({done / total:.0%}, {rate:,.1f}/s{left})" if total and done else ""))


def progress_line(curve: Curve, console=None):
    """A TrainerCallback showing the progress on `console` (default: stderr): a live line on a terminal, a plain line
    every `EMBEDLAB_PROGRESS_SECONDS` elsewhere. Route the evaluator's notes through `announcing(announce)`; call its
    `stop()` when training ends or fails (training end stops it too)."""
    from rich.console import Console
    from transformers import TrainerCallback

    console = console or Console(stderr=True)
    every = float(os.environ.get("EMBEDLAB_PROGRESS_SECONDS") or 30)
    base = _LiveLine if console.is_terminal else _PlainLines
    return type("ProgressLine", (base, TrainerCallback), {})(curve, console, every)


class _Line:
    """What both kinds of line share: the trainer's events."""

    def __init__(self, curve: Curve, console, every: float) -> None:
        self.curve, self.console, self.every = curve, console, every

    def on_train_begin(self, args, state, control, **kwargs):
        self.begin(state)

    def on_step_end(self, args, state, control, **kwargs):
        self.update(state)

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.update(state)

    def on_evaluate(self, args, state, control, **kwargs):
        self.update(state)

    def on_train_end(self, args, state, control, **kwargs):
        self.stop()

    def begin(self, state) -> None:
        raise NotImplementedError

    def update(self, state) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Nothing to close by default."""


class _LiveLine(_Line):
    """One redrawn line on a terminal."""

    def __init__(self, curve: Curve, console, every: float) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        super().__init__(curve, console, every)
        self.bar = Progress(TextColumn("fine-tuning"), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), TextColumn("{task.fields[status]}"),
                            console=console, transient=True)
        self.task, self.scoring = None, None

    def begin(self, state) -> None:
        self.bar.start()
        self.task = self.bar.add_task("train", total=state.max_steps, completed=state.global_step,
                                      status=status(self.curve))

    def update(self, state) -> None:
        if self.task is not None:
            self.bar.update(self.task, completed=state.global_step, status=self.scoring or status(self.curve))

    def show(self, text: str | None) -> None:
        self.scoring = text
        if self.task is not None:
            self.bar.update(self.task, status=text or status(self.curve))

    def stop(self) -> None:
        self.bar.stop()

    def announcing(self, announce) -> Announcer:
        """`announce`, called with the live line erased for a moment (a note printed under it would be cut by the
        next redraw), and the scoring status shown in the line."""
        def say(text: str) -> None:
            live = self.bar.live.is_started
            if live:
                self.bar.stop()
            announce(text)
            if live:
                self.bar.start()
        return Announcer(say, self.show)


class _PlainLines(_Line):
    """A plain line every `every` seconds (a log gets no redraws), for the steps and for the scoring alike."""

    def __init__(self, curve: Curve, console, every: float) -> None:
        super().__init__(curve, console, every)
        self.last, self.started, self.first = 0.0, 0.0, 0

    def begin(self, state) -> None:
        self.last = self.started = time.monotonic()
        self.first = state.global_step

    def update(self, state) -> None:
        now = time.monotonic()
        if now - self.last < self.every or not state.max_steps:
            return
        self.last = now
        done = state.global_step - self.first
        rate = done / max(now - self.started, 1e-9)
        left = duration((state.max_steps - state.global_step) / rate) if rate > 0 else "unknown time"
        self.print(f"fine-tuning: step {state.global_step:,} of {state.max_steps:,} "
                   f"({state.global_step / state.max_steps:.0%}), {left} left" + _tail(status(self.curve)))

    def show(self, text: str | None) -> None:
        now = time.monotonic()
        if text is not None and now - self.last >= self.every:
            self.last = now
            self.print(text)

    def print(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False, soft_wrap=True)

    def announcing(self, announce) -> Announcer:
        return Announcer(announce, self.show)


def _tail(text: str) -> str:
    return f"; {text}" if text else ""


def status(curve: Curve) -> str:
    """`loss 0.4210 · test/v1.map 0.6455 (best 0.6860 at step 5)`, from what is known so far."""
    parts = [f"loss {curve.loss[-1]['loss']:.4f}"] if curve.loss else []
    if curve.points:
        best = curve.best()
        parts.append(f"{curve.metric} {curve.value(curve.points[-1]):.4f} "
                     f"(best {curve.value(best):.4f} at step {best['step']})")
    return " · ".join(parts)
