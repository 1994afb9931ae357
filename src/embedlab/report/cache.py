"""What `embedlab cache stats` prints: the cache file, then the vectors (dense, sparse rows, token blocks) and the
chat answers it holds per model key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_OUTPUT = {None: "vectors", "sparse": "sparse ", "tokens": "tokens "}  # dense vectors, sparse rows, token blocks


def cache_lines(path: Path, rows: list[dict[str, Any]]) -> list[str]:
    """The cache file, then per model key: vectors and megabytes, the pair scores of a reranker, or the answers a
    chat model wrote (rows of `EmbeddingCache.stats()`)."""
    return [str(path)] + [_line(row) for row in rows]


def _line(row: dict[str, Any]) -> str:
    if row.get("pair_scores"):
        return f"{row['pair_scores']:>10,} pair scores            {row['model']}"
    if row.get("generations"):
        return f"{row['generations']:>10,} answers      {row['bytes'] / 1e6:>9.1f} MB  {row['model']}"
    return f"{row['vectors']:>10,} {_OUTPUT[row.get('output')]}  {row['bytes'] / 1e6:>9.1f} MB  {row['model']}"
