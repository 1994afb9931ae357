"""Multi-vector retrieval over a large corpus: an approximate index of every document token, then exact MaxSim.

ColBERT's end-to-end retrieval (ColBERTv1; pylate's Voyager index does the same with HNSW): each query token asks
a faiss index over all document tokens (`search.ann.search_index`: IVF or HNSW, the settings `--index` records)
for its `probe_tokens` nearest tokens; the documents they belong to are the query's candidates, and the
candidates are ranked by exact MaxSim (`search.maxsim`), ties as the exact search. Its only approximation is a
document none of whose tokens came near any query token. PLAID (pylate's default, `fast-plaid`) prunes with
centroid scores first; it could not be used here (bench/RESULTS.md: fast-plaid is built for another torch and
crashes on ours, pylate 1.6 pins sentence-transformers 5.3). `recall_vs_exact` gives the cost, as for `--search`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from embedlab.search.ann import search_index
from embedlab.search.exact import scores_of, sort_keys
from embedlab.search.maxsim import block_scores
from embedlab.search.ragged import Ragged

PROBE_TOKENS = 64  # nearest document tokens fetched per query token


class TokenIndex:
    """An index over the documents' tokens (`method`: an `--index` name, `search.names`: ivf, hnsw, usearch, flat =
    faiss' exhaustive index)."""

    def __init__(self, docs: Ragged, method: str = "ivf", *, seed: int = 0, probe_tokens: int = PROBE_TOKENS
                 ) -> None:
        started = time.perf_counter()
        self.docs = docs.compact()
        self.method, self.probe_tokens = method, probe_tokens
        self.owner = np.repeat(np.arange(len(self.docs)), self.docs.lengths)  # token -> its document
        self.index = search_index(method, self.docs.vectors, seed=seed, purpose="the multi-vector token index")
        self.build_seconds = time.perf_counter() - started

    @property
    def nbytes(self) -> int:
        return self.index.nbytes

    def settings(self) -> dict[str, Any]:
        return {"method": self.method, **self.index.settings, "probe_tokens": self.probe_tokens,
                "document_tokens": len(self.owner), "index_bytes": self.nbytes,
                "build_seconds": round(self.build_seconds, 4)}

    def search(self, queries: Ragged, k: int, *, tie_rank: np.ndarray | None = None, mean: bool = False
               ) -> tuple[np.ndarray, np.ndarray]:
        """(indices, scores) of each query's k best candidates by exact MaxSim, best first; -1 / -inf pad."""
        queries = queries.compact()
        n_docs = len(self.docs)
        tie_rank = np.arange(n_docs)[::-1] if tie_rank is None else np.asarray(tie_rank, dtype=np.int64)
        k = min(k, n_docs)
        near, _ = self.index.search(queries.vectors, min(self.probe_tokens, len(self.owner)))
        out_idx = np.full((len(queries), k), -1, dtype=np.int64)
        out_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        for i in range(len(queries)):
            rows = near[queries.starts[i]:queries.starts[i] + queries.lengths[i]].ravel()
            candidates = np.unique(self.owner[rows[rows >= 0]])
            scores = block_scores(queries.take(np.array([i])), self.docs.take(candidates), mean)[0]
            keys = sort_keys(scores, tie_rank[candidates])
            best = np.argsort(-keys, kind="stable")[:k]
            out_idx[i, :len(best)] = candidates[best]
            out_scores[i, :len(best)] = scores_of(keys[best])
        return out_idx, out_scores
