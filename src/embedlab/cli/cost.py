"""The line every paid command prints before its first request, and the --max-cost refusal."""

from __future__ import annotations

import click

from embedlab.estimate import check_cost, cost_line


def announce_cost(rows: list[dict], max_cost: float | None, *, at_most: bool = False) -> None:
    """One stderr line per model of `embedlab.estimate` rows; refuse to start above `max_cost`."""
    for row in rows:
        click.echo(cost_line(row, at_most=at_most), err=True)
    check_cost(rows, max_cost)
