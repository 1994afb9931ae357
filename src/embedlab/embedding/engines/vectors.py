"""A vector directory: unit vectors of documents in id-keyed shards, the cache of local models at scale.

`DIR` is a local folder or a URI of any filesystem pyarrow can write (`s3://bucket/prefix`, gs://, hdfs://,
abfs://): every file goes through its `location.Location` (remote shards are read from a local mirror copy).
Layout:
- `manifest.json`: what wrote the vectors (model, revision, instructions, max length, dimension, the
  model's cache key, the workers' device); a directory written by another model or settings is refused, and so
  are shards without a manifest (what wrote them is unknown).
- `<name>.f32.npy` + `<name>.ids.npy`: one shard, vectors (rows, dimension) float32 and their text ids
  (rows, 16) uint8, the first 16 bytes of sha256(text) (`text_id`). The ids file is written last, atomically
  (a rename locally, one PUT on an object store): a shard exists once its ids file does, so a killed writer
  leaves no half shard. A shard's name is a hash of its ids, so a batch written twice (a retried task) is the
  same shard.

Rows are joined by id, never by position (a distributed writer keeps no order). The id index lives in files
(`index.IdIndex`); reading memory-maps the shards and copies rows into the caller's array shard by shard, so
the driver's memory stays one shard deep whatever the corpus size.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.embedding.cache import text_hash
from embedlab.embedding.engines.index import ID_BYTES, ID_DTYPE, IdIndex
from embedlab.embedding.engines.location import Location, VectorDirError, open_location

FORMAT = "embedlab-vectors/1"
IN_MEMORY_ROWS = 65536  # a read of more rows than this goes into a memory map, not RAM
# manifest fields a reader compares, in the order a refusal names them
CHECKED = ("model", "revision", "query_instruction", "document_instruction", "max_length", "dimension", "device",
           "key")


def text_ids(texts: Iterable[str]) -> np.ndarray:
    """(n,) 'S16' ids of texts: the first 16 bytes of their sha256 (the cache's text hash)."""
    return np.fromiter((text_hash(t)[:ID_BYTES] for t in texts), dtype=ID_DTYPE)  # no list of bytes


def manifest_for(info: dict[str, Any], key: str, device: str) -> dict[str, Any]:
    """The manifest of vectors written by a model with `info` (Model.info()) and document cache `key`."""
    return {"format": FORMAT, "model": info.get("name"), "revision": info.get("revision"),
            "query_instruction": info.get("query_instruction"),
            "document_instruction": info.get("document_instruction"), "max_length": info.get("max_length"),
            "dimension": info.get("dimension"), "device": device, "key": key}


class VectorDir:
    """The shards of one directory, indexed by text id (`refresh` re-reads what writers committed); the index
    files, and copies of a remote directory's shards (to memory-map), go to `scratch` (None: a temporary folder
    of this object's own)."""

    def __init__(self, path: str | Path, manifest: dict[str, Any] | None = None, scratch: Path | None = None) -> None:
        self._own_scratch = tempfile.TemporaryDirectory(prefix="embedlab-index-") if scratch is None else None
        self.scratch = Path(self._own_scratch.name) if scratch is None else Path(scratch)
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.location = open_location(path, self.scratch / "mirror")
        self.index: IdIndex | None = None
        self.location.check()
        self.manifest = self._checked_manifest(manifest) if manifest is not None else self._read_manifest()
        self.refresh()

    def _read_manifest(self) -> dict[str, Any]:
        try:
            return json.loads(self.location.read_text("manifest.json"))
        except FileNotFoundError:
            raise VectorDirError(f"{self.location}: no manifest.json (not a vector directory written by "
                                 "embedlab --engine ray)") from None
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise VectorDirError(f"{self.location}/manifest.json: damaged ({type(exc).__name__}); move the directory "
                                 "away and run again") from None

    def _checked_manifest(self, wanted: dict[str, Any]) -> dict[str, Any]:
        """`wanted`, written when the directory has none; refused when it records other settings."""
        if self.location.exists("manifest.json"):
            found = self._read_manifest()
            for field in CHECKED:
                if found.get(field) != wanted.get(field):
                    raise VectorDirError(
                        f"--vectors {self.location} holds vectors of other settings ({field}: "
                        f"{_short(found.get(field))} there, {_short(wanted.get(field))} now): give another "
                        "directory, or the settings it was written with")
            return found
        shards = len(self.location.names(".ids.npy")) + len(self.location.names(".f32.npy"))
        if shards:
            raise VectorDirError(
                f"--vectors {self.location} holds {shards} vector shard file(s) but no manifest.json, so the settings "
                "that wrote them are unknown: give an empty directory, or move those shards away")
        self.location.create()
        self.location.write("manifest.json", json.dumps(wanted, ensure_ascii=False, indent=1).encode())
        return wanted

    @property
    def dimension(self) -> int | None:
        return self.manifest.get("dimension")

    def refresh(self) -> None:
        """Index every committed shard: sorted ids, and the shard and row of each (in files, see `IdIndex`)."""
        self.shards = self.location.names(".ids.npy")
        previous, self.index = self.index, IdIndex(self._shard_ids, len(self.shards), self.scratch)
        if previous is not None:
            previous.remove()

    def _shard_ids(self, shard: int) -> np.ndarray:
        # through the local copy: a shard never changes (its name is its ids' hash), so a remote one is fetched once
        # for every refresh and both passes of the index build
        return np.load(self.location.local_path(f"{self.shards[shard]}.ids.npy")).view(ID_DTYPE).reshape(-1)

    def __len__(self) -> int:
        return self.index.distinct()

    def bytes_on_disk(self) -> int:
        return self.location.bytes_on_disk()

    def missing(self, ids: np.ndarray) -> np.ndarray:
        """Mask of the ids no shard holds."""
        return self.index.locate(ids) < 0

    def allocate(self, n: int) -> np.ndarray:
        """An (n, dimension) float32 array to read into: in memory up to IN_MEMORY_ROWS, else a memory map
        in the scratch folder (file-backed: the OS pages it out, the driver's heap does not grow)."""
        shape = (n, int(self.dimension))
        if n <= IN_MEMORY_ROWS:
            return np.empty(shape, np.float32)
        handle, path = tempfile.mkstemp(suffix=".npy", dir=self.scratch)
        os.close(handle)
        return np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)

    def read(self, ids: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Vectors of `ids` in their order, into `out` or a new array (`allocate`); every id must be present."""
        at = self.index.locate(ids)
        if (at < 0).any():
            raise VectorDirError(f"{self.location}: {int((at < 0).sum())} vector(s) missing (a shard was removed "
                                 "while reading?); run again to encode them")
        out = self.allocate(len(ids)) if out is None else out
        shard, row = self.index.shard[at], self.index.row[at]
        order = np.lexsort((row, shard))
        bounds = np.flatnonzero(np.diff(shard[order])) + 1
        for group in np.split(order, bounds) if len(order) else []:
            vectors = np.load(self.location.local_path(f"{self.shards[shard[group[0]]]}.f32.npy"), mmap_mode="r")
            out[group] = vectors[row[group]]
        return out

    def write_shard(self, ids: np.ndarray, vectors: np.ndarray) -> str:
        return write_shard(self.location, ids, vectors)


def write_shard(location: Location, ids: np.ndarray, vectors: np.ndarray) -> str:
    """Commit one shard in `location` (vectors, then ids, each atomically); its name is the hash of its ids."""
    name = "part-" + hashlib.sha256(np.ascontiguousarray(ids).tobytes()).hexdigest()[:20]
    raw_ids = np.frombuffer(np.ascontiguousarray(ids).tobytes(), dtype=np.uint8).reshape(-1, ID_BYTES)
    try:
        location.write_npy(f"{name}.f32.npy", np.ascontiguousarray(vectors, dtype=np.float32))
        location.write_npy(f"{name}.ids.npy", raw_ids)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise VectorDirError(f"no space left on the device of {location} while writing a shard: the shards "
                                 "already written are kept; free space and run the same command again to "
                                 "encode only the rest") from None
        raise VectorDirError(f"cannot write a shard in {location}: {location.redact(exc)}") from None
    return name


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
