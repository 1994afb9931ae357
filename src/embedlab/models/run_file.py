"""An existing system's rankings as a model: `-m run:path/to/run.trec` (a production Elasticsearch or vector
database export, a pyserini run, a run saved by `eval --save-run`), scored on the task's qrels like any model.

Scores equal trec_eval's (pytrec_eval) on the same file and qrels: documents are ordered by the run's scores
with trec_eval's tie order (score descending, then document id descending), never by the rank column, which
trec_eval ignores too. A ranked document that is not in the task's corpus keeps its rank and counts as not
relevant, as trec_eval counts any unjudged document (dropping it would move the documents below it up and
flatter the run); a query of the task the run does not rank gets an empty ranking (it scores 0). Both are
counted per task in the results (`run_queries_missing`, `run_documents_outside_corpus` in each task's counts).
A run that ranks none of a task's queries, or none of its
documents, is the run of another collection: refused with one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from embedlab.data.trec_run import FORMATS, Run, read_run
from embedlab.errors import DataError, ModelError
from embedlab.models.base import ModelOptions, Ranker

_LAST: dict[tuple, Run] = {}  # the last file read: checking the name and loading the model read it once


def load_run(path: str | Path) -> Run:
    """The run file at `path`, read once while it is unchanged."""
    path = Path(path)
    stat = path.stat() if path.is_file() else None
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size) if stat else None
    if key is None or key not in _LAST:
        run = read_run(path)
        _LAST.clear()
        if key is not None:
            _LAST[key] = run
        return run
    return _LAST[key]


class RunFile(Ranker):
    """The rankings of a TREC run file (see the module docstring)."""

    paid = False
    ranks_past_corpus = True

    def __init__(self, spec: str = "", options: ModelOptions | None = None) -> None:
        self.check_name(spec)
        self.run = load_run(spec)
        self.name = f"run:{spec}"
        self._counts: dict[str, int] = {}  # of the last ranking

    @classmethod
    def check_name(cls, name: str) -> None:
        if not name:
            raise ModelError("run: needs a run file, e.g. -m run:runs/production.trec")
        load_run(name)  # a malformed file is refused before any model loads

    def info(self) -> dict[str, Any]:
        run = self.run
        return {**super().info(), "backend": "trec-run", "path": str(run.path), "format": FORMATS[run.columns],
                "sha256": run.sha256, "tags": run.tags[:10], "queries": len(run.rankings),
                "documents": run.documents}

    def own_run(self) -> str:
        return str(self.run.path)

    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    def score_rows(self, queries, candidates) -> np.ndarray:
        raise ModelError(f"'{self.name}' ranks documents by id and reranking rows have none: evaluate a run file "
                         "on retrieval data (`embedlab convert ROWS -o FOLDER --to retrieval` makes one with ids)")

    def rank(self, queries: dict[str, str], corpus: dict[str, str], depth: int) -> tuple[np.ndarray, np.ndarray]:
        """To the evaluation depth even past the corpus size: documents outside the corpus keep their ranks."""
        indices, scores, counts = self.ranked(queries, corpus, depth)
        self._counts = {f"run_{name}": value for name, value in counts.items()}
        return indices, scores

    def ranked(self, queries: dict[str, str], corpus: dict[str, str], depth: int
               ) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
        """(indices, scores) as `rank` gives them (-1 also marks a document outside the corpus, at its rank),
        and the counts: queries the run does not rank, ranked documents (up to `depth`) outside the corpus."""
        position = {docid: i for i, docid in enumerate(corpus)}
        indices = np.full((len(queries), depth), -1, dtype=np.int64)
        scores = np.zeros((len(queries), depth), dtype=np.float64)
        missing = outside = ranked = 0
        for row, qid in enumerate(queries):
            if qid not in self.run.rankings:
                missing += 1
                continue
            docids, values = self.run.rankings[qid]
            top = docids[:depth]
            indices[row, :len(top)] = [position.get(docid, -1) for docid in top]
            scores[row, :len(top)] = values[:depth]
            ranked += len(top)
            outside += len(top) - int((indices[row, :len(top)] >= 0).sum())
        self._check_overlap(queries, missing, ranked, outside)
        return indices, scores, {"queries_missing": missing, "documents_outside_corpus": outside}

    def _check_overlap(self, queries: dict[str, str], missing: int, ranked: int, outside: int) -> None:
        if queries and missing == len(queries):
            raise DataError(f"ranks none of the task's {len(queries):,} queries (the run's first query id: "
                            f"'{next(iter(self.run.rankings))}', the task's: '{next(iter(queries))}')",
                            path=self.run.path, hint="a run file ranks one collection: evaluate it on its own "
                                                     "retrieval data")
        if ranked and outside == ranked:
            first = next(q for q in queries if q in self.run.rankings)
            raise DataError(f"none of the {ranked:,} documents it ranks for the task's queries is in the corpus "
                            f"(query '{first}', its first line)", path=self.run.path, line=self.run.line_of(first),
                            hint="a run file ranks one collection: evaluate it on its own retrieval data")
