"""`Results`: aggregate and per-query scores with provenance; JSON in and out; a readable repr."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from embedlab.data.records import read_json
from embedlab.errors import DataError
from embedlab.results.schema import RUN_KINDS as RUN_KINDS  # where it was defined before
from embedlab.results.schema import damage

SCHEMA = "embedlab.results/1"
HINT = "give a results file written by `embedlab eval -o`"


@dataclass
class TaskResult:
    task: str
    type: str
    source: str
    data_hash: str
    main_score: str
    scores: dict[str, float]
    query_ids: list[str]
    per_query: dict[str, list[float]]
    counts: dict[str, int]
    timings: dict[str, float]
    sample: dict | None = None
    dataset: dict | None = None  # the published dataset the data came from (a C-MTEB task), when it did
    source_absolute: str | None = None  # `source` as an absolute path, when it is a path (found from any folder)




def absolute_path(source: str) -> str | None:
    """A task's source as an absolute path, when it names a file or folder (None: a name, or nothing): results
    record it beside the source as given, so a later command finds the data from any folder."""
    return os.path.abspath(source) if source and os.path.exists(source) else None


@dataclass
class ModelRun:
    model: dict[str, Any]
    embedding: dict[str, float]
    tasks: list[TaskResult]
    kind: str | None = None  # one of RUN_KINDS; None (a file written before runs recorded it): from the info

    def __post_init__(self) -> None:
        if self.kind is None:
            self.kind = legacy_kind(self.model)


def legacy_kind(model: dict[str, Any]) -> str:
    """The kind of a run built without it (a results file written before runs recorded their kind), from the
    marks its model info has always carried."""
    if isinstance(model.get("deploy"), dict):
        return "variant"
    if isinstance(model.get("chunking"), dict):
        return "chunking"
    if model.get("backend") == "two-stage":
        return "stage"
    if model.get("backend") == "Hybrid" and "sweep" in model:
        return "weights"
    return "model"


@dataclass
class Results:
    runs: list[ModelRun]
    environment: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    seed: int = 0
    schema: str = SCHEMA
    failures: list[dict[str, str]] = field(default_factory=list)  # {"model", "task", "error"} not in runs

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, path: str | Path | None = None, *, indent: int | None = 1) -> str:
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)
        if path is not None:
            from embedlab.data.output import write_text

            write_text(path, text + "\n")  # atomic: a killed run leaves no truncated results file
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, path: str | Path = "<results>") -> Results:
        """Results from their JSON form, checked first (`results.schema`): a damaged or edited file (a score out of
        its metric's range, a per-query list of the wrong length, a field of the wrong kind) is a DataError."""
        problem = damage(data)
        if problem is not None:
            what = "not an embedlab results file" if problem == "no list of 'runs'" else "a damaged results file"
            raise DataError(f"{what} ({problem})", path=path, hint=HINT)
        runs = [ModelRun(r["model"], r["embedding"], [TaskResult(**t) for t in r["tasks"]], r.get("kind"))
                for r in data["runs"]]
        return cls(runs, data.get("environment", {}), data.get("created", ""), data.get("seed", 0),
                   data.get("schema", SCHEMA), data.get("failures", []))

    @classmethod
    def from_json(cls, source: str | Path) -> Results:
        """From a results file, or from its JSON text."""
        if isinstance(source, str) and source.lstrip().startswith("{"):
            return cls.from_dict(json.loads(source))
        path = Path(source)
        return cls.from_dict(read_json(path, what="results file", hint=HINT), path=path)

    def score(self, model: str, task: str, metric: str | None = None) -> float:
        """A model's mean score on a task; `model` is its display name, full name or short name."""
        from embedlab.results.table import display_names, short_name

        for label, run in zip(display_names(self.runs), self.runs):
            if model in (label, run.model["name"], short_name(run.model["name"])):
                for result in run.tasks:
                    if result.task == task:
                        return result.scores[metric or result.main_score]
        raise KeyError(f"no result for model '{model}' on task '{task}'")

    def to_frame(self):
        """pandas DataFrame: one row per (model, task, metric) with the mean score."""
        import pandas as pd

        from embedlab.results.table import display_names

        records = [{"model": label, "task": t.task, "type": t.type, "metric": m, "score": v,
                    "main": m == t.main_score}
                   for label, run in zip(display_names(self.runs), self.runs)
                   for t in run.tasks for m, v in t.scores.items()]
        return pd.DataFrame.from_records(records)

    def __repr__(self) -> str:
        from embedlab.results.table import plain_table

        return plain_table(self)

    def _repr_html_(self) -> str:  # notebooks
        from embedlab.results.table import html_table

        return html_table(self)
