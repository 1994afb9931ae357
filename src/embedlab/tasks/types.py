"""The task types as one table (the mteb way: metadata, not subclasses with logic).

Everything that differs between reranking and retrieval is here: the main score, the score names, the
rows a table shows, how queries are identified, how a model's output is scored, how a seeded sample is
drawn, and what mteb calls the type. Code elsewhere looks a task's type up instead of switching on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from embedlab.errors import UnknownNameError
from embedlab.metrics.names import DEFAULT_K, all_metrics
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask
from embedlab.tasks.sampling import sample_reranking, sample_retrieval
from embedlab.tasks.scoring import RERANKING_SCORES, ModelOutputs, score_reranking, score_retrieval

Task = RerankingTask | RetrievalTask


@dataclass(frozen=True)
class TaskType:
    name: str
    main_score: str
    table_rows: tuple[str, ...]  # what a results table shows by default (every score stays in the JSON)
    score_names: Callable[[tuple[int, ...]], list[str]]  # per-query scores `evaluate` gives
    query_ids: Callable[[Task], list[str]]
    score: Callable[[Task, ModelOutputs, tuple[int, ...]], dict[str, np.ndarray]]
    sample: Callable[..., Task]  # (task, n, seed, prune_corpus=, distractors=) -> a seeded subsample
    mteb: tuple[str, str]  # mteb's task type and main score
    mteb_prefix: str  # the scores exported under mteb's names: those of mteb 2.x's semantics (`v2.*` of reranking)
    ranks_corpus: bool  # a model ranks a corpus (retrieval), or scores each row's own candidates (reranking)


TASK_TYPES = {
    "reranking": TaskType(
        name="reranking", main_score="v1.map", table_rows=tuple(RERANKING_SCORES),
        score_names=lambda k_values: list(RERANKING_SCORES),
        query_ids=lambda task: [row.id for row in task.rows],
        score=lambda task, scorer, k_values: score_reranking(task, scorer.candidate_scores(task)),
        sample=sample_reranking, mteb=("Reranking", "map_at_1000"), mteb_prefix="v2.", ranks_corpus=False),
    "retrieval": TaskType(
        name="retrieval", main_score="ndcg@10",
        table_rows=("ndcg@10", "map@10", "mrr@10", "recall@10", "recall@100", "recall@1000"),
        score_names=lambda k_values: [str(m) for m in all_metrics(k_values)],
        query_ids=lambda task: list(task.queries),
        score=lambda task, scorer, k_values: score_retrieval(
            task, scorer.ranking(task, max(k_values))[0], all_metrics(k_values)),
        sample=sample_retrieval, mteb=("Retrieval", "ndcg_at_10"), mteb_prefix="", ranks_corpus=True),
}


def task_type(task_or_name: Task | str) -> TaskType:
    name = task_or_name if isinstance(task_or_name, str) else task_or_name.type
    if name not in TASK_TYPES:
        raise UnknownNameError("task type", name, TASK_TYPES)
    return TASK_TYPES[name]


def ranks_corpus(task: Task) -> bool:
    """Whether a model answers the task by ranking a corpus (retrieval: what search, two-stage reranking and
    saved TREC runs apply to), rather than by scoring each row's candidates."""
    return task_type(task).ranks_corpus


def score_names(type_name: str, k_values: tuple[int, ...] = DEFAULT_K) -> list[str]:
    """The per-query score names a task of this type gets from `evaluate`."""
    return task_type(type_name).score_names(k_values)
