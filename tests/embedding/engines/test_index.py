import numpy as np

from embedlab.embedding.engines import index as index_module
from embedlab.embedding.engines.index import IdIndex, IdRuns, first_byte
from embedlab.embedding.engines.vectors import text_ids


def shards_of(texts, sizes):
    ids = text_ids(texts)
    bounds = np.cumsum([0, *sizes])
    return [ids[b0:b1] for b0, b1 in zip(bounds[:-1], bounds[1:])]


def test_the_bucketed_index_equals_one_stable_sort_of_every_shard(tmp_path):
    texts = [f"passage {i}" for i in range(3000)]
    texts[2500:2600] = texts[100:200]  # written twice, by another shard: shard-then-row order kept
    parts = shards_of(texts, [700, 1300, 1000])
    index = IdIndex(lambda i: parts[i], len(parts), tmp_path)

    ids = np.concatenate(parts)
    shard = np.repeat(np.arange(3), [len(p) for p in parts])
    row = np.concatenate([np.arange(len(p)) for p in parts])
    order = np.argsort(ids, kind="stable")
    np.testing.assert_array_equal(index.ids, ids[order])
    np.testing.assert_array_equal(index.shard, shard[order])
    np.testing.assert_array_equal(index.row, row[order])
    assert index.distinct() == len(np.unique(ids)) == 2900
    assert index.distinct(block=7) == 2900  # counted block by block, across block bounds
    assert all(isinstance(a, np.memmap) for a in (index.ids, index.shard, index.row))  # file-backed, not heap


def test_locate_finds_every_id_and_nothing_else(tmp_path):
    parts = shards_of([f"t{i}" for i in range(500)], [250, 250])
    index = IdIndex(lambda i: parts[i], 2, tmp_path)
    asked = text_ids(["t3", "absent", "t499", "t0"])
    at = index.locate(asked)
    assert at[1] == -1
    np.testing.assert_array_equal(index.ids[at[[0, 2, 3]]], asked[[0, 2, 3]])
    assert (index.shard[at[2]], index.row[at[2]]) == (1, 249)


def test_an_empty_directory_has_an_empty_index_and_remove_deletes_the_files(tmp_path):
    empty = IdIndex(lambda i: None, 0, tmp_path)
    assert len(empty) == 0 and empty.distinct() == 0 and (empty.locate(text_ids(["x"])) == -1).all()
    parts = shards_of(["a", "b"], [2])
    index = IdIndex(lambda i: parts[i], 1, tmp_path)
    assert len(list(tmp_path.glob("*.npy"))) == 3
    index.remove()
    assert not list(tmp_path.glob("*.npy"))


def test_buckets_are_the_first_byte():
    ids = np.array([b"\x05" + b"\x01" * 15, b"\xff" * 16], dtype="S16")
    assert first_byte(ids).tolist() == [5, 255]
    assert index_module.BUCKETS == 256


def test_id_runs_hold_what_was_added_in_files_and_copies_are_independent(tmp_path):
    seen = IdRuns(tmp_path)
    first = np.unique(text_ids(["a", "b", "c"]))
    seen.add(first)
    seen.add(np.empty(0, dtype="S16"))  # nothing: no run
    copy = seen.copy()
    copy.add(np.unique(text_ids(["d"])))
    assert len(seen) == 3 and len(copy) == 4 and len(seen.runs) == 1
    assert seen.contains(text_ids(["c", "d", "a"])).tolist() == [True, False, True]
    assert copy.contains(text_ids(["d"])).tolist() == [True]
    assert isinstance(seen.runs[0], np.memmap)
