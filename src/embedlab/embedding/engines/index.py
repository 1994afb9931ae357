"""The driver's id index of a vector directory, kept in files so its memory does not grow with the corpus.

`IdIndex`: every committed text id, sorted, with the shard and row that hold it, in three memory-mapped
`.npy` files (ids 16 bytes, shard and row 4 bytes each). The OS pages them in as lookups touch them
(file-backed, evictable), so the driver's own heap stays flat from 100k to 10M passages.

It is built without ever holding the corpus' ids at once: ids are sha256 prefixes, spread evenly over their
first byte, so pass 1 counts each of the 256 first-byte buckets, pass 2 scatters every shard's ids into its
buckets' slices of the files, and each slice (~1/256 of the corpus) is then sorted on its own. Equal ids keep
shard-then-row order, as one stable sort of everything would.

`IdRuns`: a set of ids, added to in disjoint sorted runs kept in files (one per chunk of a call), asked by
binary search in each run: what a store has already handed out, flat in memory too.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np

ID_BYTES = 16
ID_DTYPE = f"S{ID_BYTES}"
BUCKETS = 256


def first_byte(ids: np.ndarray) -> np.ndarray:
    """The first byte of each 16-byte id (its bucket)."""
    return np.ascontiguousarray(ids).view(np.uint8).reshape(-1, ID_BYTES)[:, 0]


class IdIndex:
    """Sorted ids of `shards` shards (`load(i)`: shard i's ids), with the shard and row of each, in `folder`."""

    _builds = itertools.count()

    def __init__(self, load: Callable[[int], np.ndarray], shards: int, folder: Path) -> None:
        counts = np.zeros(BUCKETS, dtype=np.int64)
        for shard in range(shards):
            counts += np.bincount(first_byte(load(shard)), minlength=BUCKETS)
        start = np.concatenate([[0], np.cumsum(counts)])
        build = next(self._builds)
        self.ids = _array(folder / f"ids-{build}.npy", ID_DTYPE, int(start[-1]))
        self.shard = _array(folder / f"shard-{build}.npy", np.int32, int(start[-1]))
        self.row = _array(folder / f"row-{build}.npy", np.int32, int(start[-1]))
        fill = start[:-1].copy()
        for shard in range(shards):  # pass 2: each id to the next free place of its bucket
            ids = load(shard)
            buckets = first_byte(ids)
            order = np.argsort(buckets, kind="stable")
            sizes = np.bincount(buckets, minlength=BUCKETS)
            within = np.arange(len(ids)) - (np.cumsum(sizes) - sizes)[buckets[order]]
            at = fill[buckets[order]] + within
            self.ids[at], self.shard[at], self.row[at] = ids[order], shard, order
            fill += sizes
        for bucket in range(BUCKETS):  # each bucket sorted on its own: the whole is sorted
            part = slice(int(start[bucket]), int(start[bucket + 1]))
            order = np.argsort(self.ids[part], kind="stable")
            self.ids[part], self.shard[part], self.row[part] = \
                self.ids[part][order], self.shard[part][order], self.row[part][order]
        for array in (self.ids, self.shard, self.row):
            if isinstance(array, np.memmap):
                array.flush()

    def remove(self) -> None:
        """Delete the index files (arrays still mapped stay readable until dropped)."""
        for array in (self.ids, self.shard, self.row):
            if isinstance(array, np.memmap) and array.filename:
                Path(array.filename).unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(self.ids)

    def locate(self, ids: np.ndarray) -> np.ndarray:
        """Position of each id in the index, -1 where no shard holds it."""
        at = np.searchsorted(self.ids, ids)
        found = at < len(self.ids)
        found[found] = self.ids[at[found]] == ids[found]
        return np.where(found, at, -1)

    def distinct(self, block: int = 1 << 20) -> int:
        """How many different ids (a text written twice, by two runs at once, counts once)."""
        n = len(self.ids)
        if not n:
            return 0
        changes = sum(int((self.ids[b0 + 1:b0 + block + 1] != self.ids[b0:min(b0 + block, n - 1)]).sum())
                      for b0 in range(0, n - 1, block))
        return 1 + changes


class IdRuns:
    """A growing set of ids in disjoint sorted runs, kept as files in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.runs = folder, []

    def copy(self) -> IdRuns:
        other = IdRuns(self.folder)
        other.runs = list(self.runs)
        return other

    def __len__(self) -> int:
        return sum(len(run) for run in self.runs)

    def contains(self, ids: np.ndarray) -> np.ndarray:
        found = np.zeros(len(ids), dtype=bool)
        for run in self.runs:
            at = np.minimum(np.searchsorted(run, ids), len(run) - 1)
            found |= run[at] == ids
        return found

    def add(self, ids: np.ndarray) -> None:
        """Add sorted, distinct ids that no run holds yet."""
        if len(ids):
            self.runs.append(spill(ids, self.folder, "seen"))


def spill(array: np.ndarray, folder: Path, stem: str) -> np.ndarray:
    """`array` written to a new file in `folder`, given back memory-mapped (read-only)."""
    path = folder / f"{stem}-{next(IdIndex._builds)}.npy"
    np.save(path, array)
    return np.load(path, mmap_mode="r")


def _array(path: Path, dtype, n: int) -> np.ndarray:
    if not n:  # a memory map of nothing cannot be made
        return np.empty(0, dtype=dtype)
    return np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(n,))
