"""Where texts become vectors at scale: the Ray Data engine (`ray_data`), the id-keyed vector shards it
writes (`vectors`), the filesystem they live on (`location`: a local folder, or any filesystem pyarrow can
write, e.g. `s3://bucket/prefix`), and the store the scorers read them through (`store`). The in-process
engine is `embed.EmbeddingStore`; nothing here imports ray until a run asks for it.

Where this differs from the first sketch (issue 16), and why:
- Shards are `.npy` pairs, not parquet: the miner reads a few rows of many shards per chunk of queries, and a
  memory-mapped `.npy` gives any row without reading the file; parquet would read whole row groups.
- The actors write their shards themselves (Ray Data's `write_parquet` is not used): each batch is committed
  atomically (a rename in a folder, one PUT per object on an object store) under a name hashed from its ids,
  so a retried task rewrites the same shard, a killed driver leaves only whole shards, and the driver learns
  of each commit as it happens (progress, resume).
- Queries are encoded by the driver's own model copy (few, and a Ray run per chunk of queries would cost a
  worker pool's start-up each time); only documents go through Ray, in one run per call that has any missing.
- API models are refused rather than routed: their client already keeps requests in flight and caches answers.
- A remote vector directory (s3://, gs://, hdfs://, abfs://) is read through a local mirror: each shard's vectors
  are copied once into the run's scratch folder and memory-mapped there, as a local shard is (the search reads
  rows of many shards at random; ranged GETs per row block would cost a round trip each).
"""

from __future__ import annotations

import functools

from embedlab.embedding.engines.options import EngineOptions
from embedlab.embedding.store import EmbeddingStore

__all__ = ["EngineOptions", "embedding_store"]


def embedding_store(engine: EngineOptions | None):
    """The store factory of a run's engine: `EmbeddingStore` in process, a `ShardedStore` on `engine`."""
    if engine is None:
        return EmbeddingStore
    from embedlab.embedding.engines.store import ShardedStore  # ray is imported by the run that asks for it

    return functools.partial(ShardedStore, engine=engine)
