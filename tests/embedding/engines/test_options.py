from embedlab.embedding.engines import EngineOptions, embedding_store
from embedlab.embedding.store import EmbeddingStore


def test_the_store_of_each_engine(tmp_path):
    assert embedding_store(None) is EmbeddingStore
    factory = embedding_store(EngineOptions(workers=2, vectors=tmp_path))
    assert factory.keywords["engine"].workers == 2 and factory.func.__name__ == "ShardedStore"
    assert EngineOptions().shard_size % 32 == 0 and EngineOptions().address is None
