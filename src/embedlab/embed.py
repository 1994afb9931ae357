"""The one place texts become vectors: dedup, length-sorted batches, output checks, progress.

An `EmbeddingStore` belongs to one encoder and remembers every (kind, text) it has embedded, so the
same string is encoded once per run, across all tasks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embedlab.errors import ModelError
from embedlab.models.base import Encoder, Kind

log = logging.getLogger(__name__)


@dataclass
class EmbedStats:
    requested: int = 0
    unique: int = 0
    encoded: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {"texts_requested": self.requested, "unique_texts": self.unique,
                "texts_encoded": self.encoded, "encode_seconds": round(self.seconds, 4)}


class EmbeddingStore:
    def __init__(self, encoder: Encoder, *, batch_size: int = 32, progress: bool = True) -> None:
        self.encoder = encoder
        self.batch_size = batch_size
        self.progress = progress
        self.dimension: int | None = getattr(encoder, "dimension", None) or None
        self._index: dict[tuple[Kind, str], int] = {}
        self._blocks: list[np.ndarray] = []
        self._matrix = np.empty((0, 0), dtype=np.float32)
        self.stats = EmbedStats()

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
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        ordered = [texts[i] for i in order]
        start = time.perf_counter()
        vectors = []
        with _progress(self.progress, len(ordered), f"embedding {kind}s") as advance:
            for b in range(0, len(ordered), self.batch_size):
                batch = ordered[b:b + self.batch_size]
                vectors.append(self._checked(self.encoder.encode(batch, kind), batch))
                advance(len(batch))
        self.stats.seconds += time.perf_counter() - start
        block = np.concatenate(vectors)
        base = self._matrix.shape[0]
        self._matrix = block if base == 0 else np.concatenate([self._matrix, block])
        for position, text in zip(range(base, base + len(ordered)), ordered):
            self._index[(kind, text)] = position
        self.stats.encoded += len(ordered)
        self.stats.unique = len(self._index)

    def _checked(self, vectors: np.ndarray, batch: list[str]) -> np.ndarray:
        name = self.encoder.name
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(batch):
            raise ModelError(f"model '{name}' returned shape {vectors.shape} for {len(batch)} texts; "
                             "expected (texts, dimension)")
        if self.dimension is None:
            self.dimension = vectors.shape[1]
        if vectors.shape[1] != self.dimension:
            raise ModelError(f"model '{name}' returned {vectors.shape[1]}-d vectors, expected "
                             f"{self.dimension}-d")
        vectors = vectors.astype(np.float32, copy=False)
        bad = ~np.isfinite(vectors).all(axis=1)
        if bad.any():
            raise ModelError(f"model '{name}' returned NaN/inf for {int(bad.sum())} text(s), e.g. "
                             f"{_preview(batch[int(np.argmax(bad))])}")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        zero = norms[:, 0] == 0
        if zero.any():
            raise ModelError(f"model '{name}' returned a zero vector for {int(zero.sum())} text(s), "
                             f"e.g. {_preview(batch[int(np.argmax(zero))])}; cosine is undefined")
        return vectors / norms


def _preview(text: str) -> str:
    return repr(text[:60] + ("…" if len(text) > 60 else ""))


class _progress:
    """A rich progress bar on stderr (or nothing), with an `advance(n)` callable."""

    def __init__(self, enabled: bool, total: int, label: str) -> None:
        self.enabled, self.total, self.label = enabled, total, label
        self.bar = None

    def __enter__(self):
        if not self.enabled:
            return lambda n: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(stderr=True)
        if not console.is_terminal:  # a log file gets no bar redraws
            return lambda n: None
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=console, transient=True)
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
