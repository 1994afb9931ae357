"""Tables of scores: one row per (task, metric), one column per model, so models sit side by side."""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING

from embedlab.tasks.types import TASK_TYPES

if TYPE_CHECKING:
    from embedlab.results import Results

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


def rich_table(results: Results, metrics: list[str] | None = None):
    from rich.table import Table

    header, rows = cells(results, metrics)
    table = Table(title="scores ×100 (best per row in bold)" if len(results.runs) > 1 else "scores ×100",
                  title_justify="left")
    for index, name in enumerate(header):
        table.add_column(name, justify="left" if index < 2 else "right", overflow="fold")
    previous_task = None
    for row in rows:
        values = [float(v) for v in row[2:] if v != "–"]
        best = max(values) if len(values) > 1 else None
        styled = [v if best is None or v == "–" or float(v) != best else f"[bold]{v}[/bold]"
                  for v in row[2:]]
        table.add_row("" if row[0] == previous_task else row[0], row[1], *styled,
                      end_section=False)
        previous_task = row[0]
    return table


def plain_table(results: Results, metrics: list[str] | None = None) -> str:
    header, rows = cells(results, metrics)
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
              for r in rows]
    return "\n".join(lines)


def html_table(results: Results, metrics: list[str] | None = None) -> str:
    from html import escape

    header, rows = cells(results, metrics)
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><caption>scores ×100</caption><tr>{head}</tr>{body}</table>"
