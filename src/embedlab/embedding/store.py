"""The one place texts become vectors: dedup, length-sorted batches, output checks, progress.

An `EmbeddingStore` belongs to one encoder and remembers every (kind, text) it has embedded, so the
same string is encoded once per run, across all tasks. Every store of model outputs (this one, `pairs.PairStore`,
`engines.store.ShardedStore`) is a `Store`: it closes its cache when closed, and is a context manager.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from embedlab.embedding.cache import EmbeddingCache
from embedlab.errors import ModelError
from embedlab.models.base import Encoder, Kind, as_model
from embedlab.progress import progress

log = logging.getLogger(__name__)


@dataclass
class EmbedStats:
    requested: int = 0
    unique: int = 0
    encoded: int = 0
    cache_hits: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {"texts_requested": self.requested, "unique_texts": self.unique,
                "texts_encoded": self.encoded, "cache_hits": self.cache_hits,
                "encode_seconds": round(self.seconds, 4)}

    def add(self, other: EmbedStats) -> None:
        """Count another store's work as this one's (`unique` then counts each store's texts apart)."""
        self.requested += other.requested
        self.unique += other.unique
        self.encoded += other.encoded
        self.cache_hits += other.cache_hits
        self.seconds += other.seconds


class Store:
    """What every store of a model's outputs declares: its cache (closed with the store), the documents a run is
    about to ask for (`prepare`), and what the run records of it (`provenance`)."""

    cache: EmbeddingCache | None = None

    def prepare(self, parts: Iterable[Sequence[str]]) -> None:
        """Documents about to be asked for (every task's, before the first): an engine that encodes in bulk
        (`engines.store.ShardedStore`) encodes them in one run; the others work as asked."""

    def provenance(self) -> dict:
        """What a run records of how the outputs were made, besides the model's info (the engine)."""
        return {}

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class EmbeddingStore(Store):
    def __init__(self, encoder: Encoder, *, batch_size: int = 32, progress: bool = True,
                 cache: EmbeddingCache | None = None) -> None:
        encoder = as_model(encoder)
        if not isinstance(encoder, Encoder):
            raise ModelError(f"'{encoder.name}' is not an embedding model (it has no vectors to store)")
        self.encoder = encoder
        self.cache = cache
        self.batch_size = encoder.preferred_batch or batch_size
        self.progress = progress
        self.dimension: int | None = encoder.dimension
        self._index: dict[tuple[Kind, str], int] = {}
        self._matrix = np.empty((0, 0), dtype=np.float32)
        self.stats = EmbedStats()

    def fresh(self) -> EmbeddingStore:
        """An empty store on the same model, cache and batching: for work whose vectors must not pile up
        in this one (mining in chunks); add its `stats` back when done."""
        store = EmbeddingStore(self.encoder, batch_size=self.batch_size, progress=self.progress, cache=self.cache)
        store.dimension = self.dimension
        return store

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        """Unit-normalised float32 vectors aligned with `texts` (cosine = dot product)."""
        self.stats.requested += len(texts)
        missing = list(dict.fromkeys(t for t in texts if (kind, t) not in self._index))
        if missing:
            self._encode_missing(missing, kind)
        rows = np.fromiter((self._index[(kind, t)] for t in texts), dtype=np.int64, count=len(texts))
        return self._matrix[rows]

    def _encode_missing(self, texts: list[str], kind: Kind) -> None:
        # longest first: padding is cut, and an out-of-memory failure shows up at once
        ordered = sorted(texts, key=len, reverse=True)
        key = self.encoder.cache_key(kind)
        damaged = self.cache.damaged if self.cache else 0
        found = self.cache.get_many(key, ordered) if self.cache else {}
        if self.cache and self.cache.damaged > damaged:
            log.warning("%d cached vector(s) in %s failed their checksum and are embedded again",
                        self.cache.damaged - damaged, self.cache.path)
        vectors = dict(zip(found, self._checked(np.stack(list(found.values())), list(found)))) if found else {}
        todo = [t for t in ordered if t not in found]
        start = time.perf_counter()
        label = f"embedding {'queries' if kind == 'query' else 'documents'} with {self.encoder.name}"
        with progress(self.progress, len(todo), label) as advance:
            for begin, end, raw in self.encoder.encode_batches(todo, kind, self.batch_size):
                batch = todo[begin:end]
                raw = self._checked(raw, batch)
                if self.cache:
                    self.cache.put_many(key, batch, raw)  # committed as it arrives: a crash loses only what is in flight
                vectors.update(zip(batch, raw))
                advance(len(batch), self.encoder.status())
        self.stats.seconds += time.perf_counter() - start
        block = np.stack([vectors[t] for t in ordered])
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        base = self._matrix.shape[0]
        self._matrix = block if base == 0 else np.concatenate([self._matrix, block])
        for position, text in zip(range(base, base + len(ordered)), ordered):
            self._index[(kind, text)] = position
        self.stats.encoded += len(todo)
        self.stats.cache_hits += len(found)
        self.stats.unique = len(self._index)

    def _checked(self, vectors: np.ndarray, batch: list[str]) -> np.ndarray:
        vectors = checked_vectors(self.encoder.name, vectors, batch, self.dimension)
        self.dimension = vectors.shape[1]
        return vectors


def checked_vectors(name: str, vectors: np.ndarray, batch: Sequence[str], dimension: int | None) -> np.ndarray:
    """float32 (texts, dimension) vectors of `batch`, or a ModelError naming the model and what is wrong
    (shape, another dimension than `dimension` when known, NaN/inf, a zero vector)."""
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(batch):
        raise ModelError(f"model '{name}' returned shape {vectors.shape} for {len(batch)} texts; "
                         "expected (texts, dimension)")
    if dimension is not None and vectors.shape[1] != dimension:
        raise ModelError(f"model '{name}' returned {vectors.shape[1]}-d vectors, expected {dimension}-d")
    vectors = vectors.astype(np.float32, copy=False)
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        raise ModelError(f"model '{name}' returned NaN/inf for {int(bad.sum())} text(s), e.g. "
                         f"{_preview(batch[int(np.argmax(bad))])}")
    zero = ~vectors.any(axis=1)
    if zero.any():
        raise ModelError(f"model '{name}' returned a zero vector for {int(zero.sum())} text(s), "
                         f"e.g. {_preview(batch[int(np.argmax(zero))])}; cosine is undefined")
    return vectors


def _preview(text: str) -> str:
    return repr(text[:60] + ("…" if len(text) > 60 else ""))
