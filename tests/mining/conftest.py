"""Helpers of the mining tests: an encoder whose cosines are known by hand, stores, output rows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedlab.embedding.store import EmbeddingStore
from embedlab.mining.inputs import read_rows
from tests.conftest import write_jsonl


class TableEncoder:
    """Vectors given by hand: each text is a fixed 2-d direction, so every cosine is known."""

    name = "table"

    def __init__(self, angles: dict[str, float]) -> None:
        self.angles = angles

    def encode(self, texts, kind="document"):
        a = np.array([self.angles[t] for t in texts])
        return np.stack([np.cos(a), np.sin(a)], axis=1).astype(np.float32)


def store_of(encoder) -> EmbeddingStore:
    return EmbeddingStore(encoder, progress=False)


def rows_of(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# query at angle 0; cosine to a passage at angle t is cos(t)
ANGLES = {"q": 0.0, "pos": 0.50, "near": 0.48, "dup of pos": 0.50, "a": 0.7, "b": 0.9, "c": 1.1,
          "d": 1.3, "e": 1.5}
ROW = {"_id": "r1", "query": "q", "positive": ["pos"], "negative": ["e"], "note": "kept as is"}


@pytest.fixture
def table_rows(tmp_path):
    return read_rows(write_jsonl(tmp_path / "rows.jsonl", [ROW])).rows
