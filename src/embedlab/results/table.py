"""Scores as a plain table: one row per (task, metric), one column per model, so models sit side by side.

The cells are built here, once; `Results`' repr (text) and notebook view (HTML) render them, and
`report/table.py` renders the same cells with rich for the terminal.
"""

from __future__ import annotations

from html import escape
from pathlib import PurePath
from typing import TYPE_CHECKING

from embedlab.tasks.types import TASK_TYPES

if TYPE_CHECKING:
    from embedlab.results.results import Results

# what a table shows by default for each task type (all metrics stay in the JSON)
DEFAULT_ROWS = {name: kind.table_rows for name, kind in TASK_TYPES.items()}
LABELS = {"v1.map": "MAP (C-MTEB v1)", "v1.mrr@10": "MRR@10 (C-MTEB v1)",
          "v2.map@1000": "MAP@1000 (mteb 2)", "v2.mrr@10": "MRR@10 (mteb 2)",
          "v2.ndcg@10": "nDCG@10 (mteb 2)"}
_GENERIC_DIRS = {"model", "models", "best", "final", "snapshot"}


def short_name(name: str) -> str:
    """A model's column title: hub ids as they are, paths cut to their last meaningful parts."""
    parts = PurePath(name).parts
    if len(parts) <= 2 and not name.startswith(("/", ".")):
        return name
    tail = parts[-2:] if parts[-1] in _GENERIC_DIRS or parts[-1].startswith("checkpoint") else parts[-1:]
    return "/".join(tail)


def cells(results: Results, metrics: list[str] | None = None) -> tuple[list[str], list[list[str]]]:
    """Header and rows (task, metric, one score x100 per model); '–' where a model lacks a score."""
    keys: list[tuple[str, str]] = []
    for run in results.runs:
        for t in run.tasks:
            for metric in metrics or DEFAULT_ROWS[t.type]:
                if metric in t.scores and (t.task, metric) not in keys:
                    keys.append((t.task, metric))
    header = ["task", "metric"] + [short_name(run.model["name"]) for run in results.runs]
    rows = []
    for task, metric in keys:
        row = [task, LABELS.get(metric, metric)]
        for run in results.runs:
            scores = next((t.scores for t in run.tasks if t.task == task), {})
            row.append(f"{100 * scores[metric]:.2f}" if metric in scores else "–")
        rows.append(row)
    return header, rows


def plain_table(results: Results, metrics: list[str] | None = None) -> str:
    """Aligned text columns: task and metric left, scores right."""
    header, rows = cells(results, metrics)
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
              for r in rows]
    return "\n".join(lines)


def html_table(results: Results, metrics: list[str] | None = None) -> str:
    header, rows = cells(results, metrics)
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><caption>scores ×100</caption><tr>{head}</tr>{body}</table>"
