"""Where embedlab keeps what it caches between runs: `~/.cache/embedlab` (the embedding cache, its indexes, the
exports of local models)."""

from __future__ import annotations

from pathlib import Path

CACHE_HOME = Path.home() / ".cache" / "embedlab"
