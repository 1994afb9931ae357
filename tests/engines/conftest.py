"""One local Ray cluster per test session (2 CPUs, a fixed object store), and fake encoders its workers can load."""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

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
