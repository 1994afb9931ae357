"""Why a model loses: the queries where two models differ most on a retrieval task, each with both models' top
documents from their saved runs (`eval --save-run`), their grades and the rank of the first relevant one.

`query_differences` is the pure function (per-query scores, rankings and task data in, queries out);
`query_analyses` finds what it needs from results files: the runs they recorded (`saved_runs`) and the task
data, read again from the source the results recorded and checked against their data hash; each run file against
the hash recorded when it was saved. A run or data file that moved or changed skips that analysis with a one-line
note, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedlab.data.trec_run import read_run
from embedlab.errors import EmbedlabError
from embedlab.results.compare import TaskComparison, named_runs
from embedlab.results.results import ModelRun, Results, TaskResult
from embedlab.tasks.retrieval import RetrievalTask
from embedlab.tasks.types import task_type

SNIPPET = 160


@dataclass
class Ranked:
    """A document of a model's top: its id, its grade (None: not judged) and the start of its text (None: the
    document is not in the corpus)."""

    doc_id: str
    grade: int | None
    snippet: str | None

    @property
    def relevant(self) -> bool:
        return self.grade is not None and self.grade > 0


@dataclass
class QueryDiff:
    """One query: both models' scores (baseline first), the difference (other - baseline), the relevant
    documents it has, both models' top documents and the rank of the first relevant one in each saved run
    (None: none in it)."""

    query_id: str
    query: str
    scores: tuple[float, float]
    delta: float
    relevant: int
    top: tuple[list[Ranked], list[Ranked]]
    first_relevant: tuple[int | None, int | None]


@dataclass
class QueryAnalysis:
    """The queries with the largest differences between `models` (baseline, other) on a task."""

    task: str
    metric: str
    models: tuple[str, str]
    queries: list[QueryDiff]
    of: int  # queries in the task
    wins: int  # queries the other model scores higher on
    losses: int


def query_differences(query_ids: list[str], scores_a, scores_b, ranking_a: dict[str, list[str]],
                      ranking_b: dict[str, list[str]], task: RetrievalTask, *, n: int = 10, top: int = 5,
                      snippet: int = SNIPPET) -> list[QueryDiff]:
    """The `n` queries with the largest |b - a| (both directions; equal differences in task order; no
    query where both score the same), each with both rankings' top `top` documents. A ranking lists each
    query's document ids best first (a query it lacks ranks nothing)."""
    a, b = np.asarray(scores_a, dtype=np.float64), np.asarray(scores_b, dtype=np.float64)
    delta = b - a
    size = np.round(np.abs(delta), 12)  # differences equal but for float noise are equal: task order
    order = [i for i in np.argsort(-size, kind="stable") if size[i] != 0][:n]
    out = []
    for i in order:
        qid = query_ids[i]
        grades = task.qrels.get(qid, {})
        ranked = [ranking_a.get(qid, []), ranking_b.get(qid, [])]
        tops = tuple([Ranked(d, grades.get(d), _snippet(task.corpus.get(d), snippet)) for d in r[:top]]
                     for r in ranked)
        first = tuple(next((rank for rank, d in enumerate(r, start=1) if grades.get(d, 0) > 0), None) for r in ranked)
        out.append(QueryDiff(qid, task.queries.get(qid, ""), (float(a[i]), float(b[i])), float(delta[i]),
                             sum(g > 0 for g in grades.values()), tops, first))
    return out


def _snippet(text: str | None, size: int) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= size else text[:size - 1].rstrip() + "…"


def query_analyses(results: list[Results], comparisons: list[TaskComparison], n: int = 10
                   ) -> tuple[list[QueryAnalysis], list[str]]:
    """For each retrieval comparison, each model against the baseline where both saved their runs; and the
    notes of what was skipped (a run or the data moved or changed; a model without a saved run)."""
    named = named_runs(results)
    analyses, notes = [], []
    for c in comparisons:
        present = {r.model: _result(named[r.model], c.task) for r in c.rows}
        saved = {name: result for name, result in present.items()
                 if result is not None and c.task in named[name].model.get("saved_runs", {})}
        if not saved or not task_type(next(iter(present.values())).type).ranks_corpus:
            continue
        unsaved = [name for name in present if name not in saved]
        if unsaved:
            notes.append(f"{c.task}: no saved run for {', '.join(unsaved)} (evaluate with --save-run DIR to see "
                         "its queries)")
        if c.baseline not in saved or len(saved) < 2:
            continue
        task, note = task_data(saved[c.baseline])
        runs = {name: _ranking(named[name], c.task) for name in saved}
        notes += [note] if note else [f"{c.task}: {run}" for run in runs.values() if isinstance(run, str)]
        if task is None or any(isinstance(run, str) for run in runs.values()):
            continue
        base = saved[c.baseline]
        for name in [m for m in saved if m != c.baseline]:
            a, b = base.per_query[c.metric], saved[name].per_query[c.metric]
            diffs = query_differences(base.query_ids, a, b, runs[c.baseline], runs[name], task, n=n)
            delta = np.asarray(b) - np.asarray(a)
            analyses.append(QueryAnalysis(c.task, c.metric, (c.baseline, name), diffs, len(a),
                                          int((delta > 0).sum()), int((delta < 0).sum())))
    return analyses, notes


def _result(run: ModelRun, task: str) -> TaskResult | None:
    return next((t for t in run.tasks if t.task == task), None)


def _ranking(run: ModelRun, task: str) -> dict[str, list[str]] | str:
    """A model's saved run of a task (query id -> document ids best first), or why it cannot be read."""
    path = run.model["saved_runs"][task]
    try:
        saved = read_run(path)
    except EmbedlabError as exc:
        return f"the saved run of {run.model['name']} cannot be read, its queries are not shown ({exc})"
    recorded = run.model.get("saved_runs_sha256", {}).get(task)  # None: results written before hashes were kept
    if recorded is not None and recorded != saved.sha256:
        return (f"the saved run of {run.model['name']} at {path} was replaced after these results were written "
                "(by a later eval?): its queries are not shown")
    return {qid: docids for qid, (docids, _) in saved.rankings.items()}


def task_data(result: TaskResult) -> tuple[RetrievalTask | None, str | None]:
    """The task a result was scored on, read again from its source (and sampled again as it was), or None
    and why not: the data moved, or is not the data scored (changed since, or another split)."""
    from embedlab.data.resolve import resolve
    from embedlab.tasks.types import task_type

    where = f"{result.task}: queries not shown"
    source = next((s for s in (result.source_absolute, result.source) if s and Path(s).exists()), None)
    if source is None:  # the absolute path first: the source as given may be relative to another folder
        return None, (f"{where}, its data is not at {result.source_absolute or result.source or '(no source recorded)'}"
                      " any more")
    try:
        task = next(t for t in resolve(source) if t.type == result.type)
        if result.sample:
            s = result.sample
            task = task_type(task).sample(task, s["n"], s["seed"], prune_corpus=s.get("corpus") == "pruned",
                                          distractors=s.get("distractors") or 0)
    except (EmbedlabError, StopIteration) as exc:
        return None, f"{where}, its data at {source} cannot be read ({exc})"
    if task.fingerprint() != result.data_hash:
        return None, f"{where}: the data at {source} is not the data scored (changed since, or another split)"
    return task, None


def coverage_notes(results: Results) -> list[str]:
    """One line per task a run file (`-m run:`) did not fully cover: queries it does not rank (they score 0),
    ranked documents outside the corpus (counted as not relevant at their rank, as trec_eval does)."""
    notes = []
    for run in results.runs:
        old = run.model.get("run_coverage", {})  # results written before the counts were the task's own
        for result in run.tasks:
            counts = {**{f"run_{k}": v for k, v in old.get(result.task, {}).items()}, **result.counts}
            missing, outside = counts.get("run_queries_missing"), counts.get("run_documents_outside_corpus")
            if missing:
                notes.append(f"{run.model['name']} on {result.task}: {missing:,} of "
                             f"{result.counts.get('queries', len(result.query_ids)):,} queries are not in the run "
                             "(they score 0)")
            if outside:
                notes.append(f"{run.model['name']} on {result.task}: {outside:,} ranked documents are not in the "
                             "corpus (each counts as not relevant at its rank, as in trec_eval)")
    return notes
