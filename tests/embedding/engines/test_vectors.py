import errno

import numpy as np
import pytest

from embedlab.embedding.engines import vectors as vectors_module
from embedlab.embedding.engines.vectors import VectorDir, VectorDirError, manifest_for, text_ids


def manifest(**changes):
    info = {"name": "m", "revision": "r1", "query_instruction": "", "document_instruction": "", "max_length": 64,
            "dimension": 4}
    return manifest_for({**info, **changes}, "key|m", "cpu")


def unit(n, dim=4, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_rows_are_joined_by_id_whatever_the_shard_and_order(tmp_path):
    texts = [f"text {i}" for i in range(10)]
    vectors = unit(10)
    store = VectorDir(tmp_path / "v", manifest())
    store.write_shard(text_ids(texts[6:]), vectors[6:])  # written out of order, as workers finish
    store.write_shard(text_ids(texts[:6]), vectors[:6])
    store.refresh()
    assert len(store) == 10 and len(store.shards) == 2
    order = [3, 9, 0, 7, 7]
    np.testing.assert_array_equal(store.read(text_ids([texts[i] for i in order])), vectors[order])
    assert store.missing(text_ids(["text 1", "new"])).tolist() == [False, True]


def test_a_large_read_goes_into_a_memory_map(tmp_path, monkeypatch):
    monkeypatch.setattr(vectors_module, "IN_MEMORY_ROWS", 4)
    texts = [f"t{i}" for i in range(9)]
    store = VectorDir(tmp_path / "v", manifest())
    store.write_shard(text_ids(texts), unit(9))
    store.refresh()
    out = store.read(text_ids(texts))
    assert isinstance(out, np.memmap)
    np.testing.assert_array_equal(out, unit(9))


def test_another_model_or_setting_is_refused_with_the_field(tmp_path):
    VectorDir(tmp_path / "v", manifest())
    VectorDir(tmp_path / "v", manifest())  # the same settings: reused
    with pytest.raises(VectorDirError, match="max_length: 64 there, 128 now"):
        VectorDir(tmp_path / "v", manifest(max_length=128))
    with pytest.raises(VectorDirError, match="model: 'm' there, 'other' now"):
        VectorDir(tmp_path / "v", manifest(name="other"))


def test_a_full_disk_keeps_the_shards_written(tmp_path, monkeypatch):
    store = VectorDir(tmp_path / "v", manifest())
    store.write_shard(text_ids(["a", "b"]), unit(2))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(vectors_module.np, "save", full)
    with pytest.raises(VectorDirError, match="no space left.*shards already written are kept"):
        store.write_shard(text_ids(["c"]), unit(1))
    monkeypatch.undo()
    store.refresh()
    assert len(store) == 2 and not list((tmp_path / "v").glob(".tmp-*"))


def test_not_a_vector_directory(tmp_path):
    with pytest.raises(VectorDirError, match="no manifest.json"):
        VectorDir(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(VectorDirError, match="not a directory"):
        VectorDir(tmp_path / "file", manifest())


def test_shards_without_a_manifest_are_refused_not_claimed(tmp_path):
    """Shards whose manifest.json is gone were written by unknown settings: never served to a run of other ones,
    and no new manifest claims them (issue 24, item 8)."""
    store = VectorDir(tmp_path / "v", manifest(max_length=256))
    store.write_shard(text_ids(["a", "b"]), unit(2))
    (tmp_path / "v" / "manifest.json").unlink()
    with pytest.raises(VectorDirError) as error:
        VectorDir(tmp_path / "v", manifest(max_length=16))
    message = str(error.value)
    assert "\n" not in message and "2 vector shard file(s) but no manifest.json" in message and "move" in message
    assert not (tmp_path / "v" / "manifest.json").exists()
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "notes.txt").write_text("x")
    assert VectorDir(tmp_path / "w", manifest()).manifest == manifest()  # no shards: a new vector directory
