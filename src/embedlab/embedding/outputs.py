"""The one place texts become sparse rows or token vectors (and, for bge-m3, all its outputs from one pass):
dedup by text, longest texts first in batches, cache reads and writes per output (each batch committed as it
arrives), checks naming the model, progress and seconds; the dense counterpart is `embed.EmbeddingStore`.

`OutputStore(model, shelves)` keeps one shelf per output of the model (`shelves.py`); a text missing from any
shelf is encoded once, and that one pass fills every shelf (`passes` counts them, so the bge-m3 claim "three
outputs, one forward pass" is checked, not assumed). `SparseStore`, `MultiVectorStore` and `M3Store` are the
stores of the three kinds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from embedlab.embedding.cache import EmbeddingCache
from embedlab.embedding.shelves import DenseShelf, Shelf, SparseShelf, TokenShelf
from embedlab.embedding.store import EmbedStats, Store
from embedlab.errors import ModelError
from embedlab.models.base import (
    Kind,
    Model,
    MultiOutputEncoder,
    MultiVectorEncoder,
    SparseEncoder,
    TextModel,
    expect_kind,
)
from embedlab.progress import progress
from embedlab.search.ragged import Ragged

log = logging.getLogger(__name__)


class OutputStore(Store):
    """Texts -> the model's outputs, each text encoded once per store (and never again when cached)."""

    def __init__(self, model: TextModel, shelves: dict[str, Shelf], *, batch_size: int = 32, progress: bool = True,
                 cache: EmbeddingCache | None = None,
                 split: Callable[[Any], dict[str, Any]] | None = None) -> None:
        self.model, self.shelves, self.cache, self.progress = model, shelves, cache, progress
        self.batch_size = model.preferred_batch or batch_size
        only = next(iter(shelves))
        self._split = split or (lambda raw: {only: raw})  # a model of one output gives it bare
        self.stats = EmbedStats()
        self.passes = 0  # forward passes: one per text encoded, whatever the number of outputs it fills

    def outputs(self, texts: Sequence[str], kind: Kind) -> dict[str, Any]:
        """Every shelf's block for `texts` (aligned with them)."""
        self.stats.requested += len(texts)
        missing = list(dict.fromkeys(t for t in texts if not all(s.has(kind, t) for s in self.shelves.values())))
        if missing:
            self._encode_missing(missing, kind)
        return {name: shelf.get(kind, texts) for name, shelf in self.shelves.items()}

    def _encode_missing(self, texts: list[str], kind: Kind) -> None:
        # longest first: padding is cut, and an out-of-memory failure shows up at once
        ordered = sorted(texts, key=len, reverse=True)
        found = self._cached(ordered, kind)
        todo = [t for t in ordered if any(t not in f for f in found.values())]
        started = time.perf_counter()
        label = "encoding queries" if kind == "query" else "encoding documents"
        with progress(self.progress, len(todo), label) as advance:
            for begin, end, raw in self.model.encode_batches(todo, kind, self.batch_size):
                batch = todo[begin:end]
                self._take(kind, batch, self._split(raw), found)
                self.passes += len(batch)
                advance(len(batch), self.model.status())
        self.stats.seconds += time.perf_counter() - started
        for name, shelf in self.shelves.items():
            new = [t for t in ordered if not shelf.has(kind, t)]
            shelf.add(kind, new, [found[name][t] for t in new])
        self.stats.encoded += len(todo)
        self.stats.cache_hits += len(ordered) - len(todo)
        self.stats.unique += len(ordered)

    def _cached(self, texts: list[str], kind: Kind) -> dict[str, dict[str, Any]]:
        """Per shelf: the values the cache holds for `texts` (none without a cache)."""
        if self.cache is None:
            return {name: {} for name in self.shelves}
        damaged = self.cache.damaged
        found = {name: shelf.cached(self.cache, kind, texts) for name, shelf in self.shelves.items()}
        if self.cache.damaged > damaged:
            log.warning("%d cached output(s) in %s failed their checksum and are encoded again",
                        self.cache.damaged - damaged, self.cache.path)
        return found

    def _take(self, kind: Kind, batch: list[str], raw: dict[str, Any], found: dict[str, dict[str, Any]]) -> None:
        """A batch's outputs, checked, committed to the cache as they arrive (a crash loses only the batch in
        flight) and kept until the batch loop ends."""
        if set(raw) != set(self.shelves):
            raise ModelError(f"model '{self.model.name}' returned {sorted(raw)}; expected {sorted(self.shelves)}")
        for name, shelf in self.shelves.items():
            block = shelf.checked(raw[name], batch)
            if self.cache is not None:
                shelf.put(self.cache, kind, batch, block)
            found[name].update(zip(batch, shelf.split(block)))

    def footprint(self, kind: Kind = "document") -> dict[str, Any]:
        """What storing this kind's texts costs, per shelf (sparse: nnz per text; tokens: tokens x dim)."""
        out: dict[str, Any] = {}
        for name, shelf in self.shelves.items():
            texts = shelf.texts(kind)
            if texts:
                out[name] = cost_of(shelf.get(kind, texts))
        return out

    def stats_dict(self) -> dict[str, Any]:
        return {**self.stats.as_dict(), "forward_passes": self.passes,
                "outputs_per_pass": len(self.shelves), "document_storage": self.footprint("document")}


def cost_of(block: Any) -> dict[str, float]:
    """Bytes per text of a block as it is stored: dense dim x 4; sparse nnz x 8 (int32 term + float32 weight);
    tokens tokens x dim x 4."""
    if isinstance(block, Ragged):
        tokens = float(block.lengths.mean()) if len(block) else 0.0
        return {"texts": len(block), "tokens_per_text": round(tokens, 2), "dim": block.dim,
                "bytes_per_text": round(tokens * block.dim * 4, 1)}
    if isinstance(block, np.ndarray):
        return {"texts": block.shape[0], "dim": block.shape[1], "bytes_per_text": float(block.shape[1] * 4)}
    nnz = block.nnz / max(block.shape[0], 1)  # a scipy sparse matrix
    return {"texts": block.shape[0], "nnz_per_text": round(nnz, 2), "bytes_per_text": round(nnz * 8, 1)}


class SparseStore(OutputStore):
    """A learned sparse model's rows: `embed(texts, kind) -> CSR (len(texts), vocab)` float32."""

    def __init__(self, model: Model, **options: Any) -> None:
        expect_kind(model, SparseEncoder, "a sparse store")
        super().__init__(model, {"sparse": SparseShelf(model.name, model.cache_key, model.vocab_size)}, **options)

    def embed(self, texts: Sequence[str], kind: Kind):
        return self.outputs(texts, kind)["sparse"]


class MultiVectorStore(OutputStore):
    """A multi-vector model's token vectors: `embed(texts, kind) -> Ragged` aligned with `texts`."""

    def __init__(self, model: Model, **options: Any) -> None:
        expect_kind(model, MultiVectorEncoder, "a multi-vector store")
        super().__init__(model, {"tokens": TokenShelf(model.name, model.cache_key, model.dimension)}, **options)

    def embed(self, texts: Sequence[str], kind: Kind):
        return self.outputs(texts, kind)["tokens"]


SHELVES = {"dense": DenseShelf, "sparse": SparseShelf, "colbert": TokenShelf}


class M3Store(OutputStore):
    """bge-m3's outputs (`model.outputs`: dense, sparse, colbert), all from one pass per text, each cached under
    the key of the model that gives it alone (`model.output_key`), so `m3:X#dense` and `m3:X#dense+sparse+colbert`
    share their dense vectors."""

    def __init__(self, model: Model, **options: Any) -> None:
        expect_kind(model, MultiOutputEncoder, "a store of several outputs")
        shelves = {name: SHELVES[name](model.name, _keyed(model, name)) for name in model.outputs}
        super().__init__(model, shelves, split=dict, **options)


def _keyed(model: MultiOutputEncoder, output: str) -> Callable[[Kind], str]:
    return lambda kind: model.output_key(output, kind)
