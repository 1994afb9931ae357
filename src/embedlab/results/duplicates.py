"""Runs read from several results files: the same run twice is one run.

`report a.json b.json` where both files hold the same models showed each twice (`[run 1]`, `[run 2]`) and added the
copies to the Holm correction, so `report` and `compare` disagreed on the same evidence. A run that repeats an
earlier one — same kind, model and settings, and on every task both hold the same data hash, queries and per-query
scores — is counted once (with the tasks only the copy has), and the merge is said. Runs of one model that differ
stay apart, named by what differs (`results.table.display_names`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from embedlab.results.results import ModelRun, Results
from embedlab.results.table import short_name

# what two evaluations of the same run may record differently: what was billed (a cached re-run pays nothing), where
# rankings were saved, how much of a run file matched (a count of the same file)
_NOT_SETTINGS = ("usage", "saved_runs", "run_coverage")


def same_run(a: ModelRun, b: ModelRun) -> bool:
    """Whether `b` repeats `a`: the same kind, model and settings, and identical scores on every task both hold."""
    if a.kind != b.kind or _settings(a) != _settings(b):
        return False
    mine = {t.task: t for t in a.tasks}
    shared = [(mine[t.task], t) for t in b.tasks if t.task in mine]
    return all(x.data_hash == y.data_hash and x.query_ids == y.query_ids and x.per_query == y.per_query
               for x, y in shared)


def merge_duplicates(results: Sequence[Results], sources: Sequence[str] | None = None
                     ) -> tuple[list[Results], list[str]]:
    """`results` with every run that repeats an earlier one left out (its tasks the earlier lacks added to a copy of
    that one), and a note per pair of sources that shared runs. `sources` name the results (file names). The inputs
    are not changed, and a run that absorbed nothing is the input's own object (callers key runs by identity)."""
    sources = list(sources) if sources is not None else [f"results {i}" for i in range(1, len(results) + 1)]
    kept: list[list] = []  # per distinct run so far: [the run, where it was first read, its list, its position]
    merged: dict[tuple[str, str], list[str]] = {}  # (source of the copy, source of the first) -> models
    lists: list[list[ModelRun]] = []
    for result, source in zip(results, sources):
        runs: list[ModelRun] = []
        for run in result.runs:
            first = next((entry for entry in kept if same_run(entry[0], run)), None)
            if first is None:
                kept.append([run, source, runs, len(runs)])
                runs.append(run)
                continue
            known = {t.task for t in first[0].tasks}
            extra = [t for t in run.tasks if t.task not in known]
            if extra:  # a copy with them: the input stays as it was
                first[0] = ModelRun(first[0].model, first[0].embedding, [*first[0].tasks, *extra], first[0].kind)
                first[2][first[3]] = first[0]
            merged.setdefault((source, first[1]), []).append(short_name(run.model["name"]))
        lists.append(runs)
    out = [Results(runs, r.environment, r.created, r.seed, r.schema, r.failures) for runs, r in zip(lists, results)]
    return out, [_note(copy, first, models) for (copy, first), models in merged.items()]


def _note(copy: str, first: str, models: list[str]) -> str:
    names = ", ".join(dict.fromkeys(models))
    if copy == first:
        return f"{copy} is given twice: its {len(models)} run(s) ({names}) are counted once"
    return (f"{first} and {copy} both hold {len(models)} run(s) with the same model, settings, data and per-query "
            f"scores ({names}): each is counted once")


def _settings(run: ModelRun) -> str:
    return json.dumps({k: v for k, v in run.model.items() if k not in _NOT_SETTINGS}, sort_keys=True, default=str)
