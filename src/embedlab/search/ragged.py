"""Token vectors of many texts in one block: `Ragged` (all tokens of every text stacked, a start and a length
per text), what multi-vector stores keep, the cache round-trips and the MaxSim kernels read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Ragged:
    """`vectors[starts[i]:starts[i] + lengths[i]]` are text i's tokens; `take` selects texts without copying."""

    vectors: np.ndarray  # (tokens, dim) float32
    starts: np.ndarray  # int64, one per text
    lengths: np.ndarray  # int64, one per text

    @classmethod
    def of(cls, blocks: Sequence[np.ndarray], dim: int | None = None) -> Ragged:
        """One block per text ((tokens_i, dim) each), copied into one contiguous array."""
        lengths = np.fromiter((len(b) for b in blocks), dtype=np.int64, count=len(blocks))
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(blocks) else lengths
        width = dim if dim is not None else (blocks[0].shape[1] if len(blocks) else 0)
        vectors = np.concatenate(blocks).astype(np.float32, copy=False) if len(blocks) else \
            np.empty((0, width), dtype=np.float32)
        return cls(vectors, starts, lengths)

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.vectors[self.starts[i]:self.starts[i] + self.lengths[i]]

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def take(self, rows: np.ndarray) -> Ragged:
        rows = np.asarray(rows, dtype=np.int64)
        return Ragged(self.vectors, self.starts[rows], self.lengths[rows])

    def compact(self) -> Ragged:
        """The same texts with their tokens contiguous and in order (what the kernels stream through)."""
        if len(self) and self.starts[0] == 0 and np.array_equal(self.starts[1:], np.cumsum(self.lengths)[:-1]) \
                and self.vectors.shape[0] == int(self.lengths.sum()):
            return self
        index = np.repeat(self.starts - np.concatenate([[0], np.cumsum(self.lengths)[:-1]]), self.lengths) + \
            np.arange(int(self.lengths.sum()))
        return Ragged(self.vectors[index], np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64),
                      self.lengths.copy())

    def blocks(self) -> list[np.ndarray]:
        return [self[i] for i in range(len(self))]

    @property
    def nbytes(self) -> int:
        """Bytes of the texts' token vectors (tokens x dim x 4), what storing them costs."""
        return int(self.lengths.sum()) * self.dim * self.vectors.itemsize
