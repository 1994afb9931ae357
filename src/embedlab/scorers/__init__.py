"""How each kind of model answers a task: the `tasks.scoring.Scorer` of an Encoder, a Ranker, a PairScorer,
and of the combinations (a hybrid, a two-stage run).

`scorer_for` looks the model's kind up in one table, so scoring never switches on backends: a new kind of
model adds one scorer class here. `with_search` makes a dense model (alone or inside a hybrid) rank with an
approximate index (`--search faiss-ivf|faiss-hnsw`, `scorers.approximate`). Every scorer checks what its model
returns (shape, NaN) and counts the seconds spent inside the model, which results report as the model's time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from embedlab.errors import ModelError
from embedlab.models.base import Encoder, Model, PairScorer, Ranker
from embedlab.models.bm25 import BM25
from embedlab.models.hybrid import Hybrid
from embedlab.models.run_file import RunFile
from embedlab.scorers.approximate import ApproximateSearch
from embedlab.scorers.hybrid import HybridScorer, SweepView
from embedlab.scorers.kinds import BM25Scoring, DenseScorer, PairScoring, RankerScorer
from embedlab.scorers.run_file import RunScoring
from embedlab.scorers.two_stage import Reranked, TwoStage, TwoStageScorer

__all__ = ["BM25Scoring", "DenseScorer", "HybridScorer", "PairScoring", "RankerScorer", "Reranked", "SCORERS",
           "SweepView", "TwoStage", "TwoStageScorer", "scorer_for", "RunScoring", "with_search"]


# model kind -> how to build its scorer (store: the factory of an EmbeddingStore for an encoder, of a PairStore
# for a pair scorer)
SCORERS: dict[type, Callable[[Any, Callable[[Model], Any]], Any]] = {
    Encoder: lambda model, store: DenseScorer(store(model)),
    Ranker: lambda model, store: RankerScorer(model),
    PairScorer: lambda model, store: PairScoring(store(model)),
    BM25: lambda model, store: BM25Scoring(model),
    Hybrid: lambda model, store: HybridScorer(model, store),
    RunFile: lambda model, store: RunScoring(model),
}


def with_search(scorer, search: str, seed: int = 0):
    """The scorer, ranking with an approximate index when `search` is one (`search.ann.APPROXIMATE`) and it is a
    dense model's, alone or as a hybrid's part (each dense part gets its own index and cost): other kinds of model
    rank without vectors, and ignore it."""
    if search != "exact" and isinstance(scorer, DenseScorer):
        scorer.search = ApproximateSearch(search, seed=seed)
    elif search != "exact" and isinstance(scorer, HybridScorer):
        for part in scorer.parts:
            with_search(part, search, seed)
    return scorer


def scorer_for(model: Model, store: Callable[[Model], Any]):
    """The scorer of the model's kind (the first of its classes in the table)."""
    for kind in type(model).__mro__:
        if kind in SCORERS:
            return SCORERS[kind](model, store)
    raise ModelError(f"{type(model).__name__} is none of Encoder, Ranker, PairScorer")


