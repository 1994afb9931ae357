"""The encode step on Ray Data: texts -> a dataset -> `map_batches` over an actor pool -> id-keyed shards.

Each actor loads the model once (`Encoder.worker_loader`), encodes its batch longest first in the run's
batch size, checks and normalises the vectors as `embed.EmbeddingStore` does, and commits the batch as
one shard (`vectors.write_shard`) before it returns; the driver only counts what was committed. Ray Data
keeps no row order, so nothing is joined by position: each shard carries its texts' ids. A task whose
actor died is retried by Ray (the shard it rewrites has the same name and content).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from embedlab.embedding.engines.grpc_probe import grpc_problem
from embedlab.embedding.engines.location import Location, open_location
from embedlab.embedding.engines.options import EngineOptions
from embedlab.embedding.engines.vectors import VectorDirError, text_ids, write_shard
from embedlab.embedding.store import checked_vectors
from embedlab.errors import DataError, EmbedlabError, ModelError, require
from embedlab.models.base import Encoder

log = logging.getLogger(__name__)


BLOCKS_PER_WORKER = 4
CONNECT_TIMEOUT = 5.0  # seconds for a cluster's address to answer before the run is refused


class EngineError(EmbedlabError):
    """The Ray engine cannot run as asked (no cluster at the address, a failed worker)."""


def connect(engine: EngineOptions):
    """The `ray` module, connected to the cluster at `engine.address` (a new local one when None)."""
    ray = require("ray", "--engine ray")
    if ray.is_initialized():
        return ray
    address = engine.address
    check_address(address)
    try:
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING,
                 log_to_driver=engine.progress)
    except ConnectionError as exc:
        raise EngineError(f"--ray-address {address}: {str(exc).splitlines()[0]} (start one with `ray start "
                          "--head`, or leave --ray-address out for a local cluster)") from None
    return ray


def check_address(address: str | None) -> None:
    """An address where no Ray cluster answers is refused within CONNECT_TIMEOUT seconds (ray.init would retry
    for minutes), as is `ray://` without Ray Client installed. Nothing answering, something else answering
    (a web server, a proxy, a firewall that accepts every connection: `grpc_probe`) are both "no cluster"."""
    if address in (None, "auto", "local"):
        return
    client = address.startswith("ray://")
    if client:
        try:
            import grpc  # noqa: F401  (what ray[client] adds; ray.init would fail on it after the model loaded)
        except ImportError:
            raise EngineError(f"--ray-address {address}: a ray:// address connects through Ray Client, which needs "
                              "ray[client]: pip install 'embedlab[ray-client]' (or give the head node's host:6379 "
                              "from a machine of the cluster)") from None
    host, _, port = address.removeprefix("ray://").rstrip("/").rpartition(":")
    if not host or "]" in port:  # no port given (an IPv6 address without one ends in "]")
        host, port = address.removeprefix("ray://").rstrip("/"), "10001" if client else "6379"
    number = int(port) if port.isdigit() else 0
    if not 0 < number < 65536:
        raise EngineError(f"--ray-address {address}: '{port}' is not a port number; give host:port")
    tls = os.environ.get("RAY_USE_TLS", "").lower() in ("1", "true")  # plain HTTP/2 cannot ask a TLS server
    problem = tcp_problem(host.strip("[]"), number, CONNECT_TIMEOUT) if tls else \
        grpc_problem(host.strip("[]"), number, CONNECT_TIMEOUT)
    if problem:
        raise EngineError(f"--ray-address {address}: no Ray cluster answers there ({problem}); give the head "
                          f"node's {'ray://host:10001 (its Ray Client server)' if client else 'host:port (`ray status` on it)'}"
                          ", 'auto', or leave it out for a local cluster")


def tcp_problem(host: str, port: int, timeout: float) -> str | None:
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        return exc.strerror or str(exc) or f"nothing answered within {timeout:g} s"
    return None


def worker_count(ray, engine: EngineOptions) -> int:
    """Actors to start: as asked, else one per GPU (with --gpus-per-worker) or per CPU of the cluster."""
    if engine.workers:
        return engine.workers
    resources = ray.cluster_resources()
    if engine.gpus_per_worker:
        return max(1, int(resources.get("GPU", 0) // engine.gpus_per_worker))
    return max(1, int(resources.get("CPU", 1)))


def shard_rows(total: int, workers: int, shard_size: int, batch_size: int) -> int:
    """Texts per shard: at most `shard_size` (what a killed run loses per worker), few enough that every worker
    gets about BLOCKS_PER_WORKER shards (2,400 texts in one 2,048 shard and one of 352 would keep one of two
    workers idle most of the run), and a whole number of batches (the in-process engine's batches)."""
    wanted = min(shard_size, -(-total // (workers * BLOCKS_PER_WORKER)))
    return max(1, -(-wanted // batch_size)) * batch_size


def cpus_per_worker(ray, engine: EngineOptions, pool: int) -> int:
    """CPUs each actor reserves (Ray sets its torch threads from them): on CPUs the cluster's shared among the
    pool, so one worker on a 2-core machine uses both cores as the in-process engine does; 1 beside a GPU."""
    if engine.gpus_per_worker:
        return 1
    return max(1, int(ray.cluster_resources().get("CPU", 1) // pool))


class ShardWriter:
    """A Ray Data actor: loads the model once; per batch, encodes, checks, normalises and commits a shard."""

    def __init__(self, loader: Callable[[], Encoder], path: str, batch_size: int, dimension: int | None) -> None:
        self.encoder = loader()
        self.location, self.batch_size, self.dimension = open_location(path), batch_size, dimension

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        try:
            texts = sorted((str(t) for t in batch["text"]), key=len, reverse=True)
            parts = []
            for begin, end, raw in self.encoder.encode_batches(texts, "document", self.batch_size):
                parts.append(checked_vectors(self.encoder.name, raw, texts[begin:end], self.dimension))
                self.dimension = parts[-1].shape[1]
            vectors = np.concatenate(parts)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            name = write_shard(self.location, text_ids(texts), vectors)
        except EmbedlabError as exc:  # returned, not raised: Ray's wrappers would bury its one line
            return {"shard": np.array([""]), "rows": np.array([0]), "error": np.array([f"{type(exc).__name__}\t{exc}"])}
        return {"shard": np.array([name]), "rows": np.array([len(texts)]), "error": np.array([""])}


def encode_on_ray(windows: Iterable[list[str]], loader: Callable[[], Encoder], location: Location,
                  engine: EngineOptions, *, total: int, batch_size: int, dimension: int | None,
                  advance: Callable[[int], Any]) -> None:
    """Encode the `total` texts of `windows` (as documents) on the cluster into shards in `location`, in one Ray
    run; `advance(n)` per committed shard. Each window is sorted longest first and cut into shards at batch
    bounds (one window: the batches of the in-process engine), its blocks put in the object store as made."""
    ray = connect(engine)
    data = require("ray.data", "--engine ray")
    if not engine.progress:  # our own progress line counts committed texts; Ray Data's chatter is left out
        logging.getLogger("ray.data").setLevel(logging.ERROR)
    context = data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    workers = worker_count(ray, engine)
    size = shard_rows(total, workers, engine.shard_size, batch_size)
    pa = require("pyarrow", "--engine ray")
    blocks = []  # the driver never holds a second copy of the corpus: each block goes to the object store
    for texts in windows:
        ordered = sorted(texts, key=len, reverse=True)  # similar lengths share a shard: less padding
        blocks += [ray.put(pa.table({"text": ordered[i:i + size]})) for i in range(0, len(ordered), size)]
    dataset = data.from_arrow_refs(blocks)
    shards = dataset.map_batches(
        # batch_size=None: each block is one batch, as cut above. A number would let Ray Data join the short last
        # block of one window to the next window's texts, and the batches (so the floats) would differ from in process
        ShardWriter, batch_size=None, batch_format="numpy",
        compute=data.ActorPoolStrategy(size=(pool := min(workers, max(1, len(blocks))))),
        fn_constructor_kwargs={"loader": loader, "path": location.spec, "batch_size": batch_size,
                               "dimension": dimension},
        num_cpus=cpus_per_worker(ray, engine, pool),
        num_gpus=engine.gpus_per_worker or None)  # Ray Data restarts a lost actor, retries its task
    for done in shards.iter_batches(batch_size=None, batch_format="numpy"):
        failed = [e for e in done["error"] if e]
        if failed:
            kind, message = str(failed[0]).split("\t", 1)
            raise WORKER_ERRORS.get(kind, EngineError)(message)
        advance(int(done["rows"].sum()))


# what a worker's error is on the driver (by class name: the error crossed Ray as text)
WORKER_ERRORS = {cls.__name__: cls for cls in (ModelError, DataError, VectorDirError, EngineError)}
