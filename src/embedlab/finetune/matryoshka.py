"""Matryoshka training: `--matryoshka 384,256,128,64` wraps the loss in sentence-transformers' MatryoshkaLoss, and
every checkpoint is scored at each width from the same vectors, cut as `embedlab sweep --dims` cuts them
(`deploy.precision.truncate`: the first d coordinates, normalised again). The curve has one line per width; the
summary says which widths are statistically tied with full width at the best checkpoint (a paired bootstrap CI
over queries that contains 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embedlab.deploy.precision import truncate
from embedlab.errors import EmbedlabError, SetupError
from embedlab.results.curve import Curve
from embedlab.results.stats import paired_bootstrap_ci
from embedlab.scorers.kinds import DenseScorer
from embedlab.search.exact import top_k
from embedlab.tasks.scoring import Grid, tie_order


def parse_matryoshka(text: str) -> tuple[int, ...]:
    """`384,256,128,64`: distinct widths, largest first."""
    try:
        dims = sorted({int(d) for d in text.replace(" ", "").split(",") if d}, reverse=True)
    except ValueError:
        raise EmbedlabError(f"--matryoshka '{text}': give widths as numbers, e.g. 384,256,128,64") from None
    if not dims or dims[-1] < 1:
        raise EmbedlabError(f"--matryoshka '{text}': give one or more widths of 1 or more, e.g. 384,256,128,64")
    return tuple(dims)


def check_dimensions(dims: tuple[int, ...], full: int) -> dict[str, Any]:
    """The widths trained (the model's full width always among them) and scored; above the model's, an error."""
    above = [d for d in dims if d > full]
    if above:
        raise SetupError(f"--matryoshka {','.join(map(str, dims))}: {', '.join(map(str, above))} is above the "
                         f"model's {full} dimensions")
    return {"full": full, "trained": sorted({*dims, full}, reverse=True), "scored": [d for d in dims if d < full]}


def loss_dimensions(dims: tuple[int, ...], model) -> list[int]:
    get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return sorted({*dims, int(get())}, reverse=True)


class TruncatedScorer(DenseScorer):
    """The vectors of a store cut to `dim` coordinates (normalised again), scored as `eval` scores vectors."""

    def __init__(self, store, dim: int) -> None:
        super().__init__(store)
        self.dim = dim

    def _vectors(self, task, kind: str) -> np.ndarray:
        return truncate(self.store.embed(task.texts(kind), kind), self.dim)

    def candidate_scores(self, task) -> np.ndarray:
        queries, documents = self._vectors(task, "query"), self._vectors(task, "document")
        return np.einsum("ij,ij->i", queries[Grid.of(task).row_of], documents)

    def ranking(self, task, depth: int) -> tuple[np.ndarray, np.ndarray]:
        documents, queries = self._vectors(task, "document"), self._vectors(task, "query")
        return top_k(queries, documents, depth, tie_rank=tie_order(task))


def dimension_scores(store, tasks: dict, curve: Curve, dims) -> dict[str, Any]:
    """A checkpoint's scores at each width below the full one (from the vectors already in `store`)."""
    full = store.dimension
    points = {}
    for dim in dims:
        if dim >= full:
            continue
        results = {label: TruncatedScorer(store, dim).score(task) for label, task in tasks.items()}
        points[str(dim)] = {"scores": {label: r.scores for label, r in results.items()},
                            "per_query": {label: r.per_query[curve.tasks[label]["main"]]
                                          for label, r in results.items()}}
    return points


def dimension_line(curve: Curve, point: dict[str, Any]) -> str:
    """`; @256 0.7012, @128 0.6890` for a point's announcement."""
    dims = point.get("dims") or {}
    return "".join(f"{'; ' if i == 0 else ', '}@{dim} {d['scores'][curve.task][curve.metric_name]:.4f}"
                   for i, (dim, d) in enumerate(dims.items()))


def ties(curve: Curve, dims, seed: int = 0) -> dict[str, Any]:
    """At the best checkpoint: each width's score, its paired CI against full width, and which widths are tied."""
    best = curve.best()
    full = best["per_query"][curve.task]
    widths, tied = {}, []
    for dim, values in (best.get("dims") or {}).items():
        delta = paired_bootstrap_ci(values["per_query"][curve.task], full, seed=seed)
        same = delta.low <= 0 <= delta.high
        widths[dim] = {"value": values["scores"][curve.task][curve.metric_name], "delta": delta.as_dict(),
                       "tied_with_full": same}
        if same:
            tied.append(int(dim))
    return {"at_step": best["step"], "widths": widths, "tied_with_full": tied}
