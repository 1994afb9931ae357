import re
import socket
import sys
import time
import types

import pytest

from embedlab.embedding.engines import EngineOptions
from embedlab.embedding.engines.ray_data import (
    CONNECT_TIMEOUT,
    EngineError,
    check_address,
    connect,
    cpus_per_worker,
    shard_rows,
    worker_count,
)
from embedlab.errors import MissingDependencyError, ModelError


def test_no_ray_installed_is_a_one_line_hint_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingDependencyError, match=r"--engine ray needs 'ray'.*pip install 'embedlab\[ray\]'"):
        connect(EngineOptions())


def test_an_unreachable_address_is_refused_at_once():
    with pytest.raises(EngineError, match="127.0.0.1:1: no Ray cluster answers there"):
        check_address("127.0.0.1:1")
    check_address("auto")  # looked up by ray itself
    check_address(None)


def test_ray_client_without_ray_client_installed_is_one_line(monkeypatch):
    """Issue 24 item 17: `ray://` (the form --help shows) was a traceback "Ray Client requires ray[client]"
    after the model loaded."""
    monkeypatch.setitem(sys.modules, "grpc", None)
    with pytest.raises(EngineError, match=r"^--ray-address ray://127.0.0.1:10001: a ray:// address connects through "
                                          r"Ray Client, which needs ray\[client\]: pip install 'embedlab\[ray-client\]'"):
        check_address("ray://127.0.0.1:10001")


@pytest.mark.parametrize("address", ["10.255.255.1:6379", "ray://10.255.255.1:10001", "ray://10.255.255.1",
                                     "192.0.2.1:6379", "[::1]:1"])
def test_an_address_where_no_cluster_answers_is_refused_within_seconds(monkeypatch, address):
    """An unroutable address took 98 s: ray.init retried it (on this machine a firewall even accepts the
    connection and answers HTTP/2 404). Whatever is there, the answer comes within CONNECT_TIMEOUT."""
    monkeypatch.setitem(sys.modules, "grpc", types.ModuleType("grpc"))  # as if ray[client] were installed
    started = time.monotonic()
    with pytest.raises(EngineError, match=f"^--ray-address {re.escape(address)}: no Ray cluster answers there"):
        check_address(address)
    assert time.monotonic() - started < CONNECT_TIMEOUT + 1


def test_a_silent_address_waits_only_the_connect_timeout(monkeypatch):
    import embedlab.embedding.engines.ray_data as ray_data

    monkeypatch.setattr(ray_data, "CONNECT_TIMEOUT", 0.5)
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        started = time.monotonic()
        with pytest.raises(EngineError, match="nothing answered within 0.5 s"):
            check_address(f"127.0.0.1:{silent.getsockname()[1]}")
        assert time.monotonic() - started < 1.5


def test_a_real_cluster_passes_the_check(ray_cluster):
    check_address(ray_cluster.get_runtime_context().gcs_address)


class Cluster:
    def __init__(self, resources):
        self.resources = resources

    def cluster_resources(self):
        return self.resources


def test_workers_default_to_every_cpu_or_gpu():
    assert worker_count(Cluster({"CPU": 8.0}), EngineOptions()) == 8
    assert worker_count(Cluster({"CPU": 8.0, "GPU": 4.0}), EngineOptions(gpus_per_worker=0.5)) == 8
    assert worker_count(Cluster({"CPU": 8.0}), EngineOptions(workers=3)) == 3


def test_shards_are_whole_batches_few_enough_to_keep_every_worker_busy():
    assert shard_rows(2400, 2, 2048, 32) == 320  # 8 shards for 2 workers, not 2,048 + 352
    assert shard_rows(10_000_000, 16, 2048, 32) == 2048  # large corpora: the configured size
    assert shard_rows(60, 2, 16, 32) == 32  # never less than one batch
    assert all(shard_rows(n, w, 2048, 24) % 24 == 0 for n in (1, 999, 10**6) for w in (1, 3, 8))


def test_cpu_workers_share_the_cluster_s_cores_and_gpu_workers_take_one():
    assert cpus_per_worker(Cluster({"CPU": 2.0}), EngineOptions(workers=1), pool=1) == 2  # torch threads as in process
    assert cpus_per_worker(Cluster({"CPU": 2.0}), EngineOptions(workers=2), pool=2) == 1
    assert cpus_per_worker(Cluster({"CPU": 16.0}), EngineOptions(workers=3), pool=3) == 5
    assert cpus_per_worker(Cluster({"CPU": 16.0, "GPU": 8.0}), EngineOptions(gpus_per_worker=1), pool=8) == 1


def test_a_worker_error_reaches_the_driver_as_its_one_line(ray_cluster, tmp_path):
    from embedlab.embedding.engines.store import ShardedStore
    from tests.embedding.engines.conftest import RayFake

    class Broken(RayFake):
        def encode(self, texts, kind="document"):
            return super().encode(texts, kind)[:, :3]  # the wrong dimension

        def worker_loader(self, device):
            return Broken

    store = ShardedStore(Broken(), EngineOptions(workers=1, vectors=tmp_path / "v"), progress=False)
    with pytest.raises(ModelError, match="^model 'fake-bigram' returned 3-d vectors, expected 64-d$"):
        store.embed(["a", "b"], "document")


@pytest.mark.parametrize("address", ["ray://", "ray://:", ":", "host:", ":6379", "host:port", "[::1", "ray://[::1]:x",
                                     "::1", "127.0.0.1:99999", "127.0.0.1:-1", "ray://127.0.0.1:1/", "a b:1",
                                     "no-such-host.invalid:6379", "127.0.0.1:1:2", "ray:///x", "http://127.0.0.1:1"])
def test_odd_addresses_are_one_line(monkeypatch, address):
    """Whatever is typed: an EngineError (the CLI's one line, exit 2) within seconds, never another exception."""
    monkeypatch.setitem(sys.modules, "grpc", types.ModuleType("grpc"))
    started = time.monotonic()
    with pytest.raises(EngineError, match=f"^--ray-address {re.escape(address)}: "):
        check_address(address)
    assert time.monotonic() - started < CONNECT_TIMEOUT + 1
