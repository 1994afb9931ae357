"""The persistent embedding cache: keyed by (model key, text hash), committed per batch, never a secret."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.embedding.cache import CacheError, EmbeddingCache, open_cache, text_hash


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
    import embedlab.embedding.cache as module

    monkeypatch.setattr(module, "DEFAULT_PATH", tmp_path / "default.sqlite")
    assert open_cache(None, paid=False) is None and open_cache(False, paid=True) is None
    assert open_cache(None, paid=True).path == tmp_path / "default.sqlite"
    assert open_cache(tmp_path / "x.sqlite", paid=False).path == tmp_path / "x.sqlite"
    assert open_cache(True, paid=False).path == tmp_path / "default.sqlite"
    assert text_hash("a") != text_hash("b") and len(text_hash("a")) == 32


def test_a_cache_of_the_first_release_keeps_its_vectors(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "old.sqlite")
    db.execute("CREATE TABLE embeddings (model TEXT NOT NULL, text_hash BLOB NOT NULL, dim INTEGER NOT NULL, "
               "vector BLOB NOT NULL, PRIMARY KEY (model, text_hash)) WITHOUT ROWID")
    db.execute("INSERT INTO embeddings VALUES (?, ?, ?, ?)", ("m", text_hash("x"), 2, np.ones(2, np.float32).tobytes()))
    db.commit()
    db.close()
    cache = EmbeddingCache(tmp_path / "old.sqlite")
    np.testing.assert_array_equal(cache.get_many("m", ["x"])["x"], [1, 1])
    cache.put_many("m", ["y"], np.zeros((1, 2), np.float32))
    assert set(cache.get_many("m", ["x", "y"])) == {"x", "y"}


def test_a_damaged_vector_is_embedded_again_not_served(tmp_path):
    import sqlite3

    cache = EmbeddingCache(tmp_path / "c.sqlite")
    cache.put_many("m", ["x", "y"], np.ones((2, 4), np.float32))
    cache.close()
    db = sqlite3.connect(tmp_path / "c.sqlite")
    db.execute("UPDATE embeddings SET vector = ? WHERE text_hash = ?", (np.full(4, 7, np.float32).tobytes(), text_hash("x")))
    db.execute("UPDATE embeddings SET vector = ? WHERE text_hash = ?", (b"\x00" * 5, text_hash("y")))
    db.commit()
    db.close()
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    assert cache.get_many("m", ["x", "y"]) == {} and cache.damaged == 2


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign", "folder", "read-only"])
def test_an_unusable_cache_is_one_line_naming_it(tmp_path, damage, monkeypatch):
    import os
    import sqlite3

    path = tmp_path / "c.sqlite"
    if damage == "garbage":
        path.write_bytes(os.urandom(4096))
    elif damage == "truncated":
        cache = EmbeddingCache(path)
        cache.put_many("m", [str(i) for i in range(2000)], np.ones((2000, 64), np.float32))
        cache.close()
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "foreign":
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE embeddings (id INTEGER, data TEXT)")
        db.commit()
        db.close()
    elif damage == "folder":
        path.mkdir()
    else:
        EmbeddingCache(path).close()
        path.chmod(0o444)
        monkeypatch.setattr("embedlab.embedding.cache.os.access", lambda p, mode: False)  # as root, nothing is read-only
    with pytest.raises(CacheError, match=f"the embedding cache at {path} .*--no-cache"):
        cache = EmbeddingCache(path)
        cache.get_many("m", ["0", "1"])
        cache.put_many("m", ["z"], np.ones((1, 64), np.float32))


def test_indexes_go_beside_the_cache_file_when_the_run_has_a_cache(tmp_path):
    from embedlab.embedding.cache import DEFAULT_PATH, index_folder

    assert index_folder(tmp_path / "c.sqlite", paid=False) == tmp_path / "indexes"
    assert index_folder(True, paid=False) == DEFAULT_PATH.parent / "indexes"
    assert index_folder(None, paid=False) is None and index_folder(None, paid=True) == DEFAULT_PATH.parent / "indexes"
    assert index_folder(False, paid=True) is None


def test_sparse_rows_and_token_vectors_round_trip_with_their_bytes(tmp_path):
    import scipy.sparse as sp

    cache = EmbeddingCache(tmp_path / "c.sqlite")
    rows = sp.csr_matrix(np.array([[0, 1.5, 0, 2], [0, 0, 0, 0]], dtype=np.float32))
    cache.put_sparse("s", ["x", "y"], rows)
    found = cache.get_sparse("s", ["x", "y", "z"])
    assert found["x"][0] == 4 and found["x"][1].tolist() == [1, 3] and found["x"][2].tolist() == [1.5, 2.0]
    assert found["y"][1].size == 0  # an empty row is a row
    blocks = [np.arange(6, dtype=np.float32).reshape(3, 2), np.ones((1, 2), dtype=np.float32)]
    cache.put_tokens("t", ["x", "y"], blocks)
    np.testing.assert_array_equal(cache.get_tokens("t", ["x"])["x"], blocks[0])
    stats = {row["model"]: row for row in cache.stats()}
    assert stats["s"] == {"model": "s", "vectors": 2, "bytes": 16, "output": "sparse"}
    assert stats["t"] == {"model": "t", "vectors": 2, "bytes": 32, "output": "tokens"}
    cache._db.execute("UPDATE token_vectors SET tokens = 2 WHERE tokens = 3")
    assert set(cache.get_tokens("t", ["x", "y"])) == {"y"} and cache.damaged == 1
    assert cache.clear() == 4


def test_chat_answers_round_trip_and_a_damaged_one_is_asked_again(tmp_path):
    import sqlite3

    cache = EmbeddingCache(tmp_path / "c.sqlite")
    record = {"text": '{"queries": ["谁赢了？"]}', "attempts": 1, "prompt_tokens": 30, "completion_tokens": 9}
    cache.put_generations("chat|m|seed=1", ["prompt one", "prompt two"], [record, {**record, "attempts": 2}])
    found = cache.get_generations("chat|m|seed=1", ["prompt one", "prompt two", "prompt three"])
    assert found == {"prompt one": record, "prompt two": {**record, "attempts": 2}}
    assert cache.get_generations("chat|m|seed=2", ["prompt one"]) == {}  # another seed: another key
    assert {"model": "chat|m|seed=1", "vectors": 0, "bytes": cache.stats()[0]["bytes"], "generations": 2} \
        in cache.stats()
    cache.close()
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        db.execute("UPDATE generations SET record = CAST('{\"text\": \"tampered\"}' AS BLOB) WHERE text_hash = ?",
                   [text_hash("prompt one")])
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    assert list(cache.get_generations("chat|m|seed=1", ["prompt one", "prompt two"])) == ["prompt two"]
    assert cache.damaged == 1
    assert cache.clear("chat|m|seed=1") == 2 and cache.stats() == []
    cache.close()
