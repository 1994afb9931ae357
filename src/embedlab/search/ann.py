"""Approximate top-k indexes: faiss HNSW and IVF (`pip install 'embedlab[faiss]'`), usearch's HNSW
(`pip install 'embedlab[usearch]'`), over float32, float16, int8 (usearch) or packed binary vectors.

Every index answers as `search.exact.top_k` does: (indices, scores), both (queries, k), best first, index -1
where it found fewer; scores are dot products (for binary: dim - 2 x Hamming distance, the dot product of the
±1 vectors), so they sort like the exact search's. `nbytes` is the size of the index as faiss serializes it
(usearch: as it saves it): vectors plus graph or lists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from embedlab.errors import require


@dataclass(frozen=True)
class AnnParams:
    hnsw_m: int = 32  # neighbours per node (faiss HNSW; usearch's connectivity is hnsw_m // 2)
    ef_search: int = 64  # candidates kept while searching (faiss efSearch, usearch expansion_search)
    nlist: int | None = None  # IVF lists; None: sqrt(documents), at least 39 training points per list
    nprobe: int = 8  # IVF lists searched per query

    def lists(self, n: int) -> int:
        return max(1, min(self.nlist or round(math.sqrt(n)), n // 39 or 1))


def _dot_of_hamming(distances: np.ndarray, dim: int) -> np.ndarray:
    return (dim - 2 * distances.astype(np.float32)).astype(np.float32)


class FaissIndex:
    """faiss HNSW (`kind="hnsw"`) or IVF (`kind="ivf"`) over `stored` documents: float32 rows (searched as
    stored), float16 (faiss' fp16 scalar quantizer) or packed bits of `dim` dimensions (binary indexes)."""

    def __init__(self, kind: str, stored: np.ndarray, precision: str, dim: int, params: AnnParams) -> None:
        faiss = require("faiss", f"the {kind} index")
        self.faiss, self.precision, self.dim = faiss, precision, dim
        self.params = {"M": params.hnsw_m, "efSearch": params.ef_search} if kind == "hnsw" else \
            {"nlist": params.lists(len(stored)), "nprobe": min(params.nprobe, params.lists(len(stored)))}
        self.binary = precision == "binary"
        self.index = self._hnsw(params) if kind == "hnsw" else self._ivf(params, len(stored))
        data = np.ascontiguousarray(stored if self.binary else stored.astype(np.float32))
        if not self.index.is_trained:
            self.index.train(data)
        self.index.add(data)

    def _hnsw(self, params: AnnParams):
        faiss, dim = self.faiss, self.dim
        if self.binary:
            index = faiss.IndexBinaryHNSW(_bits(dim), params.hnsw_m)
        elif self.precision == "float16":
            index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_fp16, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexHNSWFlat(dim, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = params.ef_search
        return index

    def _ivf(self, params: AnnParams, n: int):
        faiss, dim, lists = self.faiss, self.dim, params.lists(n)
        if self.binary:
            index = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(_bits(dim)), _bits(dim), lists)
        elif self.precision == "float16":
            index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, lists, faiss.ScalarQuantizer.QT_fp16,
                                                  faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        self._quantizer = index.quantizer  # keep the coarse quantizer alive as long as the index
        index.nprobe = self.params["nprobe"]
        return index

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, indices = self.index.search(np.ascontiguousarray(queries), k)
        if self.binary:
            scores = _dot_of_hamming(scores, self.dim)
        scores = np.where(indices >= 0, scores, -np.inf).astype(np.float32)
        return indices.astype(np.int64), scores

    @property
    def nbytes(self) -> int:
        serialize = self.faiss.serialize_index_binary if self.binary else self.faiss.serialize_index
        return int(serialize(self.index).nbytes)


class USearchIndex:
    """usearch's HNSW over float32 / float16 / int8 codes (inner product) or packed bits (Hamming)."""

    DTYPES = {"float32": "f32", "float16": "f16", "int8": "i8", "binary": "b1"}

    def __init__(self, stored: np.ndarray, precision: str, dim: int, params: AnnParams) -> None:
        index_module = require("usearch.index", "the usearch index")
        self.precision, self.dim = precision, dim
        self.binary = precision == "binary"
        self.params = {"connectivity": max(2, params.hnsw_m // 2), "expansion_search": params.ef_search}
        self.index = index_module.Index(ndim=_bits(dim) if self.binary else dim,
                                        metric="hamming" if self.binary else "ip",
                                        dtype=self.DTYPES[precision], connectivity=self.params["connectivity"],
                                        expansion_search=params.ef_search)
        self.index.add(np.arange(len(stored)), np.ascontiguousarray(stored), threads=0)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        matches = self.index.search(np.ascontiguousarray(queries), k, threads=0)
        keys = np.atleast_2d(matches.keys).astype(np.int64)
        distances = np.atleast_2d(matches.distances)
        counts = np.reshape(getattr(matches, "counts", keys.shape[1]), (-1, 1))
        valid = np.arange(keys.shape[1]) < counts
        scores = _dot_of_hamming(distances, self.dim) if self.binary else (1.0 - distances).astype(np.float32)
        return np.where(valid, keys, -1), np.where(valid, scores, -np.inf).astype(np.float32)

    @property
    def nbytes(self) -> int:
        return int(self.index.serialized_length)


def _bits(dim: int) -> int:
    """Bits a packed vector of `dim` signs holds (packbits pads to whole bytes with zeros)."""
    return 8 * ((dim + 7) // 8)


def build_index(kind: str, stored: np.ndarray, precision: str, dim: int, params: AnnParams | None = None):
    """An approximate index of `kind` (hnsw, ivf, usearch) over the stored documents."""
    params = params or AnnParams()
    if kind == "usearch":
        return USearchIndex(stored, precision, dim, params)
    return FaissIndex(kind, stored, precision, dim, params)
