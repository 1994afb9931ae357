"""What a results file must hold to be read: the structure `Results.to_dict` writes, and numbers that can be the
scores they claim to be. A file edited by hand or damaged (a score of 42 or NaN, a per-query list of the wrong length,
`scores: null`, a run of an unknown kind) is refused at the read with one line naming the place, never a traceback
later nor a wrong number in a table: `damage(data)` says what is wrong, or None.

Every score must be finite and in its metric's range (`metrics.names.score_range`), and a mean score must be the
mean of its per-query scores where both are recorded (an edited mean is caught even in range).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from embedlab.metrics.names import score_range
from embedlab.tasks.types import TASK_TYPES

# what a model run is: a model as given; a point of a combination's weight sweep; a first stage reranked at one
# depth; a deployment variant of one encoding (`embedlab sweep`); a model on one chunking of documents (`chunks`)
RUN_KINDS = ("model", "weights", "stage", "variant", "chunking")
TASK_FIELDS = {"task": str, "type": str, "source": str, "data_hash": str, "main_score": str, "scores": dict,
               "query_ids": list, "per_query": dict, "counts": dict, "timings": dict}
OPTIONAL_TASK_FIELDS = {"sample": dict, "dataset": dict, "source_absolute": str}
MEAN_TOLERANCE = 1e-9


def damage(data: Any) -> str | None:
    """What makes `data` (a results file's JSON) unreadable as results, or None: the first problem, with its place."""
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        return "no list of 'runs'"
    for key, kind in (("environment", dict), ("created", str), ("schema", str), ("failures", list)):
        if key in data and not isinstance(data[key], kind):
            return f"'{key}' is {_kind(data[key])}, not {_kind(kind)}"
    if "seed" in data and (not isinstance(data["seed"], int) or isinstance(data["seed"], bool)):
        return f"'seed' is {_kind(data['seed'])}, not a whole number"
    if not all(isinstance(failure, dict) for failure in data.get("failures", [])):
        return "'failures' holds something that is not an object"
    for r, run in enumerate(data["runs"]):
        problem = _run_damage(run)
        if problem:
            return f"runs[{r}]{problem}"
    return None


def _run_damage(run: Any) -> str | None:
    if not isinstance(run, dict):
        return f" is {_kind(run)}, not an object"
    for key in ("model", "embedding"):
        if not isinstance(run.get(key), dict):
            return f".{key} is {_kind(run.get(key))}, not an object"
    if not isinstance(run["model"].get("name"), str):
        return f".model.name is {_kind(run['model'].get('name'))}, not text"
    if run.get("kind") is not None and run.get("kind") not in RUN_KINDS:
        return f".kind '{str(run['kind'])[:40]}' is not one of {', '.join(RUN_KINDS)}"
    if not isinstance(run.get("tasks"), list):
        return f".tasks is {_kind(run.get('tasks'))}, not a list"
    for t, task in enumerate(run["tasks"]):
        problem = _task_damage(task)
        if problem:
            return f".tasks[{t}]{problem}"
    return None


def _task_damage(task: Any) -> str | None:
    if not isinstance(task, dict):
        return f" is {_kind(task)}, not an object"
    unknown = [key for key in task if key not in TASK_FIELDS and key not in OPTIONAL_TASK_FIELDS]
    if unknown:
        return f" has an unknown field '{str(unknown[0])[:40]}'"
    for key, kind in TASK_FIELDS.items():
        if not isinstance(task.get(key), kind):
            return f".{key} is {_kind(task.get(key))}, not {_kind(kind)}"
    for key, kind in OPTIONAL_TASK_FIELDS.items():
        if task.get(key) is not None and not isinstance(task[key], kind):
            return f".{key} is {_kind(task[key])}, not {_kind(kind)} or null"
    if task["type"] not in TASK_TYPES:
        return f".type '{task['type'][:40]}' is not one of {', '.join(TASK_TYPES)}"
    if not all(isinstance(q, str) for q in task["query_ids"]):
        return ".query_ids holds something that is not text"
    problem = _sample_damage(task.get("sample")) or _dataset_damage(task.get("dataset"))
    if problem:
        return problem
    for key in ("counts", "timings"):
        name = next((k for k, v in task[key].items() if v is not None and not _number(v)), None)
        if name is not None:
            return f".{key}['{name}'] is {_kind(task[key][name])}, not a number"
    if task["scores"] and task["main_score"] not in task["scores"]:
        return f": the main score '{task['main_score'][:40]}' is not among its scores"
    return _scores_damage(task["scores"], task["per_query"], len(task["query_ids"]))


def _sample_damage(sample: dict | None) -> str | None:
    if sample is None:
        return None
    for key in ("n", "of", "seed"):
        if not isinstance(sample.get(key), int) or isinstance(sample.get(key), bool) or sample[key] < 0:
            return f".sample.{key} is {_shown(sample.get(key))}, not a whole number of 0 or more"
    if sample.get("corpus", "whole") not in ("whole", "pruned"):
        return f".sample.corpus is {_shown(sample['corpus'])}, not 'whole' or 'pruned'"
    distractors = sample.get("distractors")
    if distractors is not None and (not isinstance(distractors, int) or isinstance(distractors, bool)):
        return f".sample.distractors is {_shown(distractors)}, not a whole number or null"
    return None


def _dataset_damage(dataset: dict | None) -> str | None:
    if dataset is None:
        return None
    for key in ("task", "layout", "repo"):
        if not isinstance(dataset.get(key), str):
            return f".dataset.{key} is {_shown(dataset.get(key))}, not text"
    if dataset.get("revision") is not None and not isinstance(dataset["revision"], str):
        return f".dataset.revision is {_shown(dataset['revision'])}, not text or null"
    return None


def _scores_damage(scores: dict, per_query: dict, queries: int) -> str | None:
    for name, value in scores.items():
        low, high = score_range(name)
        if not _number(value) or not low <= value <= high:
            return f".scores['{name}'] is {_shown(value)}, {_expected(low, high)}"
    for name, values in per_query.items():
        low, high = score_range(name)
        if not isinstance(values, list):
            return f".per_query['{name}'] is {_kind(values)}, not a list of numbers"
        if not all(type(v) in (float, int) for v in values):  # not a bool, not a subclass (the fast test)
            wrong = next(i for i, v in enumerate(values) if type(v) not in (float, int))
            return f".per_query['{name}'][{wrong}] is {_shown(values[wrong])}, not a number"
        array = np.asarray(values, dtype=np.float64)
        if len(array) != queries:
            return f".per_query['{name}'] has {len(array)} scores for {queries} query ids"
        bad = np.flatnonzero(~((array >= low) & (array <= high)))  # NaN fails both
        if bad.size:
            return f".per_query['{name}'][{bad[0]}] is {_shown(values[bad[0]])}, {_expected(low, high)}"
        mean = float(array.mean()) if queries else None
        if mean is not None and name in scores and not math.isclose(scores[name], mean, rel_tol=MEAN_TOLERANCE,
                                                                    abs_tol=MEAN_TOLERANCE):
            return f".scores['{name}'] is {_shown(scores[name])}, not the mean of its per-query scores ({mean:.6g})"
    return None


def _number(value: Any) -> bool:
    """A JSON number that is a real value (not a bool, not NaN nor infinite)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _expected(low: float, high: float) -> str:
    if math.isinf(low) and math.isinf(high):
        return "not a finite number"
    return f"outside {low:g}..{high:g}" if math.isfinite(high) else f"not a finite number of {low:g} or more"


def _shown(value: Any) -> str:
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return repr(value)[:40]
    return _kind(value)


def _kind(value: Any) -> str:
    if isinstance(value, type):
        return {dict: "an object", list: "a list", str: "text"}.get(value, value.__name__)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "text", int: "a number", float: "a number"}.get(type(value),
                                                                                                      type(value).__name__)

