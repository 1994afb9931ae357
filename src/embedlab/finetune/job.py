"""What one training process does: load the model (with its LoRA adapter), build the trainer around the curve's
evaluator, train, and measure its peak memory. The run's preparation (data, checks, the run folder) and its end
(best/, the summary) happen once, in `train.py`; a `Job` is everything in between, picklable, so the processes of
a data-parallel run (`distributed.py`) each run the same job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedlab.finetune import distributed
from embedlab.finetune.checkpoints import step_of, training_finished
from embedlab.finetune.config import FinetuneConfig
from embedlab.finetune.examples import Examples
from embedlab.finetune.memory import PeakMemory, release_freed_memory
from embedlab.finetune.trainer import Setup, build_trainer, quiet_libraries
from embedlab.models.base import ModelOptions
from embedlab.results.curve import Curve
from embedlab.tasks.types import Task


@dataclass
class Job:
    model: str  # the base model (a path or hub id)
    out_dir: Path
    tasks: dict[str, Task]
    curve: Curve
    config: FinetuneConfig
    examples: Examples
    device: str
    dtype: str
    prompts: dict[str, str]
    max_length: int | None  # deployment length (checkpoints, the curve)
    mini_batch: int | None
    checkpoint: Path | None = None  # resume from it
    verbose: bool = False
    callbacks: list = field(default_factory=list)
    processes: int = 1  # of a data-parallel run (--nproc, or torchrun's world size)

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.examples) / self.config.batch_size)

    @property
    def total_steps(self) -> int:
        return self.config.max_steps or math.ceil(self.steps_per_epoch * self.config.epochs)


@dataclass
class Trained:
    """What the main process reports back: memory, the last step, how far the adapter moved."""

    peak: int
    start: int
    steps: int
    adapter_moved: float | None = None
    measured: str = "process RSS (sampled every 20 ms)"


def load_for_training(job: Job, device: str) -> tuple[Any, int | None]:
    """The SentenceTransformer at the training max length, with the run's prompts (and a fresh LoRA adapter), and
    the base model's own max length."""
    from embedlab.finetune.lora import add_adapter
    from embedlab.finetune.shape import ModelShape
    from embedlab.models.sentence_transformers import load_sentence_transformer

    model = load_sentence_transformer(job.model, device, model_kwargs=_base_dtype(job, device))
    base_length = model.max_seq_length
    model.max_seq_length = min(job.config.passage_max_length, base_length or job.config.passage_max_length)
    model.prompts = {**(model.prompts or {}), **job.prompts}
    if job.config.lora is not None:
        import torch

        torch.manual_seed(job.config.seed)  # the adapter's random init: the trainer seeds only after it is built
        add_adapter(model, job.config.lora, ModelShape.of(model))
    return model, base_length


def _base_dtype(job: Job, device: str) -> dict[str, Any] | None:
    """A LoRA run on a GPU loads the frozen base in the training dtype (the adapter stays fp32)."""
    if job.config.lora is None or not device.startswith("cuda") or job.dtype == "fp32":
        return None
    import torch

    return {"dtype": torch.bfloat16 if job.dtype == "bf16" else torch.float16}


def run_job(job: Job, model=None, *, announce=None, line=None) -> Trained | None:
    """Train `job` in this process (`model`: already loaded for it, else loaded here); rank 0 returns what it
    measured, the other processes None."""
    from embedlab.finetune.evaluator import CurveEvaluator
    from embedlab.finetune.lora import adapter_weights, check_trained

    st = _sentence_transformers()
    place = distributed.world()
    if not job.verbose:
        quiet_libraries()
    device = distributed.process_device(job.device, place)
    if place.size > 1:  # --nproc or torchrun / accelerate launch
        import warnings

        # accelerate's and sentence-transformers' notes on deprecated DDP calls, in every process: not the user's
        warnings.filterwarnings("ignore", category=FutureWarning)
    if device == "cpu":
        release_freed_memory()
        if place.size > 1:
            _threads_per_process(place.size)
    model = model or load_for_training(job, device)[0]
    initial = adapter_weights(model) if job.config.lora is not None else None
    if not place.main:
        job.curve.path = None  # only the main process writes the curve
    # sentence-transformers runs it on rank 0 only (the others encode its shards) and shares its scores
    evaluator = CurveEvaluator(job.tasks, job.curve, batch_size=job.config.eval_batch_size, announce=announce,
                               max_length=job.max_length, dimensions=job.config.matryoshka,
                               options=ModelOptions(batch_size=job.config.eval_batch_size, device=device))
    setup = Setup(model, device, job.dtype, job.examples, job.steps_per_epoch, job.total_steps,
                  max_length=job.max_length)
    trainer = build_trainer(st, setup, evaluator, job.curve, job.config, job.out_dir, mini_batch=job.mini_batch,
                            verbose=job.verbose, eval_on_start=not any(p["step"] == 0 for p in job.curve.points),
                            callbacks=[*([line] if line else []), *job.callbacks], world_size=place.size)
    trained = train_until_done(trainer, job.checkpoint, device, job.out_dir, line)
    if initial is not None and not (job.checkpoint is not None and training_finished(job.checkpoint)):
        trained.adapter_moved = check_trained(initial, trainer.model)
    return trained if place.main else None


def train_until_done(trainer, checkpoint: Path | None, device: str, out_dir: Path, line) -> Trained:
    """Run the trainer (from `checkpoint` when resuming; not at all when training ended there: the trainer would
    take one more step)."""
    with PeakMemory(device) as peak:
        if checkpoint is not None and training_finished(checkpoint):
            return Trained(peak.peak, peak.start, step_of(checkpoint))
        try:
            trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        finally:
            if line is not None:
                line.stop()
    if distributed.world().main and (out_dir / "eval").is_dir() and not any((out_dir / "eval").iterdir()):
        (out_dir / "eval").rmdir()  # the trainer makes it for evaluators that write files
    measured = "CUDA max allocated" if device.startswith("cuda") else "process RSS (sampled every 20 ms)"
    return Trained(peak.peak, peak.start, trainer.state.global_step, measured=measured)


def _threads_per_process(processes: int) -> None:
    """N processes on this machine's cores: each takes its share, instead of all of them each."""
    import torch

    torch.set_num_threads(max(1, distributed.cores() // processes))


def _sentence_transformers():
    from embedlab.errors import require

    return require("sentence_transformers", "fine-tuning")


def worker(job: Job) -> Trained | None:
    """The entry point of each process `--nproc` starts (rank 0 prints the curve's lines on stderr)."""
    from torch.distributed.elastic.multiprocessing.errors import record

    return record(_work)(job)


def _work(job: Job) -> Trained | None:
    import sys

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    return run_job(job, announce=say if distributed.world().main else None)
