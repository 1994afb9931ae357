"""The persistent embedding cache: keyed by (model key, text hash), committed per batch, never a secret."""

from __future__ import annotations

import numpy as np

from embedlab.models.cache import EmbeddingCache, open_cache, text_hash


def test_vectors_round_trip_per_model_key(tmp_path):
    cache = EmbeddingCache(tmp_path / "sub" / "c.sqlite")
    vectors = np.arange(6, dtype=np.float32).reshape(3, 2)
    cache.put_many("model-a|query", ["x", "y", "z"], vectors)
    found = cache.get_many("model-a|query", ["z", "x", "missing"])
    assert set(found) == {"x", "z"}
    np.testing.assert_array_equal(found["z"], [4, 5])
    assert cache.get_many("model-a|document", ["x"]) == {}  # another key is another vector
    assert cache.stats() == [{"model": "model-a|query", "vectors": 3, "bytes": 24}]
    cache.put_many("model-b|query", ["x"], vectors[:1])
    assert cache.clear("model-a|query") == 3 and cache.clear() == 1
    cache.close()


def test_a_second_connection_sees_committed_batches(tmp_path):
    first = EmbeddingCache(tmp_path / "c.sqlite")
    first.put_many("m", [str(i) for i in range(1000)], np.ones((1000, 4), dtype=np.float32))
    second = EmbeddingCache(tmp_path / "c.sqlite")
    assert len(second.get_many("m", [str(i) for i in range(1000)])) == 1000  # beyond one SQL variable chunk
    first.close()
    second.close()


def test_open_cache_follows_the_setting(tmp_path, monkeypatch):
    import embedlab.models.cache as module

    monkeypatch.setattr(module, "DEFAULT_PATH", tmp_path / "default.sqlite")
    assert open_cache(None, paid=False) is None and open_cache(False, paid=True) is None
    assert open_cache(None, paid=True).path == tmp_path / "default.sqlite"
    assert open_cache(tmp_path / "x.sqlite", paid=False).path == tmp_path / "x.sqlite"
    assert open_cache(True, paid=False).path == tmp_path / "default.sqlite"
    assert text_hash("a") != text_hash("b") and len(text_hash("a")) == 32
