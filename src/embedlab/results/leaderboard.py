"""Every run in a results directory as one table: a row per (file, model), a column per task."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from embedlab.errors import DataError, UnknownNameError
from embedlab.results.results import SCHEMA, Results


@dataclass
class Leaderboard:
    tasks: list[str]  # "<task> <metric>" column keys
    rows: list[dict]  # {"model", "file", "created", "scores": {column: value}, "mean"}
    skipped: list[str]  # JSON files that are not embedlab results


def leaderboard(directory: str | Path, *, sort: str | None = None, metric: str | None = None) -> Leaderboard:
    """Runs of every `*.json` under `directory`, sorted by `sort` (a task, or "mean": the default)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError("not a directory", path=directory, hint="give the folder holding results JSON files")
    rows, columns, skipped = [], [], []
    for path in sorted(directory.rglob("*.json")):
        try:
            results = Results.from_json(path)
        except DataError:  # not results, or damaged: skipped and counted, never the end of the table
            skipped.append(str(path))
            continue
        if results.schema != SCHEMA:
            skipped.append(str(path))
            continue
        for run in results.runs:
            scores = {}
            for t in run.tasks:
                name = metric or t.main_score
                if name in t.scores:
                    column = f"{t.task} {name}"
                    scores[column] = t.scores[name]
                    if column not in columns:
                        columns.append(column)
            rows.append({"model": run.model["name"], "file": str(path.relative_to(directory)),
                         "created": results.created, "scores": scores})
    for row in rows:
        values = [row["scores"][c] for c in columns if c in row["scores"]]
        row["mean"] = sum(values) / len(values) if len(values) == len(columns) and values else None
    key = sort or "mean"
    if key != "mean":
        matches = [c for c in columns if c == key or c.split(" ")[0] == key]
        if not matches:
            raise UnknownNameError("sort column", key, ["mean", *columns])
        key = matches[0]

    def value(row: dict) -> float | None:
        return row["mean"] if key == "mean" else row["scores"].get(key)

    rows.sort(key=lambda row: (value(row) is None, -(value(row) or 0.0)))  # missing scores last
    return Leaderboard(columns, rows, skipped)
