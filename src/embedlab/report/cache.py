"""What `embedlab cache stats` prints: the cache file, then the vectors (dense, sparse rows, token blocks) it holds
per model key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_OUTPUT = {None: "vectors", "sparse": "sparse ", "tokens": "tokens "}  # dense vectors, sparse rows, token blocks


def cache_lines(path: Path, rows: list[dict[str, Any]]) -> list[str]:
    """The cache file, then vectors and megabytes (or pair scores, for rerankers) per model key (rows of
    `EmbeddingCache.stats()`)."""
    return [str(path)] + [f"{row['pair_scores']:>10,} pair scores            {row['model']}" if row.get("pair_scores")
                          else f"{row['vectors']:>10,} {_OUTPUT[row.get('output')]}  {row['bytes'] / 1e6:>9.1f} MB  "
                               f"{row['model']}" for row in rows]
