"""`finetune()`: training rows -> sentence-transformers trainer -> checkpoints, each on the curve.

The trainer, losses and batch sampler are sentence-transformers' own (see `trainer.py`); every
checkpoint is scored by `CurveEvaluator` (the code of `embedlab eval`), and a killed run resumes
from its last checkpoint and keeps its curve (see `checkpoints.py`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab.data.output import check_output, write_json
from embedlab.data.text import text_key
from embedlab.data.training import TrainingData, load_training
from embedlab.errors import EmbedlabError, UnknownNameError, require
from embedlab.finetune.checkpoints import resume_or_clear, step_of, training_finished, write_best
from embedlab.finetune.config import FinetuneConfig
from embedlab.finetune.evaluator import CurveEvaluator
from embedlab.finetune.examples import build_examples, token_truncator
from embedlab.finetune.memory import (
    ModelShape,
    PeakMemory,
    available_memory,
    choose_mini_batch,
    gib,
    plan,
)
from embedlab.finetune.progress import progress_line
from embedlab.finetune.record import RECORD, SUMMARY, previous_run, run_record
from embedlab.finetune.trainer import Setup, build_trainer, quiet_libraries
from embedlab.models.base import ModelOptions
from embedlab.models.sentence_transformers import pick_device
from embedlab.results.curve import Curve
from embedlab.run.context import environment
from embedlab.run.evaluation import load_tasks
from embedlab.run.options import RunOptions
from embedlab.tasks.types import Task, score_names, task_type

log = logging.getLogger(__name__)


@dataclass
class FinetuneRun:
    out_dir: Path
    summary: dict[str, Any]
    curve: Curve
    already_complete: bool = False  # the folder held this run, finished: nothing was trained

    @property
    def best_dir(self) -> Path:
        return self.out_dir / "best"

    @classmethod
    def load(cls, out_dir: Path) -> FinetuneRun:
        """A finished run from its folder."""
        summary = json.loads((out_dir / SUMMARY).read_text(encoding="utf-8"))
        return cls(out_dir, summary, Curve.load(out_dir / "curve.json"), already_complete=True)


def finetune(model: str, train: str | Path | TrainingData, out_dir: str | Path, *,
             test: str | Path | Task | None = None, retrieval: str | Path | Task | None = None,
             guard: list | tuple = (), guard_retrieval: list | tuple = (),
             config: FinetuneConfig | None = None, run: RunOptions | None = None, resume: bool = True,
             verbose: bool = False, callbacks: list | tuple = ()) -> FinetuneRun:
    """Fine-tune `model` on `train`, scoring every checkpoint on the held-out `test` (reranking)
    and/or `retrieval` data and on optional general-domain `guard` sets (to expose forgetting).

    Writes under `out_dir`: run.json (configuration, base model, data hashes), checkpoint-N/ (loadable
    by sentence-transformers and `embedlab eval`; the best and the last `keep_checkpoints`), curve.json,
    curve.png, best/ (the best checkpoint, or the base model if nothing beat it) and summary.json. The
    same run in `out_dir` is resumed (returned if complete); another is refused unless `resume=False`.
    A run failing before training leaves no folder it created. `run.announce(str)` gets the plan and notes (the
    log by default), `run.progress` a progress line on a terminal; `verbose`: the libraries' logs and bars too.
    """
    config, run = config or FinetuneConfig(), run or RunOptions()
    announce = run.announce or log.info
    st, out_dir = _require_training_stack(), Path(out_dir)
    if not verbose:
        quiet_libraries()
    started = time.perf_counter()
    data = train if isinstance(train, TrainingData) else load_training(train)
    tasks, curve = _held_out(test, retrieval, guard, guard_retrieval, config)
    device, record = pick_device(config.device), run_record(model, data, curve, config)
    dtype = _dtype(config.dtype, device)
    check_output(out_dir, inputs=_inputs(model, train, test, retrieval, *guard, *guard_retrieval),
                 folder=True, overwrite=True, role="run folder")
    previous = previous_run(out_dir, record, resume=resume)
    if previous.complete:
        announce(f"{out_dir} holds this run, complete at {previous.checkpoint.name}: nothing to train "
                 "(--no-resume trains it again)")
        return FinetuneRun.load(out_dir)
    setup = _load_model(model, data, config, device, dtype)
    memory = _memory_plan(setup, config, announce)
    line = progress_line(curve) if run.progress else None
    announce = line.announcing(announce) if line else announce
    with _removed_on_failure(out_dir):
        checkpoint = resume_or_clear(out_dir, curve, resume=resume, announce=announce)
        if checkpoint is None:
            write_json(out_dir / RECORD, record)
        evaluator = CurveEvaluator(tasks, curve, batch_size=config.eval_batch_size, announce=announce,
                                   max_length=setup.max_length,
                                   options=ModelOptions(batch_size=config.eval_batch_size, device=device))
        trainer = build_trainer(st, setup, evaluator, curve, config, out_dir,
                                mini_batch=memory["chosen"]["mini_batch_size"], verbose=verbose,
                                eval_on_start=not any(p["step"] == 0 for p in curve.points),
                                callbacks=[*([line] if line else []), *callbacks])
    peak, steps = _train(trainer, checkpoint, device, out_dir, line)
    curve.save()
    write_best(out_dir, curve.best()["step"], model, trainer.model, device, max_length=setup.max_length)
    summary = {
        **curve.summary(seed=config.seed), "model": model, **_run_facts(setup, config, steps),
        "examples": setup.examples.counts, "skipped": data.skipped, "leakage": _leakage(data, tasks),
        "loss": memory["chosen"]["loss"], "memory": _measured(memory, peak, device),
        "best_dir": "best", "config": config.as_dict(), "environment": environment(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_json(out_dir / SUMMARY, summary)
    _plot(curve, out_dir, model, announce)
    return FinetuneRun(out_dir, summary, curve)


def _require_training_stack():
    """sentence-transformers (returned), datasets and accelerate, or an error naming the extra."""
    st = require("sentence_transformers", "fine-tuning")
    require("datasets", "fine-tuning")
    require("accelerate", "fine-tuning with the sentence-transformers trainer")
    return st


def _load_model(spec: str, data: TrainingData, config: FinetuneConfig, device: str, dtype: str) -> Setup:
    """The model on its device at the training max length, with the instructions; its examples and
    the deployment max length (`config.max_length`, else the base model's)."""
    from embedlab.models.sentence_transformers import load_sentence_transformer, model_instructions

    st_model = load_sentence_transformer(spec, device)
    base_length = st_model.max_seq_length
    st_model.max_seq_length = min(config.passage_max_length, base_length or config.passage_max_length)
    instructions = model_instructions(st_model, config.query_instruction, config.document_instruction)
    st_model.prompts = {**(st_model.prompts or {}), **{k: v for k, v in instructions.items() if v}}
    examples = build_examples(data, group_size=config.group_size, seed=config.seed,
                              query_instruction=instructions["query"],
                              document_instruction=instructions["document"],
                              truncate_query=token_truncator(st_model.tokenizer, config.query_max_length))
    steps_per_epoch = math.ceil(len(examples) / config.batch_size)
    return Setup(st_model, device, dtype, examples, steps_per_epoch,
                 config.max_steps or math.ceil(steps_per_epoch * config.epochs),
                 max_length=config.max_length or base_length or st_model.max_seq_length)


def _train(trainer, checkpoint: Path | None, device: str, out_dir: Path, line) -> tuple[PeakMemory, int]:
    """Run the trainer (from `checkpoint` when resuming; not at all when training ended there: the
    trainer would take one more step); the peak memory it took and the last step."""
    with PeakMemory(device) as peak:
        if checkpoint is not None and training_finished(checkpoint):
            return peak, step_of(checkpoint)
        try:
            trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        finally:
            if line is not None:
                line.stop()
    if (out_dir / "eval").is_dir() and not any((out_dir / "eval").iterdir()):
        (out_dir / "eval").rmdir()  # the trainer makes it for evaluators that write files
    return peak, trainer.state.global_step


@contextlib.contextmanager
def _removed_on_failure(out_dir: Path):
    """Creates `out_dir`; removes it again if the block fails and it did not exist before."""
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise


def _inputs(*sources) -> list[Path]:
    """The local files and folders a run reads (a hub id or a loaded object is none)."""
    return [Path(s).expanduser() for s in sources
            if isinstance(s, (str, Path)) and Path(s).expanduser().exists()]


def _run_facts(setup: Setup, config: FinetuneConfig, steps: int) -> dict[str, Any]:
    """Where and how it ran: device, dtype, steps, and both lengths (trained at; saved and scored at)."""
    return {"device": setup.device, "dtype": setup.dtype, "steps": steps,
            "steps_per_epoch": setup.steps_per_epoch, "max_length": setup.max_length,
            "train_max_length": {"query": config.query_max_length, "passage": setup.model.max_seq_length}}


def _measured(memory: dict[str, Any], peak: PeakMemory, device: str) -> dict[str, Any]:
    return {**memory, "measured_peak_bytes": peak.peak, "measured_start_bytes": peak.start,
            "measured": "CUDA max allocated" if device.startswith("cuda")
            else "process RSS (sampled every 20 ms)"}


def _plot(curve: Curve, out_dir: Path, model: str, announce) -> None:
    try:
        from embedlab.report.curve import plot_curve

        plot_curve(curve, out_dir / "curve.png", title=f"{_short(model)}: {curve.metric}")
    except EmbedlabError as exc:  # matplotlib missing: the JSON has everything
        announce(f"no curve.png: {exc}")


def _short(model: str) -> str:
    path = Path(model)
    return f"{path.parent.name}/{path.name}" if path.name in ("model", "best") else path.name


def _held_out(test, retrieval, guard, guard_retrieval, config: FinetuneConfig
              ) -> tuple[dict[str, Task], Curve]:
    if test is None and retrieval is None:
        raise EmbedlabError("fine-tuning needs held-out data to draw the curve: give --test "
                            "(reranking rows, e.g. from `embedlab split`) and/or --retrieval-test")
    tasks: dict[str, Task] = {}
    info: dict[str, dict[str, Any]] = {}

    def add(label: str, task: Task, role: str) -> None:
        main = task_type(task).main_score
        tasks[label] = task
        info[label] = {"name": task.name, "type": task.type, "main": main, "role": role,
                       "source": task.source, "data_hash": task.fingerprint(), **task.counts()}

    for task in load_tasks(test, expect="reranking") + load_tasks(retrieval, expect="retrieval"):
        add("test" if "test" not in tasks else "test-retrieval", task, "test")
    guards = load_tasks(list(guard), expect="reranking") + load_tasks(list(guard_retrieval), expect="retrieval")
    for index, task in enumerate(guards):
        add("guard" if index == 0 else f"guard-{index + 1}", task, "guard")
    metric = config.metric or info["test"]["main"]
    label, name = metric.split("/", 1) if "/" in metric else ("test", metric)
    known = [f"{k}/{m}" for k in ("test", "test-retrieval") if k in tasks for m in score_names(tasks[k].type)]
    if label not in tasks or name not in score_names(tasks[label].type):
        raise UnknownNameError("curve metric", metric, known)
    return tasks, Curve(f"{label}/{name}", info)


def _leakage(data: TrainingData, tasks: dict[str, Task]) -> dict[str, int]:
    """Held-out queries (normalised) that are also training queries: these inflate the curve."""
    train_queries = {text_key(row.query) for row in data.rows}
    return {label: sum(text_key(q) in train_queries for q in dict.fromkeys(task.texts("query")))
            for label, task in tasks.items()}


def _dtype(requested: str, device: str) -> str:
    if requested != "auto":
        if requested != "fp32" and not device.startswith("cuda"):
            raise EmbedlabError(f"--dtype {requested} needs a CUDA GPU (device is {device})")
        return requested
    if device.startswith("cuda"):
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "fp32"


def _memory_plan(setup: Setup, config: FinetuneConfig, announce) -> dict[str, Any]:
    """The chosen configuration's estimate (announced, with a warning when it does not fit), and the
    alternatives (GradCache / checkpointing on or off)."""
    shape = ModelShape.of(setup.model)
    common = {"batch_size": config.batch_size, "group_size": config.group_size,
              "query_length": config.query_max_length, "passage_length": config.passage_max_length,
              "dtype_bytes": 2 if setup.dtype != "fp32" else 4, "device": setup.device,
              "available": available_memory(setup.device)}

    def estimate(mini: int | None, checkpointing: bool = config.gradient_checkpointing):
        return plan(shape, mini_batch_size=mini, checkpointing=checkpointing, **common)

    mini = config.mini_batch_size
    if mini == "auto":
        mini = None if estimate(None).fits else \
            choose_mini_batch(lambda m: estimate(m).fits, config.batch_size)
    mini = int(mini) if mini and int(mini) < config.batch_size else None
    chosen = estimate(mini)
    other_mini = mini or min(32, max(1, config.batch_size // 2))
    alternatives = {"plain": estimate(None), "gradcache": estimate(other_mini),
                    "plain_checkpointing": estimate(None, True),
                    "gradcache_checkpointing": estimate(other_mini, True)}
    others = ", ".join(f"{name.replace('_', ' + ')} {gib(p.total)}" for name, p in alternatives.items())
    text = (f"memory plan (estimate): {chosen.describe()}\n"
            f"  alternatives (GiB, GradCache mini-batch {other_mini}): {others}")
    announce(text)
    if not chosen.fits:
        announce("warning: the estimate is above the free memory; lower --batch-size or set "
                 "--mini-batch-size (the estimate assumes every text at max length)")
    return {
        **{name: p.as_dict() for name, p in alternatives.items()},
        "chosen": {**chosen.as_dict(), "loss": "CachedMultipleNegativesRankingLoss" if mini
                   else "MultipleNegativesRankingLoss"},
        "text": text,
        "estimate": "planner estimate (texts at max length), not a measurement",
    }
