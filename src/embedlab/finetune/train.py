"""`finetune()`: training rows -> sentence-transformers trainer -> checkpoints, each on the curve.

The trainer, losses and batch sampler are sentence-transformers' own:
- loss: InfoNCE over in-batch negatives plus `group_size - 1` hard negatives per query
  (MultipleNegativesRankingLoss, scale = 1 / temperature), or its GradCache variant
  CachedMultipleNegativesRankingLoss when a mini-batch is set (memory flat in the batch size);
- the NO_DUPLICATES batch sampler, so no text appears twice in a batch (no in-batch false negatives
  from repeated passages);
- checkpoints every `eval_every` steps and at epoch ends, each scored by `CurveEvaluator` (the code
  of `embedlab eval`); a killed run resumes from its last checkpoint and keeps its curve.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab.data.text import text_key
from embedlab.data.training import TrainingData, load_training
from embedlab.errors import EmbedlabError, require
from embedlab.evaluation import environment, load_tasks
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
from embedlab.models.base import ModelOptions
from embedlab.results.curve import Curve
from embedlab.tasks.types import Task, score_names, task_type

log = logging.getLogger(__name__)
TRAINER_STATE_FILES = ("optimizer.pt", "scheduler.pt", "trainer_state.json", "training_args.bin",
                       "scaler.pt")


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
    st = require("sentence_transformers", "fine-tuning")
    require("datasets", "fine-tuning")
    require("accelerate", "fine-tuning with the sentence-transformers trainer")
    from embedlab.models.sentence_transformers import (
        load_sentence_transformer,
        model_instructions,
        pick_device,
    )

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not progress:
        _quiet_libraries()
    started = time.perf_counter()
    data = train if isinstance(train, TrainingData) else load_training(train)
    tasks, curve = _held_out(test, retrieval, guard, guard_retrieval, config)
    device = pick_device(config.device)
    st_model = load_sentence_transformer(model, device)
    st_model.max_seq_length = min(config.passage_max_length,
                                  st_model.max_seq_length or config.passage_max_length)
    instructions = model_instructions(st_model, config.query_instruction, config.document_instruction)
    st_model.prompts = {**(st_model.prompts or {}), **{k: v for k, v in instructions.items() if v}}

    examples = build_examples(data, group_size=config.group_size, seed=config.seed,
                              query_instruction=instructions["query"],
                              document_instruction=instructions["document"],
                              truncate_query=token_truncator(st_model.tokenizer, config.query_max_length))
    leakage = _leakage(data, tasks)
    steps_per_epoch = math.ceil(len(examples) / config.batch_size)
    total_steps = config.max_steps or math.ceil(steps_per_epoch * config.epochs)

    precision = _precision(config.precision, device)
    shape = ModelShape.of(st_model)
    memory = _memory_plan(shape, config, device, dtype_bytes=2 if precision != "fp32" else 4)
    announce(memory["text"])
    if not memory["chosen"]["fits"]:
        announce("warning: the estimate is above the free memory; lower --batch-size or set "
                 "--mini-batch-size (the estimate assumes every text at max length)")

    curve.path = out_dir / "curve.json"
    checkpoint = _last_checkpoint(out_dir) if resume else None
    if checkpoint is not None and curve.path.exists():
        previous = Curve.load(curve.path)
        if previous.metric == curve.metric:
            step = _step_of(checkpoint)
            curve.points = [p for p in previous.points if p["step"] <= step]
            curve.loss = [p for p in previous.loss if p["step"] <= step]
        announce(f"resuming from {checkpoint.name} ({len(curve.points)} curve points kept)")
    elif checkpoint is None:
        _clear_previous_run(out_dir)

    evaluator = CurveEvaluator(tasks, curve, options=ModelOptions(batch_size=config.eval_batch_size,
                                                                  device=device),
                               batch_size=config.eval_batch_size, announce=announce)
    trainer = _trainer(st, st_model, examples, evaluator, curve, config, out_dir, device, precision,
                       memory["chosen"]["mini_batch_size"], total_steps, progress,
                       eval_on_start=not any(p["step"] == 0 for p in curve.points),
                       extra_callbacks=list(callbacks))
    with PeakMemory(device) as peak:
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    curve.save()
    if (out_dir / "eval").is_dir() and not any((out_dir / "eval").iterdir()):
        (out_dir / "eval").rmdir()  # the trainer makes it for evaluators that write files

    best = curve.best()
    _write_best(out_dir, best["step"], model, trainer.model, device)
    summary = {
        **curve.summary(seed=config.seed),
        "model": model, "device": device, "precision": precision,
        "steps": trainer.state.global_step, "steps_per_epoch": steps_per_epoch,
        "examples": examples.counts, "skipped": data.skipped, "leakage": leakage,
        "loss": memory["chosen"]["loss"],
        "memory": {**memory, "measured_peak_bytes": peak.peak, "measured_start_bytes": peak.start,
                   "measured": "CUDA max allocated" if device.startswith("cuda")
                   else "process RSS (sampled every 20 ms)"},
        "best_dir": "best",
        "config": config.as_dict(), "environment": environment(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n",
                                          encoding="utf-8")
    try:
        from embedlab.report.curve import plot_curve

        plot_curve(curve, out_dir / "curve.png", title=f"{_short(model)}: {curve.metric}")
    except EmbedlabError as exc:  # matplotlib missing: the JSON has everything
        announce(f"no curve.png: {exc}")
    return FinetuneRun(out_dir, summary, curve)


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
        from embedlab.errors import UnknownNameError

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


def _memory_plan(shape: ModelShape, config: FinetuneConfig, device: str, *, dtype_bytes: int
                 ) -> dict[str, Any]:
    """The chosen configuration's estimate, and the alternatives (GradCache / checkpointing on or off)."""
    available = available_memory(device)
    common = {"batch_size": config.batch_size, "group_size": config.group_size,
              "query_length": config.query_max_length, "passage_length": config.passage_max_length,
              "dtype_bytes": dtype_bytes, "device": device, "available": available}

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
    return {
        **{name: p.as_dict() for name, p in alternatives.items()},
        "chosen": {**chosen.as_dict(), "loss": "CachedMultipleNegativesRankingLoss" if mini
                   else "MultipleNegativesRankingLoss"},
        "text": f"memory plan (estimate): {chosen.describe()}\n"
                f"  alternatives (GiB, GradCache mini-batch {other_mini}): {others}",
        "estimate": "planner estimate (texts at max length), not a measurement",
    }


def _trainer(st, model, examples, evaluator, curve: Curve, config: FinetuneConfig, out_dir: Path,
             device: str, precision: str, mini_batch: int | None, total_steps: int, progress: bool,
             *, eval_on_start: bool, extra_callbacks: list):
    from datasets import Dataset
    from transformers import EarlyStoppingCallback, TrainerCallback
    from transformers.trainer_callback import PrinterCallback

    losses, batch_samplers = _st_modules()
    scale = 1.0 / config.temperature
    loss = (losses.CachedMultipleNegativesRankingLoss(model, scale=scale, mini_batch_size=mini_batch)
            if mini_batch else losses.MultipleNegativesRankingLoss(model, scale=scale))
    strategy = "steps" if config.eval_every else "epoch"
    args = st.SentenceTransformerTrainingArguments(
        output_dir=str(out_dir),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps or -1,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=int(config.warmup_ratio * total_steps),
        weight_decay=config.weight_decay,
        seed=config.seed,
        data_seed=config.seed,
        fp16=precision == "fp16",
        bf16=precision == "bf16",
        use_cpu=device == "cpu",
        **_checkpointing_argument(st, config.gradient_checkpointing),
        batch_sampler=batch_samplers.NO_DUPLICATES,
        eval_strategy=strategy,
        save_strategy=strategy,
        eval_steps=config.eval_every,
        save_steps=config.eval_every,
        eval_on_start=eval_on_start,
        load_best_model_at_end=True,
        metric_for_best_model=f"eval_{evaluator.primary_metric}",
        greater_is_better=True,
        save_total_limit=config.keep_checkpoints,
        logging_steps=max(1, (config.eval_every or math.ceil(total_steps / max(config.epochs, 1))) // 4),
        report_to="none",
        disable_tqdm=not progress,
    )

    class CurveLog(TrainerCallback):
        """Train loss onto the curve; an evaluation + checkpoint at each epoch end as well."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                curve.loss = [p for p in curve.loss if p["step"] != state.global_step]
                curve.loss.append({"step": state.global_step, "loss": float(logs["loss"])})

        def on_epoch_end(self, args, state, control, **kwargs):
            if config.eval_every and state.global_step % config.eval_every:  # not already done
                control.should_evaluate = control.should_save = True

    callbacks = [CurveLog(), *extra_callbacks]
    if config.early_stopping:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping))
    trainer = st.SentenceTransformerTrainer(
        model=model, args=args, train_dataset=Dataset.from_dict(examples.columns), loss=loss,
        evaluator=evaluator, callbacks=callbacks)
    trainer.remove_callback(PrinterCallback)  # it prints logs to stdout, which is for results
    return trainer


def _checkpointing_argument(st, enabled: bool) -> dict[str, bool]:
    """transformers >= 5 renamed gradient_checkpointing to activation_checkpointing."""
    if not enabled:
        return {}
    import inspect

    names = inspect.signature(st.SentenceTransformerTrainingArguments.__init__).parameters
    return {"activation_checkpointing" if "activation_checkpointing" in names
            else "gradient_checkpointing": True}


def _quiet_libraries() -> None:
    """No progress bars or info chatter from transformers / datasets / hub (errors still show)."""
    import datasets
    import huggingface_hub
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()
    huggingface_hub.utils.disable_progress_bars()


def _st_modules():
    """Losses and batch samplers (sentence-transformers >= 6 moved them; older paths still work)."""
    try:
        from sentence_transformers.sentence_transformer import losses
        from sentence_transformers.sentence_transformer.training_args import (
            BatchSamplers,
        )
    except ImportError:
        from sentence_transformers import losses
        from sentence_transformers.training_args import BatchSamplers
    return losses, BatchSamplers


def _step_of(checkpoint: Path) -> int | None:
    """The step of a `checkpoint-N` folder the trainer wrote, else None."""
    number = checkpoint.name.removeprefix("checkpoint-")
    return int(number) if number.isdigit() and (checkpoint / "trainer_state.json").exists() else None


def _last_checkpoint(out_dir: Path) -> Path | None:
    checkpoints = [p for p in out_dir.glob("checkpoint-*") if p.is_dir() and _step_of(p) is not None]
    return max(checkpoints, key=_step_of, default=None)


def _clear_previous_run(out_dir: Path) -> None:
    for name in ("curve.json", "curve.png", "summary.json"):
        (out_dir / name).unlink(missing_ok=True)
    shutil.rmtree(out_dir / "best", ignore_errors=True)


def _write_best(out_dir: Path, step: int, spec: str, trained_model, device: str) -> None:
    """best/: a copy of the best checkpoint's model files (no optimizer state), or the base model."""
    target = out_dir / "best"
    shutil.rmtree(target, ignore_errors=True)
    source = out_dir / f"checkpoint-{step}"
    if step > 0 and source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(*TRAINER_STATE_FILES, "rng_state*"))
    elif step == 0:
        from embedlab.models.sentence_transformers import load_sentence_transformer

        base = load_sentence_transformer(spec, device)
        base.max_seq_length, base.prompts = trained_model.max_seq_length, trained_model.prompts
        base.save(str(target))
    else:  # pruned by --keep-checkpoints: the trainer has loaded the best weights at the end
        trained_model.save(str(target))
    (target / "embedlab-best.json").write_text(json.dumps({"step": step}) + "\n", encoding="utf-8")
