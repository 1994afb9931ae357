import zlib

import numpy as np
import pytest

from embedlab.embedding.engines import EngineOptions
from embedlab.embedding.engines.store import ShardedStore
from embedlab.embedding.engines.vectors import VectorDirError
from embedlab.embedding.store import EmbeddingStore
from embedlab.errors import ModelError
from tests.conftest import FakeEncoder
from tests.embedding.engines.conftest import RayFake

TEXTS = [f"passage number {i} about {'tea' if i % 3 else 'bicycles'} " * (1 + i % 4) for i in range(60)]


def engine(tmp_path, **kwargs):
    return EngineOptions(**{"workers": 2, "vectors": tmp_path / "vectors", "shard_size": 16, **kwargs})


def test_documents_on_ray_equal_the_in_process_vectors_and_resume(ray_cluster, tmp_path):
    reference = EmbeddingStore(FakeEncoder(), progress=False)
    store = ShardedStore(RayFake(), engine(tmp_path), progress=False)
    asked = TEXTS + TEXTS[:5]  # repeats are encoded once
    np.testing.assert_allclose(store.embed(asked, "document"), reference.embed(asked, "document"), atol=1e-6)
    np.testing.assert_allclose(store.embed(["q1", "q2"], "query"), reference.embed(["q1", "q2"], "query"), atol=1e-6)
    assert store.stats.encoded == 60 + 2 and store.stats.cache_hits == 0
    assert len(store.vectors.shards) == 2  # 60 texts in shards of 16 texts rounded up to the batch (32)

    again = ShardedStore(RayFake(), engine(tmp_path), progress=False)  # a rerun on the same directory
    more = TEXTS + ["a new passage", "another new one"]
    np.testing.assert_allclose(again.embed(more, "document"), reference.embed(more, "document"), atol=1e-6)
    assert again.stats.encoded == 2 and again.stats.cache_hits == 60


def test_an_actor_killed_mid_run_is_retried_with_identical_vectors(ray_cluster, tmp_path):
    marker = tmp_path / "died"
    store = ShardedStore(RayFake(die_once=str(marker)), engine(tmp_path), progress=False)
    got = store.embed(TEXTS, "document")
    assert marker.exists()  # an actor did die
    np.testing.assert_allclose(got, EmbeddingStore(FakeEncoder(), progress=False).embed(TEXTS, "document"),
                               atol=1e-6)
    assert store.stats.encoded == 60


def test_a_directory_of_another_model_is_refused(tmp_path):
    ShardedStore(RayFake(), engine(tmp_path), progress=False)
    with pytest.raises(VectorDirError, match="model: 'fake-bigram' there, 'other' now"):
        ShardedStore(RayFake(name="other"), engine(tmp_path), progress=False)


def test_a_model_workers_cannot_load_is_refused_in_one_line(tmp_path):
    with pytest.raises(ModelError, match="cannot be loaded on Ray workers.*API models are I/O bound"):
        ShardedStore(FakeEncoder(), engine(tmp_path), progress=False)


def test_shards_written_where_the_driver_cannot_read_are_one_line(tmp_path, monkeypatch):
    from embedlab.embedding.engines import store as store_module
    from embedlab.embedding.engines.ray_data import EngineError

    monkeypatch.setattr(store_module, "encode_on_ray", lambda *args, **kwargs: None)  # a worker's local disk
    store = ShardedStore(RayFake(), engine(tmp_path), progress=False)
    with pytest.raises(EngineError, match="2 text.*no shard in .*give --vectors a folder on a filesystem every node"):
        store.embed(["a", "b"], "document")


def test_a_corpus_larger_than_a_window_is_hashed_window_by_window_with_the_same_vectors(ray_cluster, tmp_path,
                                                                                          monkeypatch):
    from embedlab.embedding.engines import store as store_module

    monkeypatch.setattr(store_module, "WINDOW", 7)  # 65 texts: 10 windows; repeats span windows
    reference = EmbeddingStore(FakeEncoder(), progress=False)
    store = ShardedStore(RayFake(), engine(tmp_path), progress=False)
    asked = TEXTS + TEXTS[:5]
    np.testing.assert_allclose(store.embed(asked, "document"), reference.embed(asked, "document"), atol=1e-6)
    assert store.stats.encoded == 60 and store.stats.cache_hits == 0 and store.stats.unique == 60
    store.embed(TEXTS[10:20], "document")  # handed out already: neither encoded nor a cache hit
    assert store.stats.encoded == 60 and store.stats.cache_hits == 0

    again = ShardedStore(RayFake(), engine(tmp_path), progress=False)
    np.testing.assert_allclose(again.embed(asked[::-1], "document"), reference.embed(asked[::-1], "document"),
                               atol=1e-6)
    assert again.stats.encoded == 0 and again.stats.cache_hits == 60


def test_an_eval_encodes_every_task_s_documents_in_one_ray_run(ray_cluster, rerank_file, retrieval_dir, tmp_path,
                                                              monkeypatch):
    import embedlab
    from embedlab.data.resolve import resolve_all
    from embedlab.embedding.engines import store as store_module
    from embedlab.run.evaluation import RunOptions

    runs = []

    def counted(windows, *args, **kwargs):
        windows = list(windows)
        runs.append(sum(map(len, windows)))
        return encode_on_ray(windows, *args, **kwargs)

    encode_on_ray = store_module.encode_on_ray
    monkeypatch.setattr(store_module, "encode_on_ray", counted)
    on_ray = embedlab.evaluate(RayFake(), [rerank_file, retrieval_dir],
                               run=RunOptions(engine=engine(tmp_path), progress=False))
    local = embedlab.evaluate(FakeEncoder(), [rerank_file, retrieval_dir])
    documents = {text for task in resolve_all([rerank_file, retrieval_dir]) for text in task.texts("document")}
    assert runs == [len(documents)]  # one worker pool for both tasks' distinct documents
    for got, expected in zip(on_ray.runs[0].tasks, local.runs[0].tasks):
        assert got.scores == pytest.approx(expected.scores, abs=1e-6)


def test_prepare_takes_lists_of_texts_not_texts(tmp_path):
    store = ShardedStore(RayFake(), engine(tmp_path), progress=False)
    with pytest.raises(TypeError, match="lists of texts"):
        store.prepare(["a text", "another"])  # each text would be a list of characters


class BatchEcho(RayFake):
    """Vectors that depend on which texts share a batch, as padding makes a real model's last bits depend."""

    def encode(self, texts, kind="document"):
        vectors = super().encode(texts, kind)
        vectors[:, 0] += (zlib.crc32("\n".join(texts).encode()) % 997) / 997
        return vectors

    def worker_loader(self, device):
        return BatchEcho


def test_several_tasks_in_one_ray_run_keep_the_in_process_batches(ray_cluster, tmp_path):
    first, second = TEXTS[:45], TEXTS[30:] + [f"only in the second task {i}" for i in range(15)]
    reference = EmbeddingStore(BatchEcho(), batch_size=8, progress=False)  # in process: task by task
    expected = [reference.embed(first, "document"), reference.embed(second, "document")]
    store = ShardedStore(BatchEcho(), engine(tmp_path), batch_size=8, progress=False)
    store.prepare([first, second])  # one Ray run: blocks of 16, 16, 13 | 16, 14 must stay apart
    for texts, vectors in zip((first, second), expected):
        np.testing.assert_allclose(store.embed(texts, "document"), vectors, atol=1e-6)
    assert store.stats.encoded == 45 + 30 and len(store.vectors.shards) == 5
