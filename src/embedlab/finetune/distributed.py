"""Data-parallel fine-tuning: `--nproc N` here, or one process per GPU started by `torchrun` / `accelerate launch`.

The trainer is sentence-transformers' (DDP through accelerate): each process takes `batch_size / N` queries of a
step, the loss gathers every process's embeddings (`gather_across_devices`), so each query's in-batch negatives
are the other queries' passages of the whole step, as in one process with the whole batch, and the gradients are
averaged. Only the main process (rank 0) writes checkpoints, runs the curve's evaluator and prints: the others
encode its shards of the texts (sentence-transformers' distributed evaluation, every process at the deployment
max length) and get its scores, so every process takes the same decisions (best checkpoint, early stopping).

- backend: NCCL when the processes train on CUDA GPUs (bf16 there), gloo on CPU;
- `--nproc N` starts N processes with torch's elastic launcher on this machine (`launch`); a process that dies
  stops the others and fails the run with one line (no hang on a collective);
- more nodes: `torchrun --nnodes 2 --nproc-per-node 8 --rdzv-endpoint HOST:PORT -m embedlab.cli.main finetune ...`
  on each node (the run folder on a shared file system), as README "Fine-tune" shows.
"""

from __future__ import annotations

import logging
import os
import signal
import uuid
from dataclasses import dataclass
from typing import Any

from embedlab.errors import EmbedlabError, SetupError


@dataclass(frozen=True)
class World:
    rank: int = 0
    local_rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def world() -> World:
    """This process's place in a data-parallel run (from the variables torchrun and its launcher set)."""
    env = os.environ
    return World(int(env.get("RANK", 0)), int(env.get("LOCAL_RANK", 0)), int(env.get("WORLD_SIZE", 1)))


def backend(device: str) -> str:
    """The collective backend for processes training on `device`: NCCL on CUDA GPUs, gloo on CPU."""
    return "nccl" if device.startswith("cuda") else "gloo"


def process_device(device: str, place: World) -> str:
    """Each process of a run on CUDA GPUs takes its own GPU (its local rank)."""
    if place.size > 1 and device.startswith("cuda"):
        return f"cuda:{place.local_rank}"
    return device


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def check_nproc(nproc: int | None, device: str) -> None:
    """More processes than GPUs (on CUDA) or CPU cores is refused: they would only wait for each other."""
    if not nproc or nproc <= 1:
        return
    if device.startswith("cuda"):
        import torch

        have, what = torch.cuda.device_count(), "CUDA GPUs"
    else:
        have, what = cores(), "CPU cores available to this process"
    if nproc > have:
        raise SetupError(f"--nproc {nproc}: only {have} {what} here; give at most {have}")


def start(device: str) -> None:
    """Join the process group of a run started by torchrun / accelerate launch (no-op when alone or joined)."""
    import torch.distributed as dist

    if world().size > 1 and not dist.is_initialized():
        dist.init_process_group(backend(device))


def barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def share(value: Any) -> Any:
    """Rank 0's `value`, in every process."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def launch(nproc: int, entrypoint, *args) -> Any:
    """Run `entrypoint(*args)` in `nproc` processes on this machine; rank 0's return value. A process that fails
    stops the others; the run then fails with one line naming it."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=uuid.uuid4().hex,
                          rdzv_backend="c10d", rdzv_endpoint="localhost:0", max_restarts=0, monitor_interval=0.2,
                          start_method="spawn")
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, cores() // nproc)))  # each process its share of the cores
    quiet = [logging.getLogger(name) for name in ("torch.distributed.elastic", "torch.distributed.launcher",
                                                  "torch.multiprocessing")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL)
    try:
        return elastic_launch(config, entrypoint)(*args)[0]
    except ChildFailedError as exc:
        raise EmbedlabError(failure_line(exc.failures, nproc)) from None
    finally:
        for logger, level in zip(quiet, levels):
            logger.setLevel(level)


def failure_line(failures: dict, nproc: int) -> str:
    """One line for the first failed process: killed by a signal, or the error it raised."""
    rank, failure = min(failures.items())
    code = failure.exitcode
    if code is not None and code < 0:
        try:
            how = f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    else:
        message = str(getattr(failure, "message", "") or "").strip().splitlines()
        how = f"failed: {message[-1][:300]}" if message and message[-1] != "<N/A>" else f"exited with code {code}"
    return (f"fine-tuning process {rank} of {nproc} {how}; the other processes were stopped. Started again with "
            "the same -o, the run resumes from its last checkpoint")
