"""Scores as a plain table: one row per (task, metric), one column per model, so models sit side by side.

The cells are built here, once; `Results`' repr (text) and notebook view (HTML) render them, and
`report/table.py` renders the same cells with rich for the terminal.
"""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Any

from embedlab.models.names import short_name as model_short_name
from embedlab.tasks.types import TASK_TYPES

if TYPE_CHECKING:
    from embedlab.results.results import ModelRun, Results

# what a table shows by default for each task type (all metrics stay in the JSON)
DEFAULT_ROWS = {name: kind.table_rows for name, kind in TASK_TYPES.items()}
LABELS = {"v1.map": "MAP (C-MTEB v1)", "v1.mrr@10": "MRR@10 (C-MTEB v1)",
          "v2.map@1000": "MAP@1000 (mteb 2)", "v2.mrr@10": "MRR@10 (mteb 2)",
          "v2.ndcg@10": "nDCG@10 (mteb 2)"}
def short_name(name: str) -> str:
    """A model's column title: `models.names.short_name`, each stage of a two-stage run `first >> reranker@depth`
    apart, a hybrid's name as it is (it names its sub-models by their short names already)."""
    if " >> " in name:
        return " >> ".join(short_name(part) for part in name.split(" >> "))
    if name.startswith("hybrid-"):
        return name
    return model_short_name(name)


def display_names(runs: list[ModelRun], origins: list[dict[str, str]] | None = None) -> list[str]:
    """One name per run, unique, used everywhere (tables, plots, --baseline, to_frame): the short name;
    the full name where two models share a short one; and for runs of one model with other settings,
    what differs (`model [max_length=24]`); with the same settings, where they come from differs (`origins`, one per
    run: package versions, then when it was evaluated: `model [torch=2.13.0]`, `model [2026-12-01 10:22]`); their
    order (`model [run 2]`) when nothing does."""
    full = [run.model["name"] for run in runs]
    short = [short_name(name) for name in full]
    base = [s if len({f for f, t in zip(full, short) if t == s}) == 1 else f for f, s in zip(full, short)]
    names = list(base)
    for name in set(base):
        group = [i for i, b in enumerate(base) if b == name]
        if len(group) == 1:
            continue
        differing = _differing_settings([runs[i].model for i in group])
        details = _origin_details([origins[i] for i in group]) if not differing and origins is not None else None
        for order, i in enumerate(group, start=1):
            detail = details[order - 1] if details else \
                ", ".join(f"{key}={_setting(runs[i].model.get(key))}" for key in differing)
            names[i] = f"{name} [{detail}]" if detail else f"{name} [run {order}]"
    seen: dict[str, int] = {}
    for i, name in enumerate(names):  # identical settings shown by the same values: number them
        seen[name] = seen.get(name, 0) + 1
        if names.count(name) > 1:
            names[i] = f"{name[:-1]}, run {seen[name]}]" if name.endswith("]") else f"{name} [run {seen[name]}]"
    return names


# counts and outputs differ between runs of the same settings
_NOT_SETTINGS = {"name", "usage", "saved_runs", "saved_runs_sha256", "run_coverage"}


def _differing_settings(models: list[dict[str, Any]]) -> list[str]:
    keys = dict.fromkeys(k for model in models for k in model if k not in _NOT_SETTINGS)
    return [k for k in keys if len({repr(model.get(k)) for model in models}) > 1]


def _origin_details(origins: list[dict[str, str]]) -> list[str] | None:
    """What tells runs of the same settings apart: the package versions that differ, else when each was evaluated;
    None when nothing does."""
    keys = dict.fromkeys(k for origin in origins for k in origin)
    differing = [k for k in keys if len({origin.get(k) for origin in origins}) > 1]
    versions = [k for k in differing if k != "created"]
    if versions:
        return [", ".join(f"{k}={_setting(origin.get(k))}" for k in versions) for origin in origins]
    if differing:
        return [f"evaluated {str(origin.get('created', ''))[:16].replace('T', ' ')}" for origin in origins]
    return None


def _setting(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 24 else text[:23] + "…"


def cells(results: Results, metrics: list[str] | None = None) -> tuple[list[str], list[list[str]]]:
    """Header and rows (task, metric, one score x100 per model); '–' where a model lacks a score."""
    keys: list[tuple[str, str]] = []
    for run in results.runs:
        for t in run.tasks:
            for metric in metrics or DEFAULT_ROWS[t.type]:
                if metric in t.scores and (t.task, metric) not in keys:
                    keys.append((t.task, metric))
    header = ["task", "metric"] + display_names(results.runs)
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
