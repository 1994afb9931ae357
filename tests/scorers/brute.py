"""A brute-force scorer from a score function over all (query, document) texts: the reference the sparse,
multi-vector and bge-m3 scorers are checked against, each through its `score`."""

from __future__ import annotations

import numpy as np

from embedlab.scorers.base import Scorer
from embedlab.search.exact import top_k_of_blocks
from embedlab.tasks.scoring import tie_order


class BruteScorer(Scorer):
    name = "brute force"

    def __init__(self, function) -> None:
        self.function = function  # (query texts, document texts) -> (queries, documents) float32 scores

    def candidate_scores(self, task):
        return np.concatenate([self.function([row.query], row.candidates)[0] for row in task.rows]).astype(np.float32)

    def ranking(self, task, depth):
        scores = self.function(task.texts("query"), task.texts("document")).astype(np.float32)
        return top_k_of_blocks(lambda q0, q1, d0, d1: scores[q0:q1, d0:d1], scores.shape[0], scores.shape[1],
                               min(depth, scores.shape[1]), tie_rank=tie_order(task))
