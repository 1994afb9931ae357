"""bge-m3's fused scorer: dense, sparse and ColBERT scores of one pass combined as FlagEmbedding's
`compute_score` combines them, (w_d s_dense + w_s s_sparse + w_c s_colbert) / (w_d + w_s + w_c), exactly over a
reranking row's candidates or a whole corpus (each block of documents scored by the three kernels, then ranked by
`exact.top_k_of_blocks`: ties as the exact search). `sweep()` gives the runs of `--weights sweep` (each output
alone, then the weight grid of `models.hybrid.weight_grid`) from the same stored outputs: nothing is encoded twice.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from embedlab.embedding.outputs import M3Store
from embedlab.models.hybrid import weight_grid
from embedlab.scorers.base import Scorer, SweepRun
from embedlab.search import maxsim
from embedlab.search.exact import top_k_of_blocks
from embedlab.search.sparse import SparseIndex, pair_scores
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask
from embedlab.tasks.scoring import Grid, tie_order

DOC_CHUNK = 2048  # documents per block of the fused exact search (ColBERT's token products dominate)
QUERY_CHUNK = 64


class M3Scorer(Scorer):
    """The fused score of a `MultiOutputEncoder`'s outputs (`store.model.outputs`, `store.model.weights`)."""

    def __init__(self, store: M3Store) -> None:
        self.store = store
        self.model, self.name = store.model, store.model.name
        self.costs: dict[str, dict[str, float]] = {}  # per retrieval task (the last weights scored): ms per query

    @property
    def model_seconds(self) -> float:
        return self.store.stats.seconds

    def stats(self) -> dict[str, Any]:
        return {**self.store.stats_dict(), **({"fused_search": self.costs} if self.costs else {})}

    def candidate_scores(self, task: RerankingTask, weights: tuple[float, ...] | None = None) -> np.ndarray:
        queries = self.store.outputs(task.texts("query"), "query")
        documents = self.store.outputs(task.texts("document"), "document")
        rows = Grid.of(task).row_of
        parts = {"dense": lambda: np.einsum("ij,ij->i", queries["dense"][rows], documents["dense"]),
                 "sparse": lambda: pair_scores(queries["sparse"][rows], documents["sparse"]),
                 "colbert": lambda: maxsim.pair_scores(queries["colbert"], documents["colbert"], rows, mean=True)}
        return self._fused({name: parts[name] for name in self.model.outputs}, weights)

    def ranking(self, task: RetrievalTask, depth: int, weights: tuple[float, ...] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        documents = self.store.outputs(task.texts("document"), "document")
        queries = self.store.outputs(task.texts("query"), "query")
        index = SparseIndex(documents["sparse"], doc_chunk=DOC_CHUNK) if "sparse" in documents else None
        colbert_docs = documents["colbert"].compact() if "colbert" in documents else None

        def block(q0: int, q1: int, d0: int, d1: int) -> np.ndarray:
            parts = {"dense": lambda: queries["dense"][q0:q1] @ documents["dense"][d0:d1].T,
                     "sparse": lambda: index.block_scores(queries["sparse"][q0:q1], d0, d1),
                     "colbert": lambda: maxsim.block_scores(queries["colbert"].take(np.arange(q0, q1)),
                                                            colbert_docs.take(np.arange(d0, d1)), mean=True)}
            return self._fused({name: parts[name] for name in self.model.outputs}, weights)

        started = time.perf_counter()
        ranked = top_k_of_blocks(block, len(task.queries), len(task.corpus), min(depth, len(task.corpus)),
                                 tie_rank=tie_order(task), query_chunk=QUERY_CHUNK, doc_chunk=DOC_CHUNK)
        self.costs[task.name] = {"ms_per_query": round(1000 * (time.perf_counter() - started) / len(task.queries), 4)}
        return ranked

    def _fused(self, parts: dict[str, Any], weights: tuple[float, ...] | None) -> np.ndarray:
        """sum(w x score) / sum(w) in float32, as compute_score; an output of weight 0 is not scored."""
        weights = self.model.weights if weights is None else weights
        total = np.float32(sum(weights))
        fused = None
        for (name, scores), weight in zip(parts.items(), weights):
            if weight:
                term = np.asarray(scores(), dtype=np.float32) * np.float32(weight)
                fused = term if fused is None else fused + term
        return fused / total

    def sweep_views(self, weights: list[tuple[float, ...]]) -> list[SweepRun]:
        """The runs of `--weights sweep`: each output alone, then the fusion at each weight of the grid."""
        n = len(self.model.outputs)
        alone = [M3View(self, tuple(float(i == j) for j in range(n)), self.model.outputs[i]) for i in range(n)]
        return [SweepRun(view, view.info, "model", False) for view in alone] + \
            [SweepRun(view, view.info, "weights", False) for view in (M3View(self, w) for w in weights)]

    def sweep(self) -> list[M3View]:
        """The views of a sweep over the default grid (`models.hybrid.weight_grid`)."""
        return [run.scorer for run in self.sweep_views(weight_grid(len(self.model.outputs)))]


class M3View(Scorer):
    """One run of a sweep: one output alone or the fusion at `weights`, from the scorer's stored outputs."""

    def __init__(self, scorer: M3Scorer, weights: tuple[float, ...], output: str | None = None) -> None:
        self.scorer, self.weights, self.output = scorer, weights, output
        self.name = self.info()["name"]

    @property
    def model_seconds(self) -> float:
        return self.scorer.model_seconds

    def stats(self) -> dict[str, Any]:
        return self.scorer.stats()

    def info(self) -> dict[str, Any]:
        info = self.scorer.model.info()
        if self.output is not None:
            return {**info, "name": info["name"].rsplit("#", 1)[0] + f"#{self.output}", "outputs": [self.output],
                    "weights": [1.0]}
        weights, base = ",".join(f"{w:g}" for w in self.weights), info["name"].rsplit("#", 1)[0]
        # a point of a sweep, as a hybrid's is recorded (`results.sweep` reads both): what it sweeps, and its parts
        return {**info, "name": f"{info['name']} ({weights})", "weights": list(self.weights),
                "sweep": {"of": info["name"], "weights": len(weight_grid(len(self.scorer.model.outputs)))},
                "models": [{"name": f"{base}#{output}"} for output in self.scorer.model.outputs]}

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        return self.scorer.candidate_scores(task, self.weights)

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        return self.scorer.ranking(task, depth, self.weights)
