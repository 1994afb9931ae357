"""Where texts become vectors at scale: the Ray Data engine (`ray_data`), the id-keyed vector shards it
writes (`vectors`), and the store the scorers read them through (`store`). The in-process engine is
`embed.EmbeddingStore`; nothing here imports ray until a run asks for it."""

from __future__ import annotations

import functools

from embedlab.embed import EmbeddingStore
from embedlab.engines.options import EngineOptions

__all__ = ["EngineOptions", "embedding_store"]


def embedding_store(engine: EngineOptions | None):
    """The store factory of a run's engine: `EmbeddingStore` in process, a `ShardedStore` on `engine`."""
    if engine is None:
        return EmbeddingStore
    from embedlab.engines.store import ShardedStore  # ray is imported by the run that asks for it

    return functools.partial(ShardedStore, engine=engine)
