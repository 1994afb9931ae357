"""`ShardedStore`: an `EmbeddingStore` whose documents live in a vector directory, encoded on Ray.

The scorers and the miner use it as any store. Documents: the texts no shard holds are encoded on the
cluster in one Ray Data run (`ray_data.encode_on_ray`), then every vector asked for is read from the
shards by id (memory-mapped, shard by shard; a large read goes into a memory map, so the driver holds
one shard at a time). Queries are few: they are encoded in this process by the driver's own model, as
the in-process engine does. A rerun on the same directory encodes only what is missing (`stats`:
`texts_encoded` vs `cache_hits`), the same promise as the API cache.
"""

from __future__ import annotations

import copy
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embedlab.embed import EmbeddingStore
from embedlab.engines.options import EngineOptions
from embedlab.engines.ray_data import EngineError, encode_on_ray
from embedlab.engines.vectors import VectorDir, manifest_for, text_ids
from embedlab.errors import ModelError
from embedlab.models.base import Encoder, Kind
from embedlab.models.cache import EmbeddingCache
from embedlab.progress import progress


def worker_device(engine: EngineOptions) -> str:
    return "cuda" if engine.gpus_per_worker else "cpu"


class ShardedStore(EmbeddingStore):
    def __init__(self, encoder: Encoder, engine: EngineOptions, *, batch_size: int = 32, progress: bool = True,
                 cache: EmbeddingCache | None = None) -> None:
        super().__init__(encoder, batch_size=batch_size, progress=progress, cache=cache)
        self.loader = self.encoder.worker_loader(worker_device(engine))
        if self.loader is None:
            raise ModelError(f"--engine ray: '{self.encoder.name}' cannot be loaded on Ray workers (an API model, "
                             "or a model in memory); API models are I/O bound and already send --concurrency "
                             "requests at once: leave --engine ray out")
        self.engine = engine
        self.scratch = tempfile.TemporaryDirectory(prefix="embedlab-vectors-")
        if self.dimension is None:  # the manifest records it: ask the driver's model once
            self.dimension = super().embed(["dimension"], "document").shape[1]
        path = engine.vectors if engine.vectors is not None else Path(self.scratch.name) / "shards"
        self.vectors = VectorDir(path, manifest_for({**self.encoder.info(), "dimension": self.dimension},
                                                    self.encoder.cache_key("document"), worker_device(engine)),
                                 scratch=Path(self.scratch.name))
        self.seen = np.empty(0, dtype=self.vectors.ids.dtype)

    def fresh(self) -> ShardedStore:
        store = copy.copy(self)
        store._index, store._matrix = {}, np.empty((0, 0), dtype=np.float32)
        store.stats = type(self.stats)()
        return store

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        if kind == "query":
            vectors = super().embed(texts, kind)
            self.stats.unique = len(self._index) + len(self.seen)
            return vectors
        self.stats.requested += len(texts)
        ids = text_ids(texts)
        self._ensure(texts, ids)
        return self.vectors.read(ids, scratch=Path(self.scratch.name))

    def prepare(self, texts: Sequence[str]) -> None:
        """Encode every document of `texts` no shard holds yet, in one Ray run (mining asks before its chunks)."""
        self._ensure(texts, text_ids(texts))

    def _ensure(self, texts: Sequence[str], ids: np.ndarray) -> None:
        unique, first = np.unique(ids, return_index=True)
        new = ~np.isin(unique, self.seen, assume_unique=True)
        unique, first = unique[new], first[new]
        if not len(unique):
            return
        todo = self.vectors.missing(unique)
        self.stats.cache_hits += int((~todo).sum())
        if todo.any():
            # in the caller's order, as the in-process engine sorts them: the same batches, the same floats
            missing = [texts[i] for i in np.sort(first[todo])]
            started = time.perf_counter()
            with progress(self.progress, len(missing), "embedding documents on ray") as advance:
                encode_on_ray(missing, self.loader, self.vectors.location, self.engine, batch_size=self.batch_size,
                              dimension=self.dimension, advance=advance)
            self.stats.seconds += time.perf_counter() - started
            self.stats.encoded += len(missing)
            self.vectors.refresh()
            lost = int(self.vectors.missing(unique[todo]).sum())
            if lost:
                raise EngineError(f"{lost:,} text(s) encoded on the cluster have no shard in {self.vectors.location}: "
                                  "the workers wrote where this machine cannot read; give --vectors a folder on a "
                                  "filesystem every node shares, or an s3:// (gs://, hdfs://) URI")
        self.seen = np.union1d(self.seen, unique)
        self.stats.unique = len(self._index) + len(self.seen)
