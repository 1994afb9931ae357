"""Every faiss and usearch top-k index: faiss' exhaustive flat index, its HNSW and IVF (`pip install
'embedlab[faiss]'`), usearch's HNSW (`pip install 'embedlab[usearch]'`), over float32, float16, int8 (usearch) or
packed binary vectors.

Two parameter sets build the same classes: `AnnParams`, the deployment sweep's knobs (`embedlab sweep --hnsw-m
--ef-search --nlist --nprobe`), and `RecordedParams`, the fixed settings of `eval --search` and `mine --search`,
recorded with each run so it is reproducible: IVF with nlist = 4 sqrt(n) lists (at most n / 39, faiss' minimum
of training points per list), trained on a seeded sample of 64 points per list, probing nlist / 8 of them; HNSW
with M = 32 links, efConstruction 80, efSearch max(128, 2k). `search_index(method, vectors)` opens the index of
a `--search` method.

Vectors are added in chunks, so a memory-mapped corpus is never copied whole a second time (the index holds its
own copy). Every index answers as `search.exact.top_k` does: (indices, scores), both (queries, k), best first,
index -1 and score -inf where it found fewer; scores are dot products (for binary: dim - 2 x Hamming distance,
the dot product of the ±1 vectors), so they sort like the exact search's. Builds are reproducible: the same vectors
give the same index (usearch inserts with one thread). `settings` is what the index was built and searched with;
`nbytes` its size as faiss serializes it (usearch: as it saves it): vectors plus graph or lists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from embedlab.errors import require
from embedlab.search.names import EXACT, index_name

ADD_CHUNK = 65536  # vectors copied into an index at once
# usearch inserts in parallel with threads > 1 (0: all cores), and the HNSW graph then depends on scheduling: one
# thread inserts in key order, the same graph every run (faiss' HNSW builds the same graph with its OpenMP threads)
USEARCH_ADD_THREADS = 1


@dataclass(frozen=True)
class AnnParams:
    """The sweep's parameters: the knobs as given, nlist sqrt(n) unless given."""

    hnsw_m: int = 32  # neighbours per node (faiss HNSW; usearch's connectivity is hnsw_m // 2)
    ef_search: int = 64  # candidates kept while searching (faiss efSearch, usearch expansion_search)
    nlist: int | None = None  # IVF lists; None: sqrt(documents), at least 39 training points per list
    nprobe: int = 8  # IVF lists searched per query
    ef_construction: int = 40  # candidates kept while building the HNSW graph (faiss' default)
    train_per_list: int | None = None  # IVF trained on a seeded sample of this many points per list; None: all
    seed: int = 0  # of the training sample

    def lists(self, n: int) -> int:
        return max(1, min(self.nlist or round(math.sqrt(n)), n // 39 or 1))

    def probes(self, lists: int) -> int:
        return min(self.nprobe, lists)

    def ef_search_for(self, k: int) -> int:
        return self.ef_search


@dataclass(frozen=True)
class RecordedParams(AnnParams):
    """`eval --search` / `mine --search`: settings that follow the corpus size and the depth, recorded per run."""

    ef_search: int = 128
    ef_construction: int = 80
    train_per_list: int | None = 64

    def lists(self, n: int) -> int:
        return max(1, min(int(4 * math.sqrt(n)), n // 39))

    def probes(self, lists: int) -> int:
        return max(1, lists // 8)

    def ef_search_for(self, k: int) -> int:
        return max(self.ef_search, 2 * k)


def _dot_of_hamming(distances: np.ndarray, dim: int) -> np.ndarray:
    return (dim - 2 * distances.astype(np.float32)).astype(np.float32)


class FaissIndex:
    """faiss' exhaustive (`kind="flat"`), HNSW (`"hnsw"`) or IVF (`"ivf"`) index over `stored` documents: float32
    rows (searched as stored), float16 (faiss' fp16 scalar quantizer) or packed bits of `dim` dimensions (binary
    indexes). `purpose` names what needs faiss in the install hint."""

    KINDS = ("flat", "hnsw", "ivf")

    def __init__(self, kind: str, stored: np.ndarray, precision: str = "float32", dim: int | None = None,
                 params: AnnParams | None = None, *, purpose: str | None = None) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown faiss index {kind!r} (known: {', '.join(self.KINDS)})")
        self.faiss = require("faiss", purpose or f"the {kind} index")
        self.kind, self.precision, self.dim = kind, precision, dim or stored.shape[1]
        self.params = params or AnnParams()
        self.binary = precision == "binary"
        self.settings: dict[str, int] = {}
        build = {"flat": self._flat, "hnsw": self._hnsw, "ivf": self._ivf}[kind]
        self.index = build(len(stored))
        if not self.index.is_trained:
            self.index.train(self._rows(stored[self._training_rows(len(stored))]))
        for c0 in range(0, len(stored), ADD_CHUNK):
            self.index.add(self._rows(stored[c0:c0 + ADD_CHUNK]))

    def _rows(self, vectors: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(vectors) if self.binary else np.ascontiguousarray(vectors, dtype=np.float32)

    def _training_rows(self, n: int) -> slice | np.ndarray:
        lists = self.settings.get("nlist")
        if self.params.train_per_list is None or lists is None:  # a quantizer without lists trains on everything
            return slice(None)
        size = min(n, lists * self.params.train_per_list)
        return np.sort(np.random.default_rng(self.params.seed).choice(n, size, replace=False))

    def _flat(self, n: int):
        faiss, dim = self.faiss, self.dim
        if self.binary:
            return faiss.IndexBinaryFlat(_bits(dim))
        if self.precision == "float16":
            return faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
        return faiss.IndexFlatIP(dim)

    def _hnsw(self, n: int):
        faiss, dim, params = self.faiss, self.dim, self.params
        if self.binary:
            index = faiss.IndexBinaryHNSW(_bits(dim), params.hnsw_m)
        elif self.precision == "float16":
            index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_fp16, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexHNSWFlat(dim, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params.ef_construction
        self.settings = {"M": params.hnsw_m, "efConstruction": params.ef_construction}
        return index

    def _ivf(self, n: int):
        faiss, dim, lists = self.faiss, self.dim, self.params.lists(n)
        if self.binary:
            index = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(_bits(dim)), _bits(dim), lists)
        elif self.precision == "float16":
            index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, lists, faiss.ScalarQuantizer.QT_fp16,
                                                  faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        self._quantizer = index.quantizer  # keep the coarse quantizer alive as long as the index
        index.nprobe = self.params.probes(lists)
        self.settings = {"nlist": lists, "nprobe": index.nprobe}
        return index

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "hnsw":
            self.index.hnsw.efSearch = self.settings["efSearch"] = self.params.ef_search_for(k)
        scores, indices = self.index.search(self._rows(queries), k)
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
        self.settings = {"connectivity": max(2, params.hnsw_m // 2), "expansion_search": params.ef_search,
                         "add_threads": USEARCH_ADD_THREADS}
        self.index = index_module.Index(ndim=_bits(dim) if self.binary else dim,
                                        metric="hamming" if self.binary else "ip",
                                        dtype=self.DTYPES[precision], connectivity=self.settings["connectivity"],
                                        expansion_search=params.ef_search)
        for c0 in range(0, len(stored), ADD_CHUNK):
            chunk = np.ascontiguousarray(stored[c0:c0 + ADD_CHUNK])
            self.index.add(np.arange(c0, c0 + len(chunk)), chunk, threads=USEARCH_ADD_THREADS)

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


def build_index(kind: str, stored: np.ndarray, precision: str, dim: int, params: AnnParams | None = None, *,
                purpose: str | None = None) -> FaissIndex | USearchIndex:
    """The index `kind` (`search.names.INDEXES` but exact: flat, hnsw, ivf, usearch) over the stored documents."""
    params = params or AnnParams()
    if kind == "usearch":
        return USearchIndex(stored, precision, dim, params)
    return FaissIndex(kind, stored, precision, dim, params, purpose=purpose)


def search_index(method: str, vectors: np.ndarray, *, seed: int = 0, purpose: str | None = None
                 ) -> FaissIndex | USearchIndex:
    """The index `--index METHOD` of eval and mine (flat, hnsw, ivf, usearch) ranks float32 `vectors` with,
    built with the `RecordedParams` (the IVF training sample drawn with `seed`)."""
    kind = index_name(method)
    if kind == EXACT:
        raise ValueError("the exact search is search.exact.top_k, not an index")
    return build_index(kind, vectors, "float32", vectors.shape[1], RecordedParams(seed=seed),
                       purpose=purpose or f"--index {kind}")
