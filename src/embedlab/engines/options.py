"""How a run encodes: in process (no EngineOptions) or on a Ray cluster (`--engine ray`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ENGINES = ("local", "ray")


@dataclass
class EngineOptions:
    """The Ray engine's settings. `vectors`: the vector directory (id-keyed shards; the cache of local models
    at this scale, resumed on the next run), a folder or a URI pyarrow can write (`s3://bucket/prefix`, see
    `location`); None: a temporary one, gone with the run."""

    workers: int | None = None  # actors encoding at once; None: every CPU (or GPU) of the cluster
    gpus_per_worker: float = 0.0
    address: str | None = None  # None: a local cluster; "auto" or host:port: an existing one
    vectors: str | Path | None = field(default=None, repr=False)  # a URI may hold keys: never in a repr
    shard_size: int = 2048  # texts per shard: what a killed run loses at most per worker
    progress: bool = False
