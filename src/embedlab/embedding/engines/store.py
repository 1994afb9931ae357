"""`ShardedStore`: an `EmbeddingStore` whose documents live in a vector directory, encoded on Ray.

The scorers and the miner use it as any store. Documents: the texts no shard holds are encoded on the
cluster in one Ray Data run (`ray_data.encode_on_ray`), then every vector asked for is read from the
shards by id (memory-mapped, shard by shard; a large read goes into a memory map, so the driver holds
one shard at a time). Everything the driver keeps per document (the id index, the ids it has handed out,
the positions still to encode) lives in memory-mapped files in the store's scratch folder, and the texts
are hashed WINDOW at a time: its heap beyond the corpus texts does not grow with the corpus.
A corpus of more than WINDOW distinct new texts is sorted by length window by window, so its batches (and
the last float bits of its vectors) may differ from the in-process engine's, which sorts all at once.
Queries are few: they are encoded in this process by the driver's own model, as the in-process engine does.
A rerun on the same directory encodes only what is missing (`stats`: `texts_encoded` vs `cache_hits`), the
same promise as the API cache.
"""

from __future__ import annotations

import copy
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from embedlab.embedding.cache import EmbeddingCache
from embedlab.embedding.engines.index import IdRuns, spill
from embedlab.embedding.engines.options import EngineOptions
from embedlab.embedding.engines.ray_data import EngineError, encode_on_ray
from embedlab.embedding.engines.vectors import VectorDir, manifest_for, text_ids
from embedlab.embedding.store import EmbeddingStore
from embedlab.errors import SetupError
from embedlab.models.base import Encoder, Kind
from embedlab.progress import progress

WINDOW = 262_144  # texts hashed, looked up and sorted at once: what the driver holds beyond the corpus itself


def worker_device(engine: EngineOptions) -> str:
    return "cuda" if engine.gpus_per_worker else "cpu"


class ShardedStore(EmbeddingStore):
    def __init__(self, encoder: Encoder, engine: EngineOptions, *, batch_size: int = 32, progress: bool = True,
                 cache: EmbeddingCache | None = None) -> None:
        super().__init__(encoder, batch_size=batch_size, progress=progress, cache=cache)
        self.loader = self.encoder.worker_loader(worker_device(engine))
        if self.loader is None:
            raise SetupError(f"--engine ray: '{self.encoder.name}' cannot be loaded on Ray workers (an API model, "
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
        self.seen = IdRuns(Path(self.scratch.name))  # the documents this store has handed out

    def provenance(self) -> dict:
        return {"engine": self.engine.describe()}  # documents were encoded on Ray: say so

    def fresh(self) -> ShardedStore:
        store = copy.copy(self)
        store._index, store._matrix = {}, np.empty((0, 0), dtype=np.float32)
        store.stats, store.seen = type(self.stats)(), self.seen.copy()
        return store

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        if kind == "query":
            vectors = super().embed(texts, kind)
            self.stats.unique = len(self._index) + len(self.seen)
            return vectors
        self.stats.requested += len(texts)
        self._ensure([texts])
        out = self.vectors.allocate(len(texts))
        for w0 in range(0, len(texts), WINDOW):  # the driver holds one window's ids and locations at a time
            self.vectors.read(text_ids(texts[w0:w0 + WINDOW]), out=out[w0:w0 + WINDOW])
        return out

    def prepare(self, parts: Iterable[Sequence[str]]) -> None:
        """Encode every document of `parts` no shard holds yet, in one Ray run (one worker pool for every task)."""
        self._ensure(parts)

    def _ensure(self, parts: Iterable[Sequence[str]]) -> None:
        """Encode, in one Ray run, the distinct texts of `parts` no shard holds, window by window: a window's ids
        are hashed, deduplicated and looked up, and only the positions to encode are kept (in a file)."""
        pending, plan = IdRuns(self.seen.folder), []
        for texts in parts:
            if isinstance(texts, str):
                raise TypeError("prepare() takes lists of texts (one per task), not the texts themselves")
            for w0 in range(0, len(texts), WINDOW):
                unique, first = np.unique(text_ids(texts[w0:w0 + WINDOW]), return_index=True)
                new = ~(self.seen.contains(unique) | pending.contains(unique))
                unique, first = unique[new], first[new]
                todo = self.vectors.missing(unique)
                self.stats.cache_hits += int((~todo).sum())
                pending.add(unique)
                if todo.any():  # in the caller's order, as the in-process engine sorts them: the same batches
                    plan.append((texts, spill(w0 + np.sort(first[todo]), self.seen.folder, "plan")))
        count = sum(len(at) for _, at in plan)
        if count:
            self._encode(plan, count)
        self.seen.runs += pending.runs
        self.stats.unique = len(self._index) + len(self.seen)

    def _encode(self, plan: list[tuple[Sequence[str], np.ndarray]], count: int) -> None:
        started = time.perf_counter()
        with progress(self.progress, count, f"embedding documents with {self.encoder.name} on ray") as advance:
            encode_on_ray(([texts[i] for i in at] for texts, at in plan), self.loader, self.vectors.location,
                          self.engine, total=count, batch_size=self.batch_size, dimension=self.dimension,
                          advance=advance)
        self.stats.seconds += time.perf_counter() - started
        self.stats.encoded += count
        self.vectors.refresh()
        lost = sum(int(self.vectors.missing(text_ids([texts[i] for i in at])).sum()) for texts, at in plan)
        if lost:
            raise EngineError(f"{lost:,} text(s) encoded on the cluster have no shard in {self.vectors.location}: "
                              "the workers wrote where this machine cannot read; give --vectors a folder on a "
                              "filesystem every node shares, or an s3:// (gs://, hdfs://) URI")
