"""What a store keeps of one output per text, in memory and in the cache: a shelf checks a model's batch (naming
the model), splits it into per-text values, round-trips them through the cache and assembles the block a scorer
reads. `DenseShelf` (unit vectors, as `embed.EmbeddingStore`), `SparseShelf` (CSR rows over a fixed vocabulary),
`TokenShelf` (token vectors as one `Ragged` block)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from embedlab.embedding.cache import EmbeddingCache
from embedlab.embedding.store import checked_vectors
from embedlab.errors import ModelError, require
from embedlab.models.base import Kind
from embedlab.search.ragged import Ragged


def _preview(text: str) -> str:
    return repr(text[:60] + ("…" if len(text) > 60 else ""))


class Shelf:
    """One output of one model: `key(kind)` is its cache key (everything that changes the output)."""

    output = "output"

    def __init__(self, model_name: str, key: Callable[[Kind], str]) -> None:
        self.model_name, self.key = model_name, key
        self._index: dict[tuple[Kind, str], int] = {}

    def has(self, kind: Kind, text: str) -> bool:
        return (kind, text) in self._index

    def texts(self, kind: Kind) -> list[str]:
        """The texts of this kind the shelf holds, in the order they came."""
        return [t for (k, t) in self._index if k == kind]

    def rows(self, kind: Kind, texts: Sequence[str]) -> np.ndarray:
        return np.fromiter((self._index[(kind, t)] for t in texts), dtype=np.int64, count=len(texts))

    def add(self, kind: Kind, texts: list[str], values: list[Any]) -> None:
        """Per-text values (as `split` or `cached` give them) kept in memory, in this order."""
        base = len(self._index)
        self._append(values)
        for position, text in enumerate(texts, start=base):
            self._index[(kind, text)] = position

    def checked(self, raw: Any, batch: list[str]) -> Any:
        raise NotImplementedError

    def split(self, block: Any) -> list[Any]:
        raise NotImplementedError

    def cached(self, cache: EmbeddingCache, kind: Kind, texts: list[str]) -> dict[str, Any]:
        raise NotImplementedError

    def put(self, cache: EmbeddingCache, kind: Kind, texts: list[str], block: Any) -> None:
        raise NotImplementedError

    def get(self, kind: Kind, texts: Sequence[str]) -> Any:
        raise NotImplementedError

    def _append(self, values: list[Any]) -> None:
        raise NotImplementedError


class DenseShelf(Shelf):
    """Unit-normalised float32 vectors (cosine = dot product), checked as `embed.checked_vectors` does."""

    output = "dense"

    def __init__(self, model_name: str, key: Callable[[Kind], str]) -> None:
        super().__init__(model_name, key)
        self.dimension: int | None = None
        self._matrix = np.empty((0, 0), dtype=np.float32)

    def checked(self, raw: Any, batch: list[str]) -> np.ndarray:
        vectors = checked_vectors(self.model_name, raw, batch, self.dimension)
        self.dimension = vectors.shape[1]
        return vectors

    def split(self, block: np.ndarray) -> list[np.ndarray]:
        return list(block)

    def cached(self, cache: EmbeddingCache, kind: Kind, texts: list[str]) -> dict[str, np.ndarray]:
        found = cache.get_many(self.key(kind), texts)
        return dict(zip(found, self.split(self.checked(np.stack(list(found.values())), list(found))))) if found else {}

    def put(self, cache: EmbeddingCache, kind: Kind, texts: list[str], block: np.ndarray) -> None:
        cache.put_many(self.key(kind), texts, block)

    def _append(self, values: list[np.ndarray]) -> None:
        block = np.stack(values).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        self._matrix = block if self._matrix.size == 0 else np.concatenate([self._matrix, block])

    def get(self, kind: Kind, texts: Sequence[str]) -> np.ndarray:
        return self._matrix[self.rows(kind, texts)]


class SparseShelf(Shelf):
    """float32 CSR rows over one vocabulary (explicit zeros dropped: they change no dot product)."""

    output = "sparse"

    def __init__(self, model_name: str, key: Callable[[Kind], str], vocab_size: int | None = None) -> None:
        super().__init__(model_name, key)
        self.vocab_size = vocab_size
        self.empty_rows = 0
        self._matrix = None

    def checked(self, raw: Any, batch: list[str]) -> Any:
        sparse = require("scipy.sparse", "learned sparse models")
        if not sparse.issparse(raw) or raw.ndim != 2 or raw.shape[0] != len(batch):
            raise ModelError(f"model '{self.model_name}' returned {type(raw).__name__} "
                             f"{getattr(raw, 'shape', '')} for {len(batch)} texts; expected a scipy sparse matrix "
                             "(texts, vocabulary)")
        if self.vocab_size is not None and raw.shape[1] != self.vocab_size:
            raise ModelError(f"model '{self.model_name}' returned rows over {raw.shape[1]:,} terms, expected "
                             f"{self.vocab_size:,} (one vocabulary for every text)")
        rows = sparse.csr_matrix(raw, dtype=np.float32)
        rows.sum_duplicates()
        bad = ~np.isfinite(rows.data)
        if bad.any():
            text = batch[int(np.searchsorted(rows.indptr, np.argmax(bad), side="right") - 1)]
            raise ModelError(f"model '{self.model_name}' returned NaN/inf term weights, e.g. for {_preview(text)}")
        rows.eliminate_zeros()
        self.vocab_size = rows.shape[1]
        return rows

    def split(self, block: Any) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(block.indices[a:b], block.data[a:b]) for a, b in zip(block.indptr[:-1], block.indptr[1:])]

    def cached(self, cache: EmbeddingCache, kind: Kind, texts: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        found = {}
        for text, (vocab, terms, weights) in cache.get_sparse(self.key(kind), texts).items():
            if (self.vocab_size is not None and vocab != self.vocab_size) or (len(terms) and terms.max() >= vocab):
                cache.damaged += 1  # another vocabulary under the same key cannot be: encoded again
                continue
            self.vocab_size = vocab
            found[text] = (terms, weights)
        return found

    def put(self, cache: EmbeddingCache, kind: Kind, texts: list[str], block: Any) -> None:
        cache.put_sparse(self.key(kind), texts, block)

    def _append(self, values: list[tuple[np.ndarray, np.ndarray]]) -> None:
        sparse = require("scipy.sparse", "learned sparse models")
        lengths = np.fromiter((len(t) for t, _ in values), dtype=np.int64, count=len(values))
        self.empty_rows += int((lengths == 0).sum())
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        terms = np.concatenate([t for t, _ in values]).astype(np.int32) if values else np.empty(0, np.int32)
        weights = np.concatenate([w for _, w in values]).astype(np.float32) if values else np.empty(0, np.float32)
        block = sparse.csr_matrix((weights, terms, indptr), shape=(len(values), self.vocab_size))
        block.sort_indices()
        self._matrix = block if self._matrix is None else sparse.vstack([self._matrix, block], format="csr")

    def get(self, kind: Kind, texts: Sequence[str]) -> Any:
        return self._matrix[self.rows(kind, texts)]


class TokenShelf(Shelf):
    """float32 token vectors, one (tokens, dim) block per text, kept as one `Ragged` block."""

    output = "tokens"

    def __init__(self, model_name: str, key: Callable[[Kind], str], dimension: int | None = None) -> None:
        super().__init__(model_name, key)
        self.dimension = dimension
        self._blocks: list[np.ndarray] = []
        self._ragged: Ragged | None = None

    def checked(self, raw: Any, batch: list[str]) -> list[np.ndarray]:
        if not isinstance(raw, (list, tuple)) or len(raw) != len(batch):
            raise ModelError(f"model '{self.model_name}' returned {type(raw).__name__} for {len(batch)} texts; "
                             "expected one (tokens, dim) array per text")
        out = []
        for text, block in zip(batch, raw):
            block = np.asarray(block, dtype=np.float32)
            problem = ("not a (tokens, dim) array" if block.ndim != 2 else
                       f"{block.shape[1]}-d token vectors, expected {self.dimension}-d"
                       if self.dimension is not None and block.shape[1] != self.dimension else
                       "no token vector" if block.shape[0] == 0 else
                       "NaN/inf" if not np.isfinite(block).all() else None)
            if problem:
                raise ModelError(f"model '{self.model_name}' returned {problem} for {_preview(text)}")
            self.dimension = block.shape[1]
            out.append(block)
        return out

    def split(self, block: list[np.ndarray]) -> list[np.ndarray]:
        return list(block)

    def cached(self, cache: EmbeddingCache, kind: Kind, texts: list[str]) -> dict[str, np.ndarray]:
        found = cache.get_tokens(self.key(kind), texts)
        return dict(zip(found, self.checked(list(found.values()), list(found)))) if found else {}

    def put(self, cache: EmbeddingCache, kind: Kind, texts: list[str], block: list[np.ndarray]) -> None:
        cache.put_tokens(self.key(kind), texts, block)

    def _append(self, values: list[np.ndarray]) -> None:
        self._blocks.extend(values)
        self._ragged = None

    def get(self, kind: Kind, texts: Sequence[str]) -> Ragged:
        if self._ragged is None:
            self._ragged = Ragged.of(self._blocks, self.dimension)
        return self._ragged.take(self.rows(kind, texts))
