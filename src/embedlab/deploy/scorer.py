"""One variant of a deployment sweep as a scorer (`scorers.base.Scorer`): the stored vectors cut to its dimensions,
at its precision, searched by its index, scored with the code `eval` uses.

Besides the scores, each task gets what the variant costs (`measured`): index bytes and build time, query
latency for a top 10 (all queries at once, and one at a time), and for an approximate index the neighbour
recall@10 against the exact search of the same vectors.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from embedlab.deploy.precision import Stored, calibration_ranges, rescored, store, truncate
from embedlab.deploy.variants import Variant
from embedlab.embedding.store import EmbeddingStore
from embedlab.scorers.base import Measured, Scorer
from embedlab.search.ann import AnnParams, build_index
from embedlab.search.approximate import recall_vs_exact
from embedlab.search.exact import top_k
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask
from embedlab.tasks.scoring import Grid, tie_order

LATENCY_K = 10  # a deployment's top 10: what latency and neighbour recall are measured for


@dataclass
class DeployKnobs:
    rescore_depth: int = 40  # candidates of a quantized search scored again with the float query
    ann_depth: int = 100  # results an approximate index is asked for (as a deployment asks; exact: the eval depth)
    ann: AnnParams = field(default_factory=AnnParams)
    latency_queries: int = 100  # queries timed one at a time


class VariantScorer(Scorer):
    """A deployment variant of one encoding: `documents` and `queries` are stores of the same model's vectors
    (the queries' store differs for a prompt variant)."""

    def __init__(self, documents: EmbeddingStore, queries: EmbeddingStore, variant: Variant, knobs: DeployKnobs):
        self.documents, self.queries, self.variant, self.knobs = documents, queries, variant, knobs
        self.name = f"{documents.encoder.name} {variant.label()}"
        self._measured: dict[str, Measured] = {}

    def measured(self, task) -> Measured:
        return self._measured.get(task.name, Measured())

    @property
    def model_seconds(self) -> float:
        return self.documents.stats.seconds + (self.queries.stats.seconds if self.queries is not self.documents else 0)

    def stats(self) -> dict[str, float]:
        return self.queries.stats.as_dict()

    def _sides(self, task) -> tuple[np.ndarray, Stored, Stored]:
        """(float queries, stored queries, stored documents) at the variant's width and precision."""
        dim, precision = self.variant.dimension, self.variant.stored_precision
        docs = truncate(self.documents.embed(task.texts("document"), "document"), dim)
        queries = truncate(self.queries.embed(task.texts("query"), "query"), dim)
        ranges = calibration_ranges(docs) if precision == "int8" else None
        # a float16 index is searched with the float32 query, as faiss' and usearch's fp16 indexes are
        query_side = store(queries, "float32" if precision == "float16" else precision, ranges)
        return queries, query_side, store(docs, precision, ranges)

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        floats, queries, docs = self._sides(task)
        grid = Grid.of(task)
        sizes, row_of = grid.sizes, grid.row_of
        scores = np.einsum("ij,ij->i", queries.search[row_of], docs.search)
        if not self.variant.rescore:
            return scores
        again = np.einsum("ij,ij->i", floats[row_of], docs.rescore)
        return _rescore_rows(scores.astype(np.float64), again, sizes, self.knobs.rescore_depth)

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        floats, queries, docs = self._sides(task)
        tie_rank = tie_order(task)
        exact = self._searcher(floats, queries, docs, tie_rank, None)
        measured = self._measured.setdefault(task.name, Measured())
        if self.variant.index == "exact":
            search = exact
            measured.counts["index_bytes"] = int(docs.stored.nbytes)
        else:
            started = time.perf_counter()
            index = build_index(self.variant.index, docs.stored, self.variant.stored_precision,
                                self.variant.dimension, self.knobs.ann)
            measured.timings["index_build_seconds"] = round(time.perf_counter() - started, 4)
            measured.counts["index_bytes"] = index.nbytes
            search = self._searcher(floats, queries, docs, tie_rank, index)
            depth = min(depth, self.knobs.ann_depth)
            everyone = np.arange(len(floats))
            found, truth = search(everyone, LATENCY_K)[0], exact(everyone, LATENCY_K)[0]
            measured.per_query[f"neighbour_recall@{LATENCY_K}"] = recall_vs_exact(found, truth, LATENCY_K)
        measured.timings.update(_latency(search, len(floats), self.knobs.latency_queries))
        return search(np.arange(len(floats)), depth)

    def _searcher(self, floats: np.ndarray, queries: Stored, docs: Stored, tie_rank: np.ndarray, index
                  ) -> Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]:
        """search(query rows, k): the variant's top k, rescored when it rescores."""
        depth_r = self.knobs.rescore_depth if self.variant.rescore else 0
        side = queries.stored if index is not None and self.variant.stored_precision in ("int8", "binary") \
            else queries.search

        def search(rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
            wanted = min(max(k, depth_r), len(docs.search))
            if index is None:
                idx, scores = top_k(queries.search[rows], docs.search, wanted, tie_rank=tie_rank)
            else:
                idx, scores = index.search(side[rows], wanted)
            if depth_r:
                idx, scores = rescore_top(idx, scores, floats[rows], docs.rescore, depth_r)
            return idx[:, :k], scores[:, :k]

        return search


def rescore_top(idx: np.ndarray, scores: np.ndarray, floats: np.ndarray, rescore: np.ndarray, depth: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The first `depth` candidates of each row reordered by float query · stored vector (the rest keep their
    order below them), as sentence-transformers rescores."""
    top = idx[:, :depth]
    again = rescored(floats, rescore[np.maximum(top, 0)])
    again[top < 0] = -np.inf  # padding never outranks a real candidate
    order = np.argsort(-again, axis=1, kind="stable")
    new_idx = idx.copy()
    new_idx[:, :depth] = np.take_along_axis(top, order, axis=1)
    new_scores = scores.astype(np.float64)
    new_scores[:, :depth] = np.take_along_axis(again, order, axis=1)
    return new_idx, new_scores


def _rescore_rows(scores: np.ndarray, again: np.ndarray, sizes: np.ndarray, depth: int) -> np.ndarray:
    """Per reranking row: its `depth` best candidates by the quantized score get their rescored score, the rest
    stay below them in their quantized order."""
    out = again.copy()
    start = 0
    for size in sizes:
        row = slice(start, start + size)
        start += size
        if size <= depth:
            continue
        order = np.argsort(-scores[row], kind="stable")
        rest = order[depth:]
        floor = out[row][order[:depth]].min()
        out[row][rest] = floor - 1 - (scores[row][rest].max() - scores[row][rest])
    return out


def _latency(search, n_queries: int, singles: int, repeats: int = 3) -> dict[str, float]:
    """ms per query for a top 10: all queries in one call (the best of `repeats` after a warm-up call: the
    first call of a variant pays one-time costs), and the median of `singles` of them one call each (the
    median: a machine shared with others makes a few single calls slow)."""
    everyone = np.arange(n_queries)
    search(everyone[:1], LATENCY_K)  # warm-up
    batch = []
    for _ in range(repeats):
        started = time.perf_counter()
        search(everyone, LATENCY_K)
        batch.append((time.perf_counter() - started) / max(1, n_queries))
    single = []
    for row in everyone[: min(singles, n_queries)]:
        started = time.perf_counter()
        search(row[None], LATENCY_K)
        single.append(time.perf_counter() - started)
    return {"ms_per_query_batch": round(1000 * min(batch), 4), "ms_per_query_single": round(1000 * float(np.median(single)), 4)}
