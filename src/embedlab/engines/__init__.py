"""Where texts become vectors at scale: the Ray Data engine (`ray_data`), the id-keyed vector shards it
writes (`vectors`), and the store the scorers read them through (`store`). The in-process engine is
`embed.EmbeddingStore`; nothing here imports ray until a run asks for it."""

from embedlab.engines.options import EngineOptions

__all__ = ["EngineOptions"]
