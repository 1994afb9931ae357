"""What `embedlab leaderboard` prints: a row per model run, a column per task, as a table or markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from embedlab.results.table import short_name

if TYPE_CHECKING:
    from embedlab.results.leaderboard import Leaderboard


def leaderboard_cells(board: Leaderboard) -> tuple[list[str], list[list[str]]]:
    """(header, rows) as text: rank, model, a score ×100 per task ("–" where the run has none), mean, file."""
    header = ["#", "model", *board.tasks, "mean", "file"]
    rows = [[str(i + 1), short_name(r["model"]),
             *(_cell(board, r, c) for c in board.tasks),
             f"{100 * r['mean']:.2f}" if r["mean"] is not None else "–", r["file"]]
            for i, r in enumerate(board.rows)]
    return header, rows


def _cell(board: Leaderboard, row: dict, column: str) -> str:
    if column not in row["scores"]:
        return "–"
    label = board.label(row, column)
    return f"{100 * row['scores'][column]:.2f}" + (f" [{label}]" if label else "")


def variant_notes(board: Leaderboard) -> list[str]:
    """One line per column whose runs used different data: which label is which data."""
    return [f"{column}: runs on different data, compare only scores with the same label: "
            + "; ".join(f"[{label}] {key}" for key, label in labels.items())
            for column, labels in board.variants.items()]


def markdown_leaderboard(board: Leaderboard) -> str:
    header, rows = leaderboard_cells(board)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def rich_leaderboard(board: Leaderboard, title: str):
    from rich.table import Table

    header, rows = leaderboard_cells(board)
    table = Table(title=f"{title}: {len(rows)} runs, scores ×100", title_justify="left")
    for name in header:
        table.add_column(name, justify="left" if name in ("model", "file") else "right")
    for row in rows:
        table.add_row(*row)
    return table
