import numpy as np
import pytest

from embedlab.embed import EmbeddingStore
from embedlab.engines import EngineOptions
from embedlab.engines.store import ShardedStore
from embedlab.engines.vectors import VectorDirError
from embedlab.errors import ModelError
from tests.conftest import FakeEncoder
from tests.engines.conftest import RayFake

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
    from embedlab.engines import store as store_module
    from embedlab.engines.ray_data import EngineError

    monkeypatch.setattr(store_module, "encode_on_ray", lambda *args, **kwargs: None)  # a worker's local disk
    store = ShardedStore(RayFake(), engine(tmp_path), progress=False)
    with pytest.raises(EngineError, match="2 text.*no shard in .*give --vectors a folder on a filesystem every node"):
        store.embed(["a", "b"], "document")
