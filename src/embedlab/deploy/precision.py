"""Vectors as a deployment stores them: truncated (Matryoshka) and at a precision.

int8 and binary are sentence-transformers' `quantize_embeddings` (`sentence_transformers.util.quantization`),
written again here so that numpy alone runs them (the parity test compares both on the same vectors): int8
buckets each dimension's [min, max] into 256 steps, with the ranges calibrated on the documents, and queries
are quantized with the documents' ranges; binary keeps the sign bit. Each precision is searched through a
float32 matrix whose dot products are its scores: for int8 and binary they are small integers, exact in float32
(int8 up to 1,024 dimensions), so the exact search and its tie order serve every precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BYTES_PER_DIM = {"float32": 4.0, "float16": 2.0, "int8": 1.0, "binary": 1 / 8}


def truncate(vectors: np.ndarray, dim: int) -> np.ndarray:
    """The first `dim` coordinates, unit-normalised again (Matryoshka truncation); the full width as it is."""
    if dim >= vectors.shape[1]:
        return vectors
    cut = vectors[:, :dim].astype(np.float64)
    return (cut / np.linalg.norm(cut, axis=1, keepdims=True)).astype(np.float32)


def calibration_ranges(vectors: np.ndarray) -> np.ndarray:
    """(2, dim): each dimension's minimum and maximum, as `quantize_embeddings` calibrates them."""
    return np.vstack((vectors.min(axis=0), vectors.max(axis=0)))


def quantize_int8(vectors: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """`quantize_embeddings(vectors, "int8", ranges=ranges)`."""
    ranges = ranges.astype(np.float32, copy=False)
    starts = ranges[0, :]
    steps = (ranges[1, :] - starts) / 255
    steps = np.where(steps == 0, 1, steps)
    return (np.clip(np.floor((vectors - starts) / steps), 0, 255) - 128).astype(np.int8)


def dequantize_int8(codes: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """Back to the float coordinates (sentence-transformers' `_dequantize_embeddings`), for rescoring."""
    ranges = ranges.astype(np.float32, copy=False)
    steps = (ranges[1] - ranges[0]) / 255
    steps = np.where(steps == 0, 1, steps)
    return (codes.astype(np.float64) + 128) * steps + ranges[0]


def pack_binary(vectors: np.ndarray) -> np.ndarray:
    """`quantize_embeddings(vectors, "ubinary")`: the sign bits, 8 per byte."""
    return np.packbits(vectors > 0, axis=-1)


@dataclass
class Stored:
    """One side (queries or documents) of a precision: `search` (float32, its dot products are the precision's
    scores), `stored` (what an index holds: float32, float16, int8 or packed bits) and `rescore` (what float
    rescoring multiplies the float query with; None for the float precisions)."""

    search: np.ndarray
    stored: np.ndarray
    rescore: np.ndarray | None = None


def store(vectors: np.ndarray, precision: str, ranges: np.ndarray | None = None) -> Stored:
    """Vectors at `precision` (float32, float16, int8, binary); int8 needs the documents' `ranges`."""
    if precision == "float32":
        return Stored(vectors, vectors)
    if precision == "float16":
        half = vectors.astype(np.float16)
        return Stored(half.astype(np.float32), half)
    if precision == "int8":
        codes = quantize_int8(vectors, ranges)
        return Stored(codes.astype(np.float32), codes, dequantize_int8(codes, ranges))
    if precision == "binary":
        bits = vectors > 0
        # ±1 vectors: their dot product is dim - 2 * Hamming distance, so it ranks as the Hamming distance does
        return Stored(np.where(bits, 1.0, -1.0).astype(np.float32), pack_binary(vectors),
                      bits.astype(np.float64))
    raise ValueError(f"unknown precision {precision!r}")


def rescored(query: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Float query · each stored candidate (`rescore` rows), as sentence-transformers rescores: (Q, R) scores
    for a (Q, dim) query block and (Q, R, dim) candidates."""
    return np.einsum("ij,ikj->ik", query, candidates).astype(np.float64, copy=False)
