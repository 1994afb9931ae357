"""Every run in a results directory as one table: a row per (file, model), a column per task."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from embedlab.errors import DataError, UnknownNameError
from embedlab.results.results import SCHEMA, Results


@dataclass
class Leaderboard:
    tasks: list[str]  # "<task> <metric>" column keys
    rows: list[dict]  # {"model", "file", "created", "scores": {column: value}, "data": {column: key}, "mean"}
    skipped: list[str]  # JSON files that are not embedlab results
    # columns whose runs used different data (another version, another sample): {column: {key: label}},
    # labels "a", "b", ... in order of appearance; a score is only comparable with those of its label
    variants: dict[str, dict[str, str]] = field(default_factory=dict)

    def label(self, row: dict, column: str) -> str:
        """"" when every run of the column used the same data, else the label of this run's data."""
        return self.variants.get(column, {}).get(row.get("data", {}).get(column, ""), "")


def data_key(task) -> str:
    """What makes two runs of a task comparable: the same data and the same sample of it."""
    sample = task.sample or {}
    what = f"sample {sample.get('n')} of {sample.get('of')}, seed {sample.get('seed')}" if sample else "all"
    return f"{task.data_hash[:19]}… ({what})"


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
            scores, data = {}, {}
            for t in run.tasks:
                name = metric or t.main_score
                if name in t.scores:
                    column = f"{t.task} {name}"
                    scores[column], data[column] = t.scores[name], data_key(t)
                    if column not in columns:
                        columns.append(column)
            rows.append({"model": run.model["name"], "file": str(path.relative_to(directory)),
                         "created": results.created, "scores": scores, "data": data})
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
    return Leaderboard(columns, rows, skipped, _variants(rows, columns))


def _variants(rows: list[dict], columns: list[str]) -> dict[str, dict[str, str]]:
    variants = {}
    for column in columns:
        keys = list(dict.fromkeys(row["data"][column] for row in rows if column in row["data"]))
        if len(keys) > 1:
            variants[column] = {key: chr(ord("a") + i) for i, key in enumerate(keys)}
    return variants
