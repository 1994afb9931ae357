"""Every run in a results directory as one table: a row per (file, model), a column per task."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from embedlab.errors import DataError, UnknownNameError
from embedlab.results.mteb_import import read_published
from embedlab.results.results import SCHEMA, Results
from embedlab.tasks.cmteb import TASKS


@dataclass
class Leaderboard:
    tasks: list[str]  # "<task> <metric>" column keys
    rows: list[dict]  # {"model", "file", "created", "scores": {column: value}, "data": {column: key}, "mean"}
    skipped: list[str]  # JSON files that are not embedlab results
    # columns whose runs used different data (another version, another sample): {column: {key: label}},
    # labels "a", "b", ... in order of appearance; a score is only comparable with those of its label
    variants: dict[str, dict[str, str]] = field(default_factory=dict)
    described: dict[str, str] = field(default_factory=dict)  # data key -> words, where the key alone says too little
    # published rows (`--mteb`) hold {"published": {...}} and, where a reranking score has the other semantics than
    # the column's, {"marks": {column: "v1" | "v2"}}: shown marked, never in a mean nor in the order

    def label(self, row: dict, column: str) -> str:
        """"" when every run of the column used the same data, else the label of this run's data."""
        return self.variants.get(column, {}).get(row.get("data", {}).get(column, ""), "")

    def mark(self, row: dict, column: str) -> str:
        """"v1" / "v2" when the row's score in this column has the other reranking semantics than the column's."""
        return row.get("marks", {}).get(column, "")


def data_key(task) -> str:
    """What makes two runs of a task comparable: the same data and the same sample of it."""
    sample = task.sample or {}
    what = f"sample {sample.get('n')} of {sample.get('of')}, seed {sample.get('seed')}" if sample else "all"
    return f"{task.data_hash[:19]}… ({what})"


def leaderboard(directory: str | Path, *, sort: str | None = None, metric: str | None = None,
                mteb: str | Path | None = None, mteb_models: tuple[str, ...] = ()) -> Leaderboard:
    """Runs of every `*.json` under `directory`, sorted by `sort` (a task, or "mean": the default); with `mteb` (a
    copy of mteb's results), the published scores of other models on the same tasks (or of `mteb_models`)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError("not a directory", path=directory, hint="give the folder holding results JSON files")
    rows, columns, skipped = [], [], []
    kinds: dict[str, tuple[str, str, str]] = {}  # column -> (task, score name, task type)
    described: dict[str, str] = {}
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
                    kinds[column] = (t.task, name, t.type)
                    if t.dataset and not t.sample:
                        described[data[column]] = f"{data[column]}, read from {dataset_name(t.dataset)}"
                    if column not in columns:
                        columns.append(column)
            rows.append({"model": run.model["name"], "file": str(path.relative_to(directory)),
                         "created": results.created, "scores": scores, "data": data, "tasks": run.tasks})
    if mteb is not None:
        rows += published_rows(mteb, kinds, rows, mteb_models)
    for row in rows:
        values = [row["scores"][c] for c in columns if c in row["scores"] and not row.get("marks", {}).get(c)]
        row["mean"] = sum(values) / len(values) if len(values) == len(columns) and values else None
        row.pop("tasks", None)
    key = sort or "mean"
    if key != "mean":
        matches = [c for c in columns if c == key or c.split(" ")[0] == key]
        if not matches:
            raise UnknownNameError("sort column", key, ["mean", *columns])
        key = matches[0]

    def value(row: dict) -> float | None:
        return row["mean"] if key == "mean" else None if row.get("marks", {}).get(key) else row["scores"].get(key)

    rows.sort(key=lambda row: (value(row) is None, -(value(row) or 0.0)))  # missing scores last
    return Leaderboard(columns, rows, skipped, _variants(rows, columns), described)


OTHER_SEMANTICS = {"v1.map": "v2.map@1000", "v2.map@1000": "v1.map", "v1.mrr@10": "v2.mrr@10",
                   "v2.mrr@10": "v1.mrr@10"}


def dataset_name(dataset: dict) -> str:
    """`mteb/T2Reranking@a34fe6bc` (the revision assumed from the task table when the copy did not record it)."""
    revision = dataset.get("revision") or effective_revision(dataset)
    return f"{dataset['repo']}@{(revision or 'unknown')[:8]}" + ("" if dataset.get("revision") else " (assumed)")


def effective_revision(dataset: dict) -> str | None:
    """The dataset revision of a run: recorded, or the task table's for the layout read (as `export-mteb` writes)."""
    spec = TASKS.get(dataset.get("task", ""))
    return dataset.get("revision") or (spec.revision(dataset["layout"]) if spec else None)


def published_rows(mteb: str | Path, kinds: dict[str, tuple[str, str, str]], rows: list[dict],
                   models: tuple[str, ...] = ()) -> list[dict]:
    """A row per published model (and revision) with a score on a column's task: the column's score, or the other
    reranking semantics' marked; its data key is a run's when the dataset revisions are the same."""
    same_data = {}  # (task, dataset revision) -> the data key of a run on it
    for row in rows:
        for t in row["tasks"]:
            if not t.sample:  # a C-MTEB task at its revision; other data exported as its content hash
                revision = effective_revision(t.dataset) if t.dataset else t.data_hash
                same_data.setdefault((t.task, revision), data_key(t))
    tasks = {task: kind for task, _, kind in kinds.values()}
    found: dict[tuple[str, str], dict] = {}
    for item in read_published(mteb, tasks, models):
        row = found.setdefault((item.model, item.revision), {
            "model": item.model, "file": str(Path(item.file).parent), "created": "", "scores": {}, "data": {},
            "marks": {}, "published": {"revision": item.revision, "tasks": {}}})
        for column, (task, name, _) in kinds.items():
            if task != item.task or column in row["scores"]:
                continue
            other = OTHER_SEMANTICS.get(name, "")
            if name not in item.scores and other not in item.scores:
                continue
            row["scores"][column] = item.scores.get(name, item.scores.get(other))
            row["data"][column] = same_data.get((task, item.dataset_revision)) or item.data()
            if name not in item.scores:
                row["marks"][column] = other.split(".")[0]
            row["published"]["tasks"][task] = {"file": item.file, "dataset_revision": item.dataset_revision,
                                               "mteb_version": item.mteb_version, "semantics": item.semantics}
    return [row for row in found.values() if row["scores"]]


def _variants(rows: list[dict], columns: list[str]) -> dict[str, dict[str, str]]:
    variants = {}
    for column in columns:
        keys = list(dict.fromkeys(row["data"][column] for row in rows if column in row["data"]))
        if len(keys) > 1:
            variants[column] = {key: chr(ord("a") + i) for i, key in enumerate(keys)}
    return variants
