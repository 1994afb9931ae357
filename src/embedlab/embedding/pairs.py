"""The one place (query, passage) pairs become scores: dedup, cache, output checks, progress, timing.

A `PairStore` belongs to one pair scorer (a cross-encoder, an API reranker) and remembers every pair it
has scored, so a pair is scored once per run: across the depths of a two-stage run, across first-stage
models, across tasks. Pairs go to the model grouped by query (an API reranker sends one query with many
passages per request) and longest first within a query; answers are checked and committed to the
cache as they arrive, so an interrupted run pays again only for the pairs in flight.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embedlab.embedding.cache import EmbeddingCache
from embedlab.embedding.store import Store
from embedlab.errors import ModelError
from embedlab.models.base import PairScorer
from embedlab.progress import progress

Pair = tuple[str, str]


@dataclass
class PairStats:
    requested: int = 0
    unique: int = 0
    scored: int = 0
    cache_hits: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {"pairs_requested": self.requested, "unique_pairs": self.unique, "pairs_scored": self.scored,
                "cache_hits": self.cache_hits, "model_seconds": round(self.seconds, 4)}


class PairStore(Store):
    def __init__(self, model: PairScorer, *, batch_size: int = 32, progress: bool = True,
                 cache: EmbeddingCache | None = None) -> None:
        if not isinstance(model, PairScorer):
            raise ModelError(f"'{model.name}' does not score (query, passage) pairs: a reranker is a "
                             "cross-encoder (ce:<model>) or a rerank API (rerank:<model>, qianfan-rerank:<model>)")
        self.model = model
        self.cache = cache
        self.batch_size = model.preferred_batch or batch_size
        self.progress = progress
        self._scores: dict[Pair, float] = {}
        self.stats = PairStats()

    def scores(self, pairs: Sequence[Pair]) -> np.ndarray:
        """float32 scores aligned with `pairs`; each distinct pair is scored once per store."""
        self.stats.requested += len(pairs)
        missing = list(dict.fromkeys(p for p in pairs if p not in self._scores))
        if missing:
            self._score_missing(missing)
        return np.fromiter((self._scores[p] for p in pairs), dtype=np.float32, count=len(pairs))

    def missing(self, pairs: Sequence[Pair]) -> list[Pair]:
        """The distinct pairs of `pairs` a call of `scores` would send to the model (not known, not cached)."""
        unknown = list(dict.fromkeys(p for p in pairs if p not in self._scores))
        cached = self.cache.get_scores(self.model.cache_key(), unknown) if self.cache and unknown else {}
        return [p for p in unknown if p not in cached]

    def _score_missing(self, pairs: list[Pair]) -> None:
        key = self.model.cache_key()
        found = self.cache.get_scores(key, pairs) if self.cache else {}
        bad = [p for p, s in found.items() if not np.isfinite(s)]
        for pair in bad:  # never served: scored again
            del found[pair]
        self._scores.update(found)
        first_seen = {q: i for i, (q, _) in reversed(list(enumerate(pairs)))}
        todo = sorted((p for p in pairs if p not in found), key=lambda p: (first_seen[p[0]], -len(p[1])))
        started = time.perf_counter()
        with progress(self.progress, len(todo), f"reranking pairs with {self.model.name}") as advance:
            for begin, end, raw in self.model.score_batches(todo, self.batch_size):
                batch = todo[begin:end]
                raw = self._checked(raw, batch)
                if self.cache:
                    self.cache.put_scores(key, batch, raw)  # committed as it arrives
                self._scores.update(zip(batch, raw.tolist()))
                advance(len(batch), self.model.status())
        self.stats.seconds += time.perf_counter() - started
        self.stats.scored += len(todo)
        self.stats.cache_hits += len(found)
        self.stats.unique = len(self._scores)

    def _checked(self, scores, batch: list[Pair]) -> np.ndarray:
        name = self.model.name
        scores = np.asarray(scores)
        if scores.shape != (len(batch),):
            raise ModelError(f"reranker '{name}' returned shape {scores.shape} for {len(batch)} pairs; "
                             "expected one score per pair")
        try:
            scores = scores.astype(np.float32)
        except (TypeError, ValueError):
            raise ModelError(f"reranker '{name}' returned scores that are not numbers") from None
        bad = ~np.isfinite(scores)
        if bad.any():
            query, passage = batch[int(np.argmax(bad))]
            raise ModelError(f"reranker '{name}' returned NaN/inf for {int(bad.sum())} pair(s), e.g. "
                             f"{_preview(query)} / {_preview(passage)}")
        return scores


def _preview(text: str) -> str:
    return repr(text[:40] + ("…" if len(text) > 40 else ""))
