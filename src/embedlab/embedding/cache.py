"""Persistent embedding cache: SQLite (WAL), keyed by (model key, sha256 of the text); beside the vectors,
the scores of (query, passage) pairs of rerankers, keyed by (model key, sha256 of the pair), the rows of learned
sparse models (term ids int32 + weights float32: nnz x 8 bytes, never the vocabulary-wide row) and the token
vectors of multi-vector models (one (tokens, dim) float32 block per text), and what chat models wrote for a prompt
(`synth`: keyed by (model key with seed, sha256 of the prompt), a JSON record), each in its own table.

The model key names everything that changes a vector (backend, model, revision, max length, dimensions,
the prefix or input type of the kind) and never a secret. Each batch is committed as soon as it is
embedded, so an interrupted run loses at most the batch in flight, and a rerun pays only for what is
missing. Every vector carries a checksum: a damaged one is embedded again, never served.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from embedlab.errors import EmbedlabError
from embedlab.paths import CACHE_HOME

DEFAULT_PATH = CACHE_HOME / "embeddings.sqlite"
_SQL_VARS = 900  # below SQLite's limit on bound parameters
_COLUMNS = ["model", "text_hash", "dim", "vector", "checksum"]


class CacheError(EmbedlabError):
    """The cache file cannot be used; the message names it and what to do."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"the embedding cache at {path} {problem}: delete it (paid vectors in it are lost) or "
                         "give another with --cache PATH, or run with --no-cache")


def text_hash(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def pair_hash(query: str, passage: str) -> bytes:
    """The identity of a pair: the query's length first, so no two pairs share a hash input."""
    return hashlib.sha256(f"{len(query)}:{query}{passage}".encode("utf-8")).digest()


def _checksum(blob: bytes) -> bytes:
    return hashlib.sha256(blob).digest()[:8]


class EmbeddingCache:
    def __init__(self, path: str | Path = DEFAULT_PATH) -> None:
        self.path = Path(path)
        self.damaged = 0  # vectors found damaged (and so embedded again)
        if self.path.is_dir():
            raise CacheError(self.path, "is a folder, not a file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(self.path, f"cannot be created ({exc.strerror})") from None
        for target in (self.path.parent, self.path):
            if target.exists() and not os.access(target, os.W_OK):
                raise CacheError(self.path, "is read-only" if target == self.path else "is in a read-only folder")
        try:
            self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, text_hash BLOB NOT NULL, "
                "dim INTEGER NOT NULL, vector BLOB NOT NULL, checksum BLOB, PRIMARY KEY (model, text_hash)) "
                "WITHOUT ROWID")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS sparse_rows (model TEXT NOT NULL, text_hash BLOB NOT NULL, "
                "vocab INTEGER NOT NULL, terms BLOB NOT NULL, weights BLOB NOT NULL, checksum BLOB NOT NULL, "
                "PRIMARY KEY (model, text_hash)) WITHOUT ROWID")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS token_vectors (model TEXT NOT NULL, text_hash BLOB NOT NULL, "
                "tokens INTEGER NOT NULL, dim INTEGER NOT NULL, vectors BLOB NOT NULL, checksum BLOB NOT NULL, "
                "PRIMARY KEY (model, text_hash)) WITHOUT ROWID")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS generations (model TEXT NOT NULL, text_hash BLOB NOT NULL, "
                "record BLOB NOT NULL, checksum BLOB NOT NULL, PRIMARY KEY (model, text_hash)) WITHOUT ROWID")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS pair_scores (model TEXT NOT NULL, pair_hash BLOB NOT NULL, "
                "score REAL NOT NULL, PRIMARY KEY (model, pair_hash)) WITHOUT ROWID")
            columns = [row[1] for row in self._db.execute("PRAGMA table_info(embeddings)")]
            if columns == _COLUMNS[:4]:  # a cache of the first release: keep its vectors
                self._db.execute("ALTER TABLE embeddings ADD COLUMN checksum BLOB")
            elif columns != _COLUMNS:
                raise CacheError(self.path, f"has another layout (columns {', '.join(columns)})")
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            raise CacheError(self.path, f"is unreadable ({exc})") from None

    def get_many(self, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors of those texts that have one (a damaged vector counts as absent)."""
        found: dict[str, np.ndarray] = {}
        for text, (dim, blob, checksum) in self._select("embeddings", "dim, vector, checksum", model, texts):
            if len(blob) != 4 * dim or (checksum is not None and checksum != _checksum(blob)):
                self.damaged += 1
                continue
            found[text] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model: str, texts: Iterable[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        rows = []
        for text, vector in zip(texts, vectors):
            blob = vector.tobytes()
            rows.append((model, text_hash(text), vectors.shape[1], blob, _checksum(blob)))
        self._run("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?)", rows, many=True)
        self._commit()

    def get_sparse(self, model: str, texts: Sequence[str]) -> dict[str, tuple[int, np.ndarray, np.ndarray]]:
        """The cached sparse rows of those texts that have one: (vocabulary size, term ids int32, weights float32);
        a damaged row counts as absent."""
        found = {}
        for text, (vocab, terms, weights, checksum) in self._select("sparse_rows", "vocab, terms, weights, checksum",
                                                                   model, texts):
            if len(terms) != len(weights) or len(terms) % 4 or checksum != _checksum(terms + weights):
                self.damaged += 1
                continue
            found[text] = (vocab, np.frombuffer(terms, dtype=np.int32), np.frombuffer(weights, dtype=np.float32))
        return found

    def put_sparse(self, model: str, texts: Sequence[str], rows) -> None:
        """`rows`: a scipy CSR matrix, one row per text (its stored entries are kept as they are)."""
        rows_out = []
        for i, text in enumerate(texts):
            span = slice(rows.indptr[i], rows.indptr[i + 1])
            terms = rows.indices[span].astype(np.int32).tobytes()
            weights = rows.data[span].astype(np.float32).tobytes()
            rows_out.append((model, text_hash(text), rows.shape[1], terms, weights, _checksum(terms + weights)))
        self._run("INSERT OR REPLACE INTO sparse_rows VALUES (?, ?, ?, ?, ?, ?)", rows_out, many=True)
        self._commit()

    def get_tokens(self, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached token vectors ((tokens, dim) float32) of those texts that have them; damaged = absent."""
        found = {}
        for text, (tokens, dim, blob, checksum) in self._select("token_vectors", "tokens, dim, vectors, checksum",
                                                               model, texts):
            if len(blob) != 4 * tokens * dim or checksum != _checksum(blob):
                self.damaged += 1
                continue
            found[text] = np.frombuffer(blob, dtype=np.float32).reshape(tokens, dim)
        return found

    def put_tokens(self, model: str, texts: Sequence[str], vectors: Sequence[np.ndarray]) -> None:
        rows = []
        for text, block in zip(texts, vectors):
            blob = np.ascontiguousarray(block, dtype=np.float32).tobytes()
            rows.append((model, text_hash(text), block.shape[0], block.shape[1], blob, _checksum(blob)))
        self._run("INSERT OR REPLACE INTO token_vectors VALUES (?, ?, ?, ?, ?, ?)", rows, many=True)
        self._commit()

    def get_generations(self, model: str, prompts: Sequence[str]) -> dict[str, dict]:
        """The cached records (a chat model's answer and how it was asked) of those prompts that have one; a damaged
        record counts as absent (asked again)."""
        found = {}
        for prompt, (record, checksum) in self._select("generations", "record, checksum", model, prompts):
            try:
                if checksum != _checksum(record):
                    raise ValueError
                found[prompt] = json.loads(record.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                self.damaged += 1
        return found

    def put_generations(self, model: str, prompts: Sequence[str], records: Sequence[dict]) -> None:
        rows = []
        for prompt, record in zip(prompts, records):
            blob = json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")
            rows.append((model, text_hash(prompt), blob, _checksum(blob)))
        self._run("INSERT OR REPLACE INTO generations VALUES (?, ?, ?, ?)", rows, many=True)
        self._commit()

    def _select(self, table: str, columns: str, model: str, texts: Sequence[str]):
        """(text, the row's `columns`) of each text of `texts` that `table` holds for `model`."""
        by_hash = {text_hash(t): t for t in texts}
        hashes = list(by_hash)
        for start in range(0, len(hashes), _SQL_VARS):
            chunk = hashes[start:start + _SQL_VARS]
            rows = self._run(f"SELECT text_hash, {columns} FROM {table} WHERE model = ? AND text_hash IN "
                             f"({','.join('?' * len(chunk))})", [model, *chunk])
            for digest, *values in rows:
                yield by_hash[digest], values

    def get_scores(self, model: str, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], float]:
        """The cached scores of those (query, passage) pairs that have one."""
        by_hash = {pair_hash(q, d): (q, d) for q, d in pairs}
        hashes = list(by_hash)
        found: dict[tuple[str, str], float] = {}
        for start in range(0, len(hashes), _SQL_VARS):
            chunk = hashes[start:start + _SQL_VARS]
            rows = self._run(f"SELECT pair_hash, score FROM pair_scores WHERE model = ? AND pair_hash IN "
                             f"({','.join('?' * len(chunk))})", [model, *chunk])
            found.update((by_hash[digest], float(score)) for digest, score in rows)
        return found

    def put_scores(self, model: str, pairs: Iterable[tuple[str, str]], scores: np.ndarray) -> None:
        rows = [(model, pair_hash(q, d), float(s)) for (q, d), s in zip(pairs, np.asarray(scores, np.float64))]
        self._run("INSERT OR REPLACE INTO pair_scores VALUES (?, ?, ?)", rows, many=True)
        self._commit()

    def stats(self) -> list[dict[str, object]]:
        """Per model key: texts held and their bytes (`output` sparse: bytes = nnz x 8; tokens: tokens x dim x 4), or the
        pair scores of a reranker, or the answers a chat model wrote."""
        rows = self._run("SELECT model, COUNT(*), SUM(LENGTH(vector)) FROM embeddings GROUP BY model").fetchall()
        sparse = self._run("SELECT model, COUNT(*), SUM(LENGTH(terms) + LENGTH(weights)) FROM sparse_rows "
                           "GROUP BY model").fetchall()
        tokens = self._run("SELECT model, COUNT(*), SUM(LENGTH(vectors)) FROM token_vectors GROUP BY model").fetchall()
        pairs = self._run("SELECT model, COUNT(*) FROM pair_scores GROUP BY model").fetchall()
        written = self._run("SELECT model, COUNT(*), SUM(LENGTH(record)) FROM generations GROUP BY model").fetchall()
        return [{"model": m, "vectors": n, "bytes": b} for m, n, b in rows] + \
            [{"model": m, "vectors": n, "bytes": b, "output": output}
             for output, found in (("sparse", sparse), ("tokens", tokens)) for m, n, b in found] + \
            [{"model": m, "vectors": 0, "bytes": 0, "pair_scores": n} for m, n in pairs] + \
            [{"model": m, "vectors": 0, "bytes": b, "generations": n} for m, n, b in written]

    def clear(self, model: str | None = None) -> int:
        removed = 0
        for table in ("embeddings", "sparse_rows", "token_vectors", "pair_scores", "generations"):
            cursor = self._run(f"DELETE FROM {table}" + (" WHERE model = ?" if model else ""),
                               [model] if model else [])
            removed += cursor.rowcount
        self._commit()
        return removed

    def close(self) -> None:
        self._db.close()

    def _run(self, sql: str, parameters=(), *, many: bool = False):
        try:
            return self._db.executemany(sql, parameters) if many else self._db.execute(sql, parameters or [])
        except sqlite3.DatabaseError as exc:
            raise CacheError(self.path, f"is unreadable or read-only ({exc})") from None

    def _commit(self) -> None:
        try:
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            raise CacheError(self.path, f"cannot be written ({exc})") from None


def index_folder(setting: str | Path | bool | None, paid: bool) -> Path | None:
    """Where a run keeps the indexes models build (BM25): `indexes/` beside the embedding cache file, when
    the run has a cache (the same rule as `open_cache`)."""
    if setting is None:
        setting = paid
    if setting is False:
        return None
    return (DEFAULT_PATH if setting is True else Path(setting)).parent / "indexes"


def open_cache(setting: str | Path | bool | None, paid: bool) -> EmbeddingCache | None:
    """The cache a run uses: a path, True (the default path), False (none), or None = on for paid models only."""
    if setting is None:
        setting = paid
    if setting is False:
        return None
    return EmbeddingCache(DEFAULT_PATH if setting is True else setting)
