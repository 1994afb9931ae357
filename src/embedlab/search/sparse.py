"""Exact top-k by sparse dot product over an inverted index, never densified at corpus scale.

The corpus' CSR rows are cut into chunks of `doc_chunk` documents, and each chunk is kept transposed (term ->
postings: an inverted index of the chunk). A block of queries times a chunk is one scipy sparse-sparse product,
which walks only the postings of the queries' terms (bm25s-style), and gives a (queries x chunk) score block; the
blocks go through `exact.top_k_of_blocks`, so ranking, ties (by `tie_rank`: trec_eval's descending id) and memory
(O(query_chunk x doc_chunk)) are those of the dense exact search. A document that shares no term with a query
scores 0 and ranks by its tie rank among the other zeros, as trec_eval ranks the whole corpus.

Why not `splade-index` (the bm25s author's SPLADE index): it scores a query at a time with `np.add.at` over
each posting list and picks its top k with an unordered partition, so ties come out in arbitrary order, and it
encodes the texts itself; `bench/sparse.py` measures both on the same vectors (bench/RESULTS.md).
"""

from __future__ import annotations

import numpy as np

from embedlab.errors import require
from embedlab.search.exact import top_k_of_blocks

DOC_CHUNK = 16384
QUERY_CHUNK = 256


class SparseIndex:
    """The inverted index of CSR document rows (float32), one transposed chunk per `doc_chunk` documents."""

    def __init__(self, docs, doc_chunk: int = DOC_CHUNK) -> None:
        sparse = require("scipy.sparse", "learned sparse search")
        docs = sparse.csr_matrix(docs, dtype=np.float32)
        self.n_docs, self.vocab_size = docs.shape
        self.doc_chunk = doc_chunk
        self.chunks = [docs[d0:d0 + doc_chunk].T.tocsr() for d0 in range(0, self.n_docs, doc_chunk)]
        self.nnz = int(docs.nnz)

    @property
    def nbytes(self) -> int:
        """Bytes the index holds: postings (doc id int32 + weight float32) and term pointers per chunk."""
        return sum(c.data.nbytes + c.indices.nbytes + c.indptr.nbytes for c in self.chunks)

    def block_scores(self, queries, d0: int, d1: int) -> np.ndarray:
        """Dense float32 scores of `queries` (CSR rows) against documents d0:d1 (within one chunk)."""
        chunk = self.chunks[d0 // self.doc_chunk]
        offset = d0 - (d0 // self.doc_chunk) * self.doc_chunk
        product = (queries @ chunk).toarray()
        return product[:, offset:offset + (d1 - d0)]

    def search(self, queries, k: int, tie_rank: np.ndarray | None = None, query_chunk: int = QUERY_CHUNK
               ) -> tuple[np.ndarray, np.ndarray]:
        """(indices, scores) of each query's k best documents, best first (as `exact.top_k`)."""
        sparse = require("scipy.sparse", "learned sparse search")
        queries = sparse.csr_matrix(queries, dtype=np.float32)
        if queries.shape[1] != self.vocab_size:
            raise ValueError(f"queries over {queries.shape[1]} terms, documents over {self.vocab_size}")
        return top_k_of_blocks(lambda q0, q1, d0, d1: self.block_scores(queries[q0:q1], d0, d1), queries.shape[0],
                               self.n_docs, k, tie_rank=tie_rank, query_chunk=query_chunk, doc_chunk=self.doc_chunk)


def pair_scores(queries, docs) -> np.ndarray:
    """Dot product of row i of `queries` with row i of `docs` (CSR, same shape), float32: a reranking row's
    candidates against their query, never densified."""
    return np.asarray(queries.multiply(docs).sum(axis=1), dtype=np.float32).ravel()
