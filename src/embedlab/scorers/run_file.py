"""A run file's scorer: the run's rankings of a retrieval task, with what it does not cover counted per task."""

from __future__ import annotations

import numpy as np

from embedlab.errors import ModelError
from embedlab.scorers.kinds import RankerScorer
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask


class RunScoring(RankerScorer):
    """Ranks as the run does, to the evaluation depth even past the corpus size (documents outside the corpus
    keep their ranks), float64 scores kept as read (float32 would tie scores the run tells apart)."""

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        raise ModelError(f"'{self.model.name}' ranks documents by id and reranking rows have none: evaluate a "
                         "run file on retrieval data (`embedlab convert ROWS -o FOLDER --to retrieval` makes one with ids)")

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        indices, scores, counts = self._call(self.model.ranked, task.queries, task.corpus, depth)
        self.model.coverage[task.name] = counts
        return indices, scores
