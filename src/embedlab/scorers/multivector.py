"""A multi-vector (ColBERT) model's scorer: exact MaxSim for reranking rows and for corpora up to `EXACT_TOKENS`
document tokens; beyond, with `search="auto"` (or a method named), a faiss index of the document tokens whose
candidates are ranked by exact MaxSim (`search.token_index`), its recall@10 against the exact search measured on
a seeded sample of queries, as `--search` reports it for dense models."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from embedlab.embedding.outputs import MultiVectorStore
from embedlab.errors import EmbedlabError
from embedlab.scorers.base import Scorer
from embedlab.search import maxsim
from embedlab.search.approximate import SAMPLE, recall_vs_exact, sample_queries
from embedlab.search.names import APPROXIMATE, RENAMED, index_name
from embedlab.search.token_index import TokenIndex
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask
from embedlab.tasks.scoring import Grid, tie_order

EXACT_TOKENS = 2_000_000  # document tokens up to which "auto" searches exactly
SEARCHES = ("exact", "auto", *APPROXIMATE, "flat")  # `--index` names (search.names); auto: exact, then ivf
RECALL_AT = 10


class MultiVectorScorer(Scorer):
    """MaxSim (mean MaxSim when the model says so) of token vectors."""

    def __init__(self, store: MultiVectorStore, *, search: str = "auto", seed: int = 0, sample: int = SAMPLE) -> None:
        search = RENAMED.get(search, search)
        if search not in SEARCHES:
            raise EmbedlabError(f"multi-vector search '{search}': give one of {', '.join(SEARCHES)}")
        self.store, self.search, self.seed, self.sample = store, search, seed, sample
        self.name = store.model.name
        self.mean = store.model.mean_over_query_tokens
        self.costs: dict[str, dict[str, Any]] = {}

    @property
    def model_seconds(self) -> float:
        return self.store.stats.seconds

    def stats(self) -> dict[str, Any]:
        return {**self.store.stats_dict(), **({"multi_vector_search": self.costs} if self.costs else {})}

    def candidate_scores(self, task: RerankingTask) -> np.ndarray:
        queries = self.store.embed(task.texts("query"), "query")
        documents = self.store.embed(task.texts("document"), "document")
        return maxsim.pair_scores(queries, documents, Grid.of(task).row_of, self.mean)

    def use_index(self, method: str, seed: int = 0) -> None:
        """`--index`: an index over the document tokens (exact: as "auto", exact up to EXACT_TOKENS, then ivf)."""
        self.search, self.seed = ("auto" if method == "exact" else index_name(method)), seed

    def method(self, document_tokens: int) -> str:
        if self.search == "auto":
            return "exact" if document_tokens <= EXACT_TOKENS else "ivf"
        return self.search

    def ranking(self, task: RetrievalTask, depth: int) -> tuple[np.ndarray, np.ndarray]:
        documents = self.store.embed(task.texts("document"), "document").compact()
        queries = self.store.embed(task.texts("query"), "query")
        depth, ties = min(depth, len(task.corpus)), tie_order(task)
        method = self.method(int(documents.lengths.sum()))
        started = time.perf_counter()
        if method == "exact":
            ranked = maxsim.top_k(queries, documents, depth, tie_rank=ties, mean=self.mean)
            self.costs[task.name] = {"method": "exact", **_speed(started, len(queries))}
            return ranked
        index = TokenIndex(documents, method, seed=self.seed)
        searched = time.perf_counter()
        ranked = index.search(queries, depth, tie_rank=ties, mean=self.mean)
        self.costs[task.name] = {**index.settings(), **_speed(searched, len(queries)),
                                 **self._recall(queries, documents, ranked[0], ties)}
        return ranked

    def _recall(self, queries, documents, idx: np.ndarray, ties: np.ndarray) -> dict[str, Any]:
        """recall@10 of the index's lists against exact MaxSim, on a seeded sample of queries."""
        k = min(RECALL_AT, idx.shape[1])
        rows = sample_queries(len(queries), self.sample, self.seed)
        exact, _ = maxsim.top_k(queries.take(rows), documents, k, tie_rank=ties, mean=self.mean)
        return {f"recall@{k}_vs_exact": round(float(recall_vs_exact(idx[rows], exact, k).mean()), 6),
                "queries_sampled": len(rows)}


def _speed(since: float, queries: int) -> dict[str, float]:
    return {"ms_per_query": round(1000 * (time.perf_counter() - since) / max(queries, 1), 4)}
