"""Progress on stderr: a rich bar on a terminal; elsewhere (CI, nohup, `2>log`) a plain line every
`EMBEDLAB_PROGRESS_SECONDS` seconds (default 30) with the count, the rate, the time left and the model's
status (requests, retries), and one when a step that printed lines ends: a long run is never silent in a
log, and a short step adds nothing to it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

Advance = Callable[..., None]  # advance(n, status="")


class progress:
    """`with progress(enabled, total, label) as advance: ... advance(n, status)`; the label names the model
    ("embedding queries with openai:text-embedding-3-small") and is shown as plain text."""

    def __init__(self, enabled: bool, total: int, label: str) -> None:
        self.enabled, self.total, self.label = enabled, total, label
        self.bar = None

    def __enter__(self) -> Advance:
        if not self.enabled or not self.total:
            return lambda n, status="": None
        from rich.console import Console

        console = Console(stderr=True, emoji=False)  # a model named `:smile:` is shown as named
        if not console.is_terminal:
            return _lines(console, self.total, self.label,
                          float(os.environ.get("EMBEDLAB_PROGRESS_SECONDS") or 30))
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        # markup=False: the label holds a model name, shown as typed (`[x]` is no style, `:smile:` no emoji)
        self.bar = Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=console, transient=True)
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total)

        def advance(n: int, status: str = "") -> None:
            description = f"{self.label} ({status})" if status else self.label
            self.bar.update(task, advance=n, description=description)
        return advance

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def _lines(console, total: int, label: str, every: float) -> Advance:
    started = last = time.monotonic()
    done, printed = 0, False

    def advance(n: int, status: str = "") -> None:
        nonlocal done, last, printed
        done += n
        now = time.monotonic()
        if now - last < every and (done < total or not printed):  # a step shorter than the interval: quiet
            return
        last, printed = now, True
        rate = done / max(now - started, 1e-9)
        left = (total - done) / rate if rate > 0 else float("inf")
        console.print(f"{label}: {done:,} of {total:,} ({done / total:.0%}), {rate:,.1f}/s, "
                      f"{duration(left)} left" + (f"; {status}" if status else ""), highlight=False, markup=False,
                      soft_wrap=True)
    return advance


def duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "unknown time"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
