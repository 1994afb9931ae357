"""The scores table in the terminal (rich), best score per row in bold; the cells come from `results/table.py`."""

from __future__ import annotations

import copy
import os
from typing import TYPE_CHECKING

from embedlab.results.table import cells

PIPED_WIDTH = 200  # a pipe or a file is not a terminal: rich would fold tables at 80 columns and cut names

if TYPE_CHECKING:
    from embedlab.results import Results


def stdout():
    """The console results are printed on: the terminal's width, or a wide one when stdout is piped
    (unless $COLUMNS says otherwise); no emoji codes replaced (names and data are shown as they are)."""
    from rich.console import Console

    console = Console(emoji=False)  # `:smile:` in a model's name or a query is text, not an emoji
    return console if console.is_terminal or "COLUMNS" in os.environ else Console(width=PIPED_WIDTH, emoji=False)


def rich_table(results: Results, metrics: list[str] | None = None):
    from rich.table import Table
    from rich.text import Text

    header, rows = cells(results, metrics)
    table = Table(title="scores ×100", title_justify="left")
    for index, name in enumerate(header):  # names as text: `[bold]` or `:smile:` in a model's name is shown as is
        table.add_column(Text(name), justify="left" if index < 2 else "right", overflow="fold")
    previous_task = None
    for row in rows:
        values = [float(v) for v in row[2:] if v != "–"]
        best = max(values) if len(values) > 1 else None
        styled = [Text.assemble((v, "bold" if best is not None and v != "–" and float(v) == best else ""))
                  for v in row[2:]]
        table.add_row(Text("" if row[0] == previous_task else row[0]), Text(row[1]), *styled,
                      end_section=False)
        previous_task = row[0]
    return BoldClaimed(table) if len(results.runs) > 1 else table


class BoldClaimed:
    """A table whose title says the best score per row is in bold, where the console renders bold (a pipe or a file
    gets no styles: no claim there)."""

    def __init__(self, table) -> None:
        self.table = table

    def __rich_console__(self, console, options):
        if console.color_system is None:
            yield self.table
            return
        table = copy.copy(self.table)
        table.title = f"{table.title} (best per row in bold)"
        yield table
