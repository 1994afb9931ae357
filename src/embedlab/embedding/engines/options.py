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

    def describe(self) -> dict:
        """What a run records of its engine (in its model info): enough to know how the vectors were made."""
        from embedlab.embedding.engines.location import shown  # no credentials of a --vectors URI in results

        return {"name": "ray", "workers": self.workers, "gpus_per_worker": self.gpus_per_worker,
                "address": self.address or "local", "vectors": None if self.vectors is None else shown(self.vectors)}
