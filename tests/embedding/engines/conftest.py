"""One local Ray cluster per test session (2 CPUs, a fixed object store), and fake encoders its workers can load."""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

import pytest

from tests.conftest import FakeEncoder


class RayFake(FakeEncoder):
    """The fake bigram encoder, loadable on Ray workers. `die_once`: a file; the first worker to encode
    creates it and dies at once (an actor lost mid-run). `pause`: seconds per batch (a run to kill). `nodes`: a
    folder where each worker leaves a file named after its Ray node."""

    def __init__(self, name: str = "fake-bigram", die_once: str | None = None, pause: float = 0.0,
                 nodes: str | None = None) -> None:
        super().__init__()
        self.name, self.die_once, self.pause, self.nodes = name, die_once, pause, nodes

    def encode(self, texts, kind="document"):
        if self.die_once and not Path(self.die_once).exists():
            Path(self.die_once).write_text(str(os.getpid()))
            os._exit(1)
        if self.nodes:  # which node encoded a batch
            import ray

            (Path(self.nodes) / ray.get_runtime_context().get_node_id()).touch()
        time.sleep(self.pause)
        return super().encode(texts, kind)

    def worker_loader(self, device):
        return functools.partial(RayFake, self.name, self.die_once, self.pause, self.nodes)


class S3Server:
    """A local S3 API (moto) with one bucket; `uri(prefix)` names a folder of it as a user would, the endpoint in
    pyarrow's URI parameters and (unless `credentials` is False) the keys in the URI."""

    KEY, SECRET = "AKIAEMBEDLABTESTKEY", "s3cr3t/Embedlab+Test=Value"

    def __init__(self, endpoint: str, bucket: str) -> None:
        self.endpoint, self.bucket = endpoint, bucket

    def uri(self, prefix: str, credentials: bool = True, bucket: str | None = None) -> str:
        from urllib.parse import quote

        auth = f"{self.KEY}:{quote(self.SECRET, safe='')}@" if credentials else ""
        return (f"s3://{auth}{bucket or self.bucket}/{prefix}?endpoint_override={self.endpoint}&scheme=http"
                "&region=us-east-1")

    def filesystem(self):
        from pyarrow.fs import S3FileSystem

        return S3FileSystem(endpoint_override=self.endpoint, scheme="http", access_key=self.KEY,
                            secret_key=self.SECRET, region="us-east-1", allow_bucket_creation=True)


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on a free port of 127.0.0.1 for the session, with the bucket 'embedlab'."""
    import logging
    import socket

    server_module = pytest.importorskip("moto.server")
    pytest.importorskip("pyarrow.fs")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    s3 = S3Server(f"127.0.0.1:{port}", "embedlab")
    s3.filesystem().create_dir(s3.bucket)
    yield s3
    server.stop()
