"""Faults of a distributed run: a driver killed mid-run (the rerun encodes only what is missing, counted), and
shards written by workers on several nodes (a cluster simulated on one machine) reassembled by id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from embedlab.embedding.engines import EngineOptions
from embedlab.embedding.engines.store import ShardedStore
from embedlab.embedding.store import EmbeddingStore
from tests.conftest import FakeEncoder
from tests.embedding.engines.conftest import RayFake

TEXTS = [f"passage {i}: " + "word " * (i % 17) for i in range(120)]


def python(code: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_killed_driver_reruns_encoding_only_what_was_missing(ray_cluster, tmp_path):
    vectors = tmp_path / "vectors"
    driver = python("""
        import sys, ray
        from embedlab.embedding.engines import EngineOptions
        from embedlab.embedding.engines.store import ShardedStore
        from tests.embedding.engines.conftest import RayFake
        from tests.embedding.engines.test_faults import TEXTS
        ray.init(address=sys.argv[1], logging_level="error", log_to_driver=False)
        engine = EngineOptions(workers=2, vectors=sys.argv[2], shard_size=8)
        ShardedStore(RayFake(pause=0.4), engine, batch_size=8, progress=False).embed(TEXTS, "document")
    """, ray_cluster.get_runtime_context().gcs_address, str(vectors))
    deadline = time.time() + 120
    while len(list(vectors.glob("*.ids.npy"))) < 3 and time.time() < deadline and driver.poll() is None:
        time.sleep(0.1)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    time.sleep(3)  # the cluster ends the dead driver's workers; a shard in flight is committed whole or not at all
    committed = len(list(vectors.glob("*.ids.npy")))
    assert 3 <= committed < 15, driver.stderr.read()

    store = ShardedStore(RayFake(), EngineOptions(workers=2, vectors=vectors, shard_size=8), batch_size=8,
                         progress=False)
    got = store.embed(TEXTS, "document")
    assert store.stats.cache_hits == 8 * committed and store.stats.encoded == len(TEXTS) - 8 * committed
    np.testing.assert_allclose(got, EmbeddingStore(FakeEncoder(), progress=False).embed(TEXTS, "document"), atol=1e-6)


@pytest.mark.slow
def test_shards_from_several_nodes_are_reassembled_by_id(tmp_path):
    (tmp_path / "nodes").mkdir()
    driver = python("""
        import sys
        import numpy as np, ray
        from ray.cluster_utils import Cluster
        from embedlab.embedding.store import EmbeddingStore
        from embedlab.embedding.engines import EngineOptions
        from embedlab.embedding.engines.store import ShardedStore
        from tests.conftest import FakeEncoder
        from tests.embedding.engines.conftest import RayFake
        from tests.embedding.engines.test_faults import TEXTS
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "object_store_memory": 100 << 20})
        for _ in range(2):  # two worker nodes of one CPU: one actor on each
            cluster.add_node(num_cpus=1, object_store_memory=100 << 20)
        ray.init(address=cluster.address, logging_level="error", log_to_driver=False)
        engine = EngineOptions(workers=2, vectors=sys.argv[1] + "/vectors", shard_size=8)
        got = ShardedStore(RayFake(pause=0.2, nodes=sys.argv[1] + "/nodes"), engine, batch_size=8,
                           progress=False).embed(TEXTS, "document")
        reference = EmbeddingStore(FakeEncoder(), progress=False).embed(TEXTS, "document")
        assert np.abs(got - reference).max() <= 1e-6
        ray.shutdown()
        cluster.shutdown()
        print("ok")
    """, str(tmp_path))
    out, err = driver.communicate(timeout=300)
    assert driver.returncode == 0 and out.strip() == "ok", err[-3000:]
    assert len(list((tmp_path / "nodes").iterdir())) == 2  # both worker nodes wrote shards
