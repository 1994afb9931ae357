"""How fast an encoder is on this machine: texts per second over a corpus (length-sorted batches, as
embed.py sends them), milliseconds per query at batch 1, and the model's bytes on disk. Each is measured
after a warm-up (an export compiles kernels per shape, a runtime allocates on its first call) and calls
`encode` directly: no cache, no dedup, so a second measurement costs the same as the first."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from embedlab.models.base import Encoder, Kind


@dataclass
class Speed:
    """One encoder's measured speed; `texts_per_second` over `texts` documents, the query latencies over
    `queries` single-query calls (median and 90th percentile)."""

    texts_per_second: float
    texts: int
    batch_size: int
    query_ms: float
    query_ms_p90: float
    queries: int
    model_bytes: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def encode_throughput(encoder: Encoder, texts: Sequence[str], *, batch_size: int = 32, kind: Kind = "document",
                      warmup: int = 1, clock=time.perf_counter) -> float:
    """Texts per second encoding `texts` in length-sorted batches of `batch_size`, after `warmup` batches
    (taken from the longest texts, so every later shape is no larger than one already seen)."""
    if not texts:
        raise ValueError("no texts to measure throughput on")
    ordered = sorted(texts, key=len, reverse=True)
    for start in range(0, min(warmup, -(-len(ordered) // batch_size)) * batch_size, batch_size):
        encoder.encode(list(ordered[start:start + batch_size]), kind)
    started = clock()
    for start in range(0, len(ordered), batch_size):
        encoder.encode(list(ordered[start:start + batch_size]), kind)
    return len(ordered) / max(clock() - started, 1e-9)


def query_latency(encoder: Encoder, queries: Sequence[str], *, warmup: int = 5, limit: int = 200,
                  clock=time.perf_counter) -> tuple[float, float]:
    """(median, 90th percentile) milliseconds to encode one query alone, over up to `limit` queries, after
    `warmup` single-query calls."""
    if not queries:
        raise ValueError("no queries to measure latency on")
    sample = list(queries[:limit])
    for i in range(warmup):
        encoder.encode([sample[i % len(sample)]], "query")
    times = []
    for query in sample:
        started = clock()
        encoder.encode([query], "query")
        times.append(1000 * (clock() - started))
    return float(np.median(times)), float(np.percentile(times, 90))


def model_bytes(encoder: Encoder) -> int | None:
    """Bytes on disk of what the encoder runs (an export, a static model, a model folder), as its
    provenance declares them; None when unknown (a hub id, an API)."""
    value = encoder.info().get("model_bytes")
    return int(value) if value is not None else None


def measure_speed(encoder: Encoder, corpus: Sequence[str], queries: Sequence[str], *, batch_size: int = 32,
                  query_limit: int = 200) -> Speed:
    """Throughput over `corpus`, latency over `queries`, and bytes: one sweep row's speed columns."""
    rate = encode_throughput(encoder, corpus, batch_size=batch_size)
    median, p90 = query_latency(encoder, queries, limit=query_limit)
    return Speed(rate, len(corpus), batch_size, median, p90, min(len(queries), query_limit), model_bytes(encoder))
