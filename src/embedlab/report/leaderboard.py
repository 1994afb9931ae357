"""What `embedlab leaderboard` prints: a row per model run, a column per task, as a table or markdown."""

from __future__ import annotations

import re

from embedlab.report.markup import markdown_table
from embedlab.results.leaderboard import OTHER_SEMANTICS, Leaderboard
from embedlab.results.table import short_name


def leaderboard_cells(board: Leaderboard) -> tuple[list[str], list[list[str]]]:
    """(header, rows) as text: rank, model, a score ×100 per task ("–" where the run has none), mean, file."""
    header = ["#", "model", *board.tasks, "mean", "file"]
    rows = [[str(i + 1), short_name(r["model"]) + (" (published)" if r.get("published") else ""),
             *(_cell(board, r, c) for c in board.tasks),
             f"{100 * r['mean']:.2f}" if r["mean"] is not None else "–", _COMMIT.sub(r"\1…", r["file"])]
            for i, r in enumerate(board.rows)]
    return header, rows


_COMMIT = re.compile(r"\b([0-9a-f]{8})[0-9a-f]{32}\b")  # a published model's revision folder, cut to 8 digits


def _cell(board: Leaderboard, row: dict, column: str) -> str:
    if column not in row["scores"]:
        return "–"
    marks = ", ".join(m for m in (board.label(row, column), board.mark(row, column)) if m)
    return f"{100 * row['scores'][column]:.2f}" + (f" [{marks}]" if marks else "")


def variant_notes(board: Leaderboard) -> list[str]:
    """One line per column whose runs used different data (which label is which data), and one per column with
    scores of the other reranking semantics (what the v1 / v2 mark means)."""
    notes = [f"{column}: runs on different data, compare only scores with the same label: "
             + "; ".join(f"[{label}] {board.described.get(key, key)}" for key, label in labels.items())
             for column, labels in board.variants.items()]
    for column in board.tasks:
        marked = sorted({board.mark(row, column) for row in board.rows} - {""})
        for mark in marked:
            ours = column.rsplit(" ", 1)[-1]
            notes.append(f"{column}: scores marked {mark} are {SEMANTICS[mark]}, not {SEMANTICS[ours[:2]]} like "
                         f"the column's {ours}: not comparable, left out of the mean and the order "
                         f"(--metric {OTHER_SEMANTICS.get(ours, ours)} shows that semantics' column)")
    return notes


SEMANTICS = {"v1": "C-MTEB's / mteb 1.x's reranking scores (v1: MAP and MRR@10 over each row)",
             "v2": "mteb 2.x's reranking scores (v2: each row ranked as a retrieval problem)"}


def markdown_leaderboard(board: Leaderboard) -> str:
    header, rows = leaderboard_cells(board)
    return "\n".join(markdown_table(header, rows))


def rich_leaderboard(board: Leaderboard, title: str):
    from rich.table import Table
    from rich.text import Text

    header, rows = leaderboard_cells(board)
    table = Table(title=Text(f"{title}: {len(rows)} runs, scores ×100"), title_justify="left")
    for name in header:  # task names and paths as text, never rich markup
        table.add_column(Text(name), justify="left" if name in ("model", "file") else "right")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # labels like [b] are text, not rich markup (bold)
    return table
