"""Observers of a run: what is done beside scoring (saving TREC runs, recording prices) watches the runs of the
plan instead of being threaded through it. `execute` asks each observer for the scorer to score with (`watch`,
which may wrap it), tells it each result (`scored`) and each finished model run (`recorded`); `finished` gets the
Results once their display names are known.

`SavedRuns` is `eval --save-run DIR`: the ranking each retrieval result was scored from, kept as the scorer gives
it and written as a TREC run, `DIR/<task>/<model>.trec`, each model's top 100 per query (tag: the model's display
name; a name that is not a file name gets a hash of it: one file per name, `data.trec_run.run_file_name`). Each
file's absolute path and sha256 are recorded with the results (`saved_runs`, `saved_runs_sha256`): found from any
folder, and a file replaced since is told from the one scored. A task's runs share a folder, so every system's
ranking of one collection (one qrels) sits side by side for trec_eval, ranx or `-m run:`. The files are regenerated
as `eval -o` regenerates results: an existing run of the same model and task is replaced, other files in DIR are
left alone; DIR may not be (inside) an input. A run file given as a model (`-m run:`) is its own saved run: it is not
copied.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from embedlab.data.output import check_output
from embedlab.data.trec_run import file_safe, run_file_name, write_run
from embedlab.errors import DataError
from embedlab.results.results import ModelRun, Results, TaskResult
from embedlab.results.table import display_names
from embedlab.scorers.base import Scorer
from embedlab.scorers.recording import Recording
from embedlab.tasks.types import Task, ranks_corpus

if TYPE_CHECKING:
    from embedlab.run.plan import PlannedRun

SAVED_DEPTH = 100


class Observer:
    """Does nothing at each step; an observer overrides the steps it watches."""

    def watch(self, run: PlannedRun, scorer: Scorer) -> Scorer:
        return scorer

    def scored(self, run: PlannedRun, scorer: Scorer, result: TaskResult) -> None:
        pass

    def recorded(self, run: PlannedRun, model_run: ModelRun) -> None:
        pass

    def finished(self, results: Results) -> None:
        pass


class Priced(Observer):
    """Records the price given for paid models (`--price-per-mtok`) with each run that paid, for reports' costs."""

    def __init__(self, price_per_mtok: float | None) -> None:
        self.price = price_per_mtok

    def recorded(self, run: PlannedRun, model_run: ModelRun) -> None:
        if run.paid and self.price is not None:
            model_run.model["price_per_mtok"] = self.price


class SavedRuns(Observer):
    """Keeps the rankings the run's scorers give (`watch`, `scored`) and writes them (`finished`)."""

    def __init__(self, folder: str | Path, depth: int = SAVED_DEPTH) -> None:
        self.folder, self.depth = Path(folder), depth
        self.written: list[Path] = []
        self._kept: dict[int, tuple[TaskResult, Task, np.ndarray, np.ndarray]] = {}
        self._own: dict[int, str] = {}  # id(model run) -> the run file it was read from
        self._recordings: dict[int, Recording] = {}  # id(planned run) -> the scorer watching it

    @classmethod
    def of(cls, folder: str | Path | SavedRuns | None, tasks: list[Task]) -> SavedRuns | None:
        """The observer of `RunOptions.save_run` (None: runs are not saved); a folder is checked before any model
        runs: not an input nor inside one, not a file, and every id of the retrieval tasks fits a TREC line."""
        if folder is None or isinstance(folder, SavedRuns):
            return folder
        check_output(folder, inputs=[t.source for t in tasks if t.source], overwrite=True, folder=True,
                     role="run folder")
        for task in tasks:
            if ranks_corpus(task):
                spaced = next((i for i in (*task.queries, *task.corpus) if len(i.split()) != 1), None)
                if spaced is not None:
                    raise DataError(f"the id '{spaced}' of task {task.name} has whitespace, which a TREC run "
                                    "cannot hold", path=task.source, hint="save runs of data whose ids have none")
        return cls(folder)

    def watch(self, run: PlannedRun, scorer: Scorer) -> Scorer:
        self._recordings[id(run)] = Recording(scorer, self.depth)
        return self._recordings[id(run)]

    def scored(self, run: PlannedRun, scorer: Scorer, result: TaskResult) -> None:
        rankings = self._recordings[id(run)].rankings
        if result.task in rankings:
            self._kept[id(result)] = (result, *rankings[result.task])

    def recorded(self, run: PlannedRun, model_run: ModelRun) -> None:
        if run.run_file is not None:
            self._own[id(model_run)] = run.run_file

    def finished(self, results: Results) -> None:
        """One run file per (model run, retrieval task) kept; each model run's info gets `saved_runs` {task: path}.
        A run file (`-m run:`) is not copied: its `saved_runs` name the file itself."""
        for label, model_run in zip(display_names(results.runs), results.runs):
            saved = {}
            for result in model_run.tasks:
                kept = self._kept.get(id(result))
                if kept is None or kept[0] is not result:
                    continue
                if id(model_run) in self._own:  # a run file is its own run: no copy
                    saved[result.task] = Path(os.path.abspath(self._own[id(model_run)]))
                    continue
                path = self._free(Path(os.path.abspath(self.folder)) / file_safe(result.task) /
                                  f"{run_file_name(label)}.trec")
                write_run(path, _rankings(*kept[1:]), label)
                self.written.append(path)
                saved[result.task] = path
            if saved:  # with each file's hash: a reader tells a run replaced since (by a later eval) from this one
                model_run.model["saved_runs"] = {task: str(path) for task, path in saved.items()}
                model_run.model["saved_runs_sha256"] = {task: hashlib.sha256(path.read_bytes()).hexdigest()
                                                        for task, path in saved.items()}

    def _free(self, path: Path) -> Path:
        """`path`, or `path` numbered when another model of this run took it (two labels, one file name) or when it
        is a run file this command reads (`-m run:`): an input is never written over."""
        reading = {Path(run_file).resolve() for run_file in self._own.values()}
        candidate, number = path, 1
        while candidate in self.written or candidate.resolve() in reading:
            number += 1
            candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        return candidate


def _rankings(task, indices: np.ndarray, scores: np.ndarray):
    doc_ids = list(task.corpus)
    for qid, row, values in zip(task.queries, indices, scores):
        found = row >= 0
        yield qid, [doc_ids[i] for i in row[found]], values[found]
