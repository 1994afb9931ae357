"""Every run in a results directory as one table: a row per (file, model), a column per task."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from embedlab.data.records import read_json
from embedlab.errors import DataError, UnknownNameError
from embedlab.results.mteb_import import read_published
from embedlab.results.results import HINT, SCHEMA, Results
from embedlab.results.schema import damage
from embedlab.results.table import short_name
from embedlab.tasks.cmteb import TASKS


@dataclass
class Leaderboard:
    tasks: list[str]  # "<task> <metric>" column keys
    rows: list[dict]  # {"model", "file", "created", "scores": {column: value}, "data": {column: key}, "mean"}
    skipped: list[str]  # JSON files that are not embedlab results (or damaged ones: see `notes`)
    # columns whose runs used different data (another version, another sample): {column: {key: label}},
    # labels "a", "b", ... in order of appearance; a score is only comparable with those of its label
    variants: dict[str, dict[str, str]] = field(default_factory=dict)
    described: dict[str, str] = field(default_factory=dict)  # data key -> words, where the key alone says too little
    # published rows (`--mteb`) hold {"published": {...}} and, where a reranking score has the other semantics than
    # the column's, {"marks": {column: "v1" | "v2"}}: shown marked, never in a mean nor in the order
    notes: list[str] = field(default_factory=list)  # what the table cannot show: files and runs left out, and why
    damaged: list[str] = field(default_factory=list)  # of `skipped`, the results files that are damaged (in `notes`)

    def label(self, row: dict, column: str) -> str:
        """"" when every run of the column used the same data, else the label of this run's data."""
        return self.variants.get(column, {}).get(row.get("data", {}).get(column, ""), "")

    def mark(self, row: dict, column: str) -> str:
        """"v1" / "v2" when the row's score in this column has the other reranking semantics than the column's."""
        return row.get("marks", {}).get(column, "")


PRUNED = "scores higher than on the whole corpus"  # what a pruned corpus does, said with every score on one


def data_key(task) -> str:
    """What makes two runs of a task comparable: the same data and the same sample of it (a pruned corpus said)."""
    sample = task.sample or {}
    what = f"sample {sample.get('n')} of {sample.get('of')}, seed {sample.get('seed')}" if sample else "all"
    if sample.get("corpus") == "pruned":
        what += f", corpus pruned to judged + {sample.get('distractors') or 0}: {PRUNED}"
    return f"{task.data_hash[:19]}… ({what})"


def leaderboard(directory: str | Path, *, sort: str | None = None, metric: str | None = None,
                mteb: str | Path | None = None, mteb_models: tuple[str, ...] = ()) -> Leaderboard:
    """Runs of every `*.json` under `directory`, sorted by `sort` (a task, or "mean": the default); with `mteb` (a
    copy of mteb's results), the published scores of other models on the same tasks (or of `mteb_models`). A weight
    sweep's points (runs of kind "weights": weights chosen on the very queries scored) are left out, and said."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError("not a directory", path=directory, hint="give the folder holding results JSON files")
    board = Leaderboard([], [], [])
    kinds: dict[str, tuple[str, str, str]] = {}  # column -> (task, score name, task type)
    swept = 0
    for path in sorted(directory.rglob("*.json")):
        results = _read(path, board)
        for run in results.runs if results else []:
            if run.kind == "weights":
                swept += 1
                continue
            board.rows.append(_row(run, metric, str(path.relative_to(directory)), results.created, board, kinds))
    if swept:
        board.notes.append(f"left out {swept} run(s) of hybrid weight sweeps: their weights were chosen on the "
                           "queries scored, so the best is optimistic; evaluate the hybrid at the --weights chosen "
                           "to rank it")
    if mteb is not None:
        board.rows += published_rows(mteb, kinds, board.rows, mteb_models, board.notes)
    for row in board.rows:
        values = [row["scores"][c] for c in board.tasks if c in row["scores"] and not row.get("marks", {}).get(c)]
        row["mean"] = sum(values) / len(values) if len(values) == len(board.tasks) and values else None
        row.pop("tasks", None)
    _sort(board, sort)
    board.variants = _variants(board.rows, board.tasks)
    board.notes += _pruned_notes(board)
    return board


def _read(path: Path, board: Leaderboard) -> Results | None:
    """The results of a file, or None: not results (counted in `skipped`), or damaged (counted, and a note why)."""
    try:
        data = read_json(path, what="results file", hint=HINT)
    except DataError:
        board.skipped.append(str(path))
        return None
    problem = damage(data)
    if problem is not None or data.get("schema", SCHEMA) != SCHEMA:
        board.skipped.append(str(path))
        if problem is not None and problem != "no list of 'runs'":
            board.damaged.append(str(path))
            board.notes.append(f"skipped {path}: a damaged results file ({problem})")
        return None
    return Results.from_dict(data, path=path)


def _row(run, metric: str | None, file: str, created: str, board: Leaderboard, kinds: dict) -> dict:
    scores, data = {}, {}
    for t in run.tasks:
        name = metric or t.main_score
        if name in t.scores:
            column = f"{t.task} {name}"
            scores[column], data[column] = t.scores[name], data_key(t)
            kinds[column] = (t.task, name, t.type)
            if t.dataset and not t.sample:
                board.described[data[column]] = f"{data[column]}, read from {dataset_name(t.dataset)}"
            if column not in board.tasks:
                board.tasks.append(column)
    return {"model": run.model["name"], "file": file, "created": created, "scores": scores, "data": data,
            "tasks": run.tasks}


def _sort(board: Leaderboard, sort: str | None) -> None:
    key = sort or "mean"
    if key != "mean":
        matches = [c for c in board.tasks if c == key or c.split(" ")[0] == key]
        if not matches:
            raise UnknownNameError("sort column", key, ["mean", *board.tasks])
        key = matches[0]

    def value(row: dict) -> float | None:
        return row["mean"] if key == "mean" else None if row.get("marks", {}).get(key) else row["scores"].get(key)

    board.rows.sort(key=lambda row: (value(row) is None, -(value(row) or 0.0)))  # missing scores last


def _pruned_notes(board: Leaderboard) -> list[str]:
    """A column whose runs all share one pruned sample has no data label: its note says what pruning does."""
    return [f"{column}: every run is on a seeded sample whose corpus was pruned: {PRUNED}" for column in board.tasks
            if column not in board.variants
            and any(PRUNED in row["data"].get(column, "") for row in board.rows)]


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
                   models: tuple[str, ...] = (), notes: list[str] | None = None) -> list[dict]:
    """A row per published model (and revision) with a score on a column's task: the column's score, or the other
    reranking semantics' marked; its data key is a run's when the data are the same (the dataset revision, or the
    content hash of other data and of samples). `notes` gets what the rows cannot show: published files left out
    (scores that cannot be scores), none found at all, a published row that repeats a run (its own export)."""
    notes = notes if notes is not None else []
    same_data = {}  # (task, dataset revision) -> the data key of a run on it
    for row in rows:
        for t in row["tasks"]:  # a C-MTEB task at its revision; other data and samples exported as their content hash
            revision = effective_revision(t.dataset) if t.dataset and not t.sample else t.data_hash
            same_data.setdefault((t.task, revision), data_key(t))
    tasks = {task: kind for task, _, kind in kinds.values()}
    found: dict[tuple[str, str], dict] = {}
    skipped: list[str] = []
    for item in read_published(mteb, tasks, models, skipped=skipped):
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
    published = [row for row in found.values() if row["scores"]]
    notes += _published_notes(mteb, tasks, published, rows, skipped)
    return published


def _published_notes(mteb, tasks: dict[str, str], published: list[dict], rows: list[dict],
                     skipped: list[str]) -> list[str]:
    notes = []
    if skipped:
        shown = "; ".join(skipped[:3]) + ("; ..." if len(skipped) > 3 else "")
        notes.append(f"--mteb: left out {len(skipped)} published result file(s) that cannot be used: {shown}")
    if not published:
        notes.append(f"--mteb {mteb}: no published scores of {', '.join(tasks) or 'these tasks'} there: it adds "
                     "nothing to the table")
    for row in published:
        twin = next((run for run in rows if run["scores"] == row["scores"] and run["data"] == row["data"]), None)
        if twin is not None:
            notes.append(f"{short_name(row['model'])} (published, {row['file']}) has the scores of "
                         f"{short_name(twin['model'])} in {twin['file']} on the same data: an export of that run, it "
                         "adds nothing")
    return notes


def _variants(rows: list[dict], columns: list[str]) -> dict[str, dict[str, str]]:
    variants = {}
    for column in columns:
        keys = list(dict.fromkeys(row["data"][column] for row in rows if column in row["data"]))
        if len(keys) > 1:
            variants[column] = {key: chr(ord("a") + i) for i, key in enumerate(keys)}
    return variants
