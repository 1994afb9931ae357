"""`finetune()`: training rows -> sentence-transformers trainer -> checkpoints, each on the curve.

The trainer, losses and batch sampler are sentence-transformers' own (see `trainer.py`); every
checkpoint is scored by `CurveEvaluator` (the code of `embedlab eval`), and a killed run resumes
from its last checkpoint and keeps its curve (see `checkpoints.py`).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab.data.output import write_json
from embedlab.data.text import text_key
from embedlab.data.training import TrainingData, load_training
from embedlab.errors import EmbedlabError, UnknownNameError, require
from embedlab.evaluation import environment, load_tasks
from embedlab.finetune.checkpoints import resume_or_clear, write_best
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
from embedlab.finetune.trainer import Setup, build_trainer, quiet_libraries
from embedlab.models.base import ModelOptions
from embedlab.results.curve import Curve
from embedlab.tasks.types import Task, score_names, task_type

log = logging.getLogger(__name__)


@dataclass
class FinetuneRun:
    out_dir: Path
    summary: dict[str, Any]
    curve: Curve

    @property
    def best_dir(self) -> Path:
        return self.out_dir / "best"


def finetune(model: str, train: str | Path | TrainingData, out_dir: str | Path, *,
             test: str | Path | Task | None = None, retrieval: str | Path | Task | None = None,
             guard: list | tuple = (), guard_retrieval: list | tuple = (),
             config: FinetuneConfig | None = None, progress: bool = False, resume: bool = True,
             announce=log.info, callbacks: list | tuple = ()) -> FinetuneRun:
    """Fine-tune `model` on `train`, scoring every checkpoint on the held-out `test` (reranking)
    and/or `retrieval` data and on optional general-domain `guard` sets (to expose forgetting).

    Writes under `out_dir`: checkpoint-N/ (loadable by sentence-transformers and `embedlab eval`),
    curve.json, curve.png, best/ (the best checkpoint, or the base model if nothing beat it) and
    summary.json. `announce(str)` receives the plan and progress notes (the CLI prints them);
    `callbacks` are extra transformers TrainerCallbacks (loggers, custom stopping).
    """
    config = config or FinetuneConfig()
    st = _require_training_stack()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not progress:
        quiet_libraries()
    started = time.perf_counter()
    data = train if isinstance(train, TrainingData) else load_training(train)
    tasks, curve = _held_out(test, retrieval, guard, guard_retrieval, config)
    setup = _load_model(model, data, config)
    memory = _memory_plan(setup, config, announce)
    checkpoint = resume_or_clear(out_dir, curve, resume=resume, announce=announce)
    evaluator = CurveEvaluator(tasks, curve, batch_size=config.eval_batch_size, announce=announce,
                               options=ModelOptions(batch_size=config.eval_batch_size, device=setup.device))
    trainer = build_trainer(st, setup, evaluator, curve, config, out_dir,
                            mini_batch=memory["chosen"]["mini_batch_size"], progress=progress,
                            eval_on_start=not any(p["step"] == 0 for p in curve.points),
                            callbacks=list(callbacks))
    peak = _train(trainer, checkpoint, setup.device, out_dir)
    curve.save()
    write_best(out_dir, curve.best()["step"], model, trainer.model, setup.device)
    summary = {
        **curve.summary(seed=config.seed),
        "model": model, "device": setup.device, "precision": setup.precision,
        "steps": trainer.state.global_step, "steps_per_epoch": setup.steps_per_epoch,
        "examples": setup.examples.counts, "skipped": data.skipped, "leakage": _leakage(data, tasks),
        "loss": memory["chosen"]["loss"], "memory": _measured(memory, peak, setup.device),
        "best_dir": "best", "config": config.as_dict(), "environment": environment(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_json(out_dir / "summary.json", summary)
    _plot(curve, out_dir, model, announce)
    return FinetuneRun(out_dir, summary, curve)


def _require_training_stack():
    """sentence-transformers (returned), datasets and accelerate, or an error naming the extra."""
    st = require("sentence_transformers", "fine-tuning")
    require("datasets", "fine-tuning")
    require("accelerate", "fine-tuning with the sentence-transformers trainer")
    return st


def _load_model(spec: str, data: TrainingData, config: FinetuneConfig) -> Setup:
    """The model on its device with the configured max length and instructions; its examples."""
    from embedlab.models.sentence_transformers import (
        load_sentence_transformer,
        model_instructions,
        pick_device,
    )

    device = pick_device(config.device)
    st_model = load_sentence_transformer(spec, device)
    st_model.max_seq_length = min(config.passage_max_length,
                                  st_model.max_seq_length or config.passage_max_length)
    instructions = model_instructions(st_model, config.query_instruction, config.document_instruction)
    st_model.prompts = {**(st_model.prompts or {}), **{k: v for k, v in instructions.items() if v}}
    examples = build_examples(data, group_size=config.group_size, seed=config.seed,
                              query_instruction=instructions["query"],
                              document_instruction=instructions["document"],
                              truncate_query=token_truncator(st_model.tokenizer, config.query_max_length))
    steps_per_epoch = math.ceil(len(examples) / config.batch_size)
    return Setup(st_model, device, _precision(config.precision, device), examples, steps_per_epoch,
                 config.max_steps or math.ceil(steps_per_epoch * config.epochs))


def _train(trainer, checkpoint: Path | None, device: str, out_dir: Path) -> PeakMemory:
    """Run the trainer (from `checkpoint` when resuming); the peak memory it took."""
    with PeakMemory(device) as peak:
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    if (out_dir / "eval").is_dir() and not any((out_dir / "eval").iterdir()):
        (out_dir / "eval").rmdir()  # the trainer makes it for evaluators that write files
    return peak


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


def _precision(requested: str, device: str) -> str:
    if requested != "auto":
        if requested != "fp32" and not device.startswith("cuda"):
            raise EmbedlabError(f"--precision {requested} needs a CUDA GPU (device is {device})")
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
              "dtype_bytes": 2 if setup.precision != "fp32" else 4, "device": setup.device,
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
