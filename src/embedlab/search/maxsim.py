"""Exact MaxSim (late interaction): a query's score for a document is the sum, over the query's token vectors,
of the best dot product with any of the document's token vectors (divided by the query's token count for a
mean MaxSim, as bge-m3 scores).

One matrix product per block: every token of a block of queries against every token of a block of documents,
then a segmented max over each document's tokens (`np.maximum.reduceat`) and a segmented sum over each query's
tokens (`np.add.reduceat`). Blocks are sized by a token budget, so memory stays bounded whatever the corpus;
`top_k` ranks a corpus through `exact.top_k_of_blocks` (ties by `tie_rank`, as the dense search).
"""

from __future__ import annotations

import numpy as np

from embedlab.search.exact import top_k_of_blocks
from embedlab.search.ragged import Ragged

CELLS = 1 << 23  # query tokens x document tokens scored at once (32 MB of float32)


def block_scores(queries: Ragged, docs: Ragged, mean: bool = False) -> np.ndarray:
    """(len(queries), len(docs)) float32 MaxSim of every query against every document."""
    queries, docs = queries.compact(), docs.compact()
    if not len(queries) or not len(docs):
        return np.zeros((len(queries), len(docs)), dtype=np.float32)
    tokens = queries.vectors @ docs.vectors.T  # (query tokens, document tokens)
    best = np.maximum.reduceat(tokens, docs.starts, axis=1)  # (query tokens, documents)
    scores = np.add.reduceat(best, queries.starts, axis=0)
    return scores / queries.lengths[:, None].astype(np.float32) if mean else scores


def pair_scores(queries: Ragged, docs: Ragged, groups: np.ndarray, mean: bool = False) -> np.ndarray:
    """MaxSim of pair i = (queries[groups[i]], docs[i]): each reranking row's candidates against its query
    (`groups`: the query of each document, non-decreasing)."""
    out = np.empty(len(docs), dtype=np.float32)
    bounds = np.flatnonzero(np.diff(groups)) + 1
    for start, stop in zip(np.concatenate([[0], bounds]), np.concatenate([bounds, [len(docs)]])):
        query = queries.take(np.array([groups[start]]))
        for d0, d1 in _doc_spans(docs.lengths[start:stop], int(query.lengths.sum())):
            out[start + d0:start + d1] = block_scores(query, docs.take(np.arange(start + d0, start + d1)), mean)[0]
    return out


def top_k(queries: Ragged, docs: Ragged, k: int, *, tie_rank: np.ndarray | None = None, mean: bool = False
          ) -> tuple[np.ndarray, np.ndarray]:
    """(indices, scores) of each query's k best documents by exact MaxSim, best first (as `exact.top_k`)."""
    docs = docs.compact()
    per_query = max(1, int(queries.lengths.max(initial=1)))
    per_doc = max(1, int(np.ceil(docs.lengths.mean()))) if len(docs) else 1
    query_chunk = max(1, min(256, CELLS // (per_query * per_doc * 64)))
    doc_chunk = max(64, CELLS // (per_query * query_chunk * per_doc))
    return top_k_of_blocks(lambda q0, q1, d0, d1: block_scores(queries.take(np.arange(q0, q1)),
                                                               docs.take(np.arange(d0, d1)), mean),
                           len(queries), len(docs), k, tie_rank=tie_rank, query_chunk=query_chunk, doc_chunk=doc_chunk)


def _doc_spans(lengths: np.ndarray, query_tokens: int) -> list[tuple[int, int]]:
    """Consecutive spans of documents whose tokens times `query_tokens` fit the cell budget (one at least)."""
    spans, start, cells = [], 0, 0
    for i, length in enumerate(lengths.tolist()):
        if i > start and cells + length * query_tokens > CELLS:
            spans.append((start, i))
            start, cells = i, 0
        cells += length * query_tokens
    spans.append((start, len(lengths)))
    return spans
