"""How each kind of model is scored: one row per kind of `models.base` (`SCORERS`), looked up by `scorer_for`.

A row builds the kind's scorer from the model and the run's `Outputs` (where the run keeps what models give:
`run.context.RunContext` opens a store per model, with the run's cache, engine and progress). Scoring never
switches on backends: a new kind of model is a class in `models/` and a row here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from embedlab.embedding.outputs import M3Store, MultiVectorStore, SparseStore
from embedlab.embedding.pairs import PairStore
from embedlab.embedding.store import EmbeddingStore
from embedlab.errors import ModelError
from embedlab.models.base import (
    Combination,
    Encoder,
    Model,
    MultiOutputEncoder,
    MultiVectorEncoder,
    PairScorer,
    Ranker,
    SparseEncoder,
)
from embedlab.scorers.base import Scorer
from embedlab.scorers.hybrid import HybridScorer
from embedlab.scorers.kinds import DenseScorer, PairScoring, RankerScorer
from embedlab.scorers.m3 import M3Scorer
from embedlab.scorers.multivector import MultiVectorScorer
from embedlab.scorers.sparse import SparseScorer


class Outputs(Protocol):
    """Where a run keeps what its models give (`run.context.RunContext`)."""

    def vectors(self, model: Encoder) -> EmbeddingStore: ...

    def outputs(self, kind: type, model: Model) -> Any: ...

    def pairs(self, model: PairScorer) -> PairStore: ...

    def ranker(self, model: Ranker) -> Ranker: ...


def _combination(model: Combination, outputs: Outputs) -> Scorer:
    return HybridScorer(model, [scorer_for(part, outputs) for part in model.parts()])


# model kind -> its scorer
SCORERS: dict[type, Callable[[Model, Outputs], Scorer]] = {
    Encoder: lambda model, outputs: DenseScorer(outputs.vectors(model)),
    SparseEncoder: lambda model, outputs: SparseScorer(outputs.outputs(SparseStore, model)),
    MultiVectorEncoder: lambda model, outputs: MultiVectorScorer(outputs.outputs(MultiVectorStore, model)),
    MultiOutputEncoder: lambda model, outputs: M3Scorer(outputs.outputs(M3Store, model)),
    Ranker: lambda model, outputs: RankerScorer(outputs.ranker(model)),
    PairScorer: lambda model, outputs: PairScoring(outputs.pairs(model)),
    Combination: _combination,
}


def scorer_for(model: Model, outputs: Outputs) -> Scorer:
    """The scorer of the model's kind (the first of its classes in the table)."""
    for kind in type(model).__mro__:
        if kind in SCORERS:
            return SCORERS[kind](model, outputs)
    raise ModelError(f"{type(model).__name__} is none of the kinds of model embedlab scores "
                     f"({', '.join(kind.__name__ for kind in SCORERS)})")
