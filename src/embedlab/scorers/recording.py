"""`eval --save-run DIR`: the ranking each retrieval result was scored from, kept as the scorer gives it and
written as a TREC run once the run's display names are known: `DIR/<task>/<model>.trec`, each model's top
100 per query (tag: the model's display name).

A task's runs share a folder, so every system's ranking of one collection (one qrels) sits side by side for
trec_eval, ranx or `-m run:`. The files are regenerated as `eval -o` regenerates results: an existing run of
the same model and task is replaced, other files in DIR are left alone; DIR may not be (inside) an input. A
run file given as a model (`-m run:`) is its own saved run: it is not copied.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from embedlab.data.output import check_output
from embedlab.data.trec_run import file_safe, write_run
from embedlab.errors import DataError
from embedlab.results.results import Results, TaskResult
from embedlab.results.table import display_names
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask

SAVED_DEPTH = 100


class RunSaver:
    """Collects the rankings of a run's scorers (`recording`, `keep`) and writes them (`write`)."""

    def __init__(self, folder: str | Path, depth: int = SAVED_DEPTH) -> None:
        self.folder, self.depth = Path(folder), depth
        self._kept: dict[int, tuple[TaskResult, RetrievalTask, np.ndarray, np.ndarray]] = {}

    @classmethod
    def of(cls, folder: str | Path | RunSaver | None, tasks: list) -> RunSaver | None:
        """The saver of `RunOptions.save_run` (None: runs are not saved); a folder is checked before any model
        runs: not an input nor inside one, not a file, and every id of the retrieval tasks fits a TREC line."""
        if folder is None or isinstance(folder, RunSaver):
            return folder
        check_output(folder, inputs=[t.source for t in tasks if t.source], overwrite=True, folder=True,
                     role="run folder")
        for task in tasks:
            if isinstance(task, RetrievalTask):
                spaced = next((i for i in (*task.queries, *task.corpus) if len(i.split()) != 1), None)
                if spaced is not None:
                    raise DataError(f"the id '{spaced}' of task {task.name} has whitespace, which a TREC run "
                                    "cannot hold", path=task.source, hint="save runs of data whose ids have none")
        return cls(folder)

    def keep(self, recording: Recording, results: list[TaskResult]) -> None:
        """Pairs each result with the ranking it was scored from (by task: a scorer's run has one per task)."""
        for result in results:
            if result.task in recording.rankings:
                self._kept[id(result)] = (result, *recording.rankings[result.task])

    def write(self, results: Results) -> list[Path]:
        """One run file per (model run, retrieval task) kept; each model run's info gets `saved_runs`
        {task: path}. A run file (`-m run:`) is not copied: its `saved_runs` name the file itself."""
        written: list[Path] = []
        for label, model_run in zip(display_names(results.runs), results.runs):
            saved = {}
            for result in model_run.tasks:
                kept = self._kept.get(id(result))
                if kept is None or kept[0] is not result:
                    continue
                if model_run.model.get("backend") == "trec-run":  # a run file is its own run: no copy
                    saved[result.task] = model_run.model["path"]
                    continue
                path = self._free(self.folder / file_safe(result.task) / f"{file_safe(label)}.trec", written)
                write_run(path, _rankings(*kept[1:]), label)
                written.append(path)
                saved[result.task] = str(path)
            if saved:
                model_run.model["saved_runs"] = saved
        return written

    @staticmethod
    def _free(path: Path, written: list[Path]) -> Path:
        """`path`, or `path` numbered when another model of this run took it (two labels, one file name)."""
        candidate, number = path, 1
        while candidate in written:
            number += 1
            candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        return candidate


def recording(saver: RunSaver | object, scorer):
    """The scorer, recording its rankings when runs are saved (`saver` a RunSaver: `evaluate` makes one of
    `RunOptions.save_run`)."""
    return Recording(scorer, saver.depth) if isinstance(saver, RunSaver) else scorer


def keep_rankings(saver: RunSaver | object, scorer, results: list[TaskResult]) -> None:
    """What a `recording` scorer ranked, paired with the results scored from it (nothing when runs are not saved)."""
    if isinstance(saver, RunSaver) and isinstance(scorer, Recording):
        saver.keep(scorer, results)


def write_runs(saver: RunSaver | object, results: Results) -> list[Path]:
    """The runs kept, written (nothing when runs are not saved)."""
    return saver.write(results) if isinstance(saver, RunSaver) else []


def _rankings(task: RetrievalTask, indices: np.ndarray, scores: np.ndarray):
    doc_ids = list(task.corpus)
    for qid, row, values in zip(task.queries, indices, scores):
        found = row >= 0
        yield qid, [doc_ids[i] for i in row[found]], values[found]


class Observed:
    """A scorer as it is, calling `seen(task, depth asked, indices, scores)` with each ranking it gives."""

    def __init__(self, inner, seen) -> None:
        self.inner, self.seen = inner, seen

    @property
    def model_seconds(self) -> float:
        return self.inner.model_seconds

    def stats(self) -> dict[str, float]:
        return self.inner.stats()

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        return self.inner.candidate_scores(task)

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        indices, scores = self.inner.ranking(task, depth)
        self.seen(task, depth, indices, scores)
        return indices, scores


class Recording(Observed):
    """A scorer as it is, keeping the top `depth` of each ranking it gives (task name -> task, indices,
    scores), exactly as returned: what is saved is what was scored."""

    def __init__(self, inner, depth: int) -> None:
        super().__init__(inner, self._keep)
        self.depth = depth
        self.rankings: dict[str, tuple[RetrievalTask, np.ndarray, np.ndarray]] = {}

    def _keep(self, task: RetrievalTask, depth: int, indices: np.ndarray, scores: np.ndarray) -> None:
        self.rankings[task.name] = (task, np.array(indices[:, :self.depth]), np.array(scores[:, :self.depth]))
