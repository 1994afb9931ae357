"""A brute-force scorer from a score function over all (query, document) texts: the reference the sparse,
multi-vector and bge-m3 scorers are checked against through `evaluation.evaluate_task`."""

from __future__ import annotations

import numpy as np

from embedlab.search.exact import top_k_of_blocks
from embedlab.tasks.scoring import tie_order


class BruteScorer:
    model_seconds = 0.0

    def __init__(self, score) -> None:
        self.score = score  # (query texts, document texts) -> (queries, documents) float32 scores

    def candidate_scores(self, task):
        return np.concatenate([self.score([row.query], row.candidates)[0] for row in task.rows]).astype(np.float32)

    def ranking(self, task, depth):
        scores = self.score(task.texts("query"), task.texts("document")).astype(np.float32)
        return top_k_of_blocks(lambda q0, q1, d0, d1: scores[q0:q1, d0:d1], scores.shape[0], scores.shape[1],
                               min(depth, scores.shape[1]), tie_rank=tie_order(task))
