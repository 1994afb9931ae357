"""Persistent embedding cache: SQLite (WAL), keyed by (model key, sha256 of the text).

The model key names everything that changes a vector (backend, model, dimensions, the prefix or
input type of the kind) and never a secret. Each batch is committed as soon as it is embedded, so an
interrupted run loses at most the batch in flight, and a rerun pays only for what is missing.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

DEFAULT_PATH = Path.home() / ".cache" / "embedlab" / "embeddings.sqlite"
_SQL_VARS = 900  # below SQLite's limit on bound parameters


def text_hash(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    def __init__(self, path: str | Path = DEFAULT_PATH) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, text_hash BLOB NOT NULL, "
            "dim INTEGER NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, text_hash)) WITHOUT ROWID")
        self._db.commit()

    def get_many(self, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors of those texts that have one."""
        by_hash = {text_hash(t): t for t in texts}
        hashes = list(by_hash)
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), _SQL_VARS):
            chunk = hashes[start:start + _SQL_VARS]
            rows = self._db.execute(
                f"SELECT text_hash, vector FROM embeddings WHERE model = ? AND text_hash IN "
                f"({','.join('?' * len(chunk))})", [model, *chunk])
            for digest, blob in rows:
                found[by_hash[digest]] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model: str, texts: Iterable[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        self._db.executemany(
            "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)",
            [(model, text_hash(t), vectors.shape[1], v.tobytes()) for t, v in zip(texts, vectors)])
        self._db.commit()

    def stats(self) -> list[dict[str, object]]:
        rows = self._db.execute("SELECT model, COUNT(*), SUM(LENGTH(vector)) FROM embeddings GROUP BY model")
        return [{"model": m, "vectors": n, "bytes": b} for m, n, b in rows]

    def clear(self, model: str | None = None) -> int:
        cursor = self._db.execute("DELETE FROM embeddings" + (" WHERE model = ?" if model else ""),
                                  [model] if model else [])
        self._db.commit()
        return cursor.rowcount

    def close(self) -> None:
        self._db.close()


def open_cache(setting: str | Path | bool | None, paid: bool) -> EmbeddingCache | None:
    """The cache a run uses: a path, True (the default path), False (none), or None = on for paid models only."""
    if setting is None:
        setting = paid
    if setting is False:
        return None
    return EmbeddingCache(DEFAULT_PATH if setting is True else setting)
