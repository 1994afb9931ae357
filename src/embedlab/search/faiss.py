"""Top-k inner-product search with faiss' flat index (`pip install 'embedlab[faiss]'`).

`IndexFlatIP` is exhaustive, like `search.exact.top_k`, but holds a float32 copy of every vector in RAM
(the exact search scans a memory map block by block instead). Vectors are added in chunks, so a memory-mapped
corpus is never copied whole a second time.
"""

from __future__ import annotations

import numpy as np

from embedlab.errors import require

ADD_CHUNK = 65536  # vectors copied into the index at once


class FlatIndex:
    """An exhaustive inner-product index over `vectors` (rows: documents)."""

    def __init__(self, vectors: np.ndarray, *, purpose: str = "search with faiss") -> None:
        faiss = require("faiss", purpose)
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        for c0 in range(0, vectors.shape[0], ADD_CHUNK):
            self.index.add(np.ascontiguousarray(vectors[c0:c0 + ADD_CHUNK], dtype=np.float32))

    def top_k(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices and scores (both (Q, k)) of the k best documents per query, best first, as
        `search.exact.top_k` returns them (index -1 where the index holds fewer than k)."""
        scores, indices = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return indices, scores
