"""Progress without a terminal: plain lines at an interval, never silence; nothing when disabled."""

from __future__ import annotations

from embedlab.progress import duration, progress


def test_without_a_terminal_plain_lines_come_at_the_interval_and_at_the_end(monkeypatch, capsys):
    monkeypatch.setenv("EMBEDLAB_PROGRESS_SECONDS", "0")
    with progress(True, 10, "embedding documents") as advance:
        advance(4, "2 requests, 0 retried")
        advance(6, "4 requests, 1 retried")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("embedding documents: 4 of 10 (40%), ") and lines[0].endswith("; 2 requests, 0 retried")
    assert lines[-1].startswith("embedding documents: 10 of 10 (100%)") and "left" in lines[-1]


def test_a_step_shorter_than_the_interval_prints_nothing(monkeypatch, capsys):
    monkeypatch.setenv("EMBEDLAB_PROGRESS_SECONDS", "3600")
    with progress(True, 3, "embedding queries") as advance:
        advance(1)
        advance(2)
    assert capsys.readouterr().err == ""
    with progress(False, 3, "off") as advance:
        advance(3)
    assert capsys.readouterr().err == ""


def testdurations_read_naturally():
    assert [duration(s) for s in (5, 75, 3725, float("inf"))] == ["5s", "1m15s", "1h02m", "unknown time"]


def test_a_bar_shows_names_as_typed(monkeypatch):
    """Model names and statuses are text, not rich markup: `[bold]` and `:smile:` are shown as written."""
    import rich.console

    monkeypatch.setattr(rich.console.Console, "is_terminal", property(lambda self: True))
    bar = progress(True, 2, "embedding queries with openai:[bold]x:smile:")
    with bar as advance:
        advance(1, "1 requests [red]")
        shown = bar.bar.tasks[0].description
        rendered = bar.bar.columns[0].render(bar.bar.tasks[0])
    assert shown == "embedding queries with openai:[bold]x:smile: (1 requests [red])"
    assert rendered.plain == shown
