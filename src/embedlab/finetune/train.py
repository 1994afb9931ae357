"""`finetune()`: training rows -> sentence-transformers trainer -> checkpoints, each on the curve.

The trainer, losses and batch sampler are sentence-transformers' own (see `trainer.py`); every checkpoint is
scored by `CurveEvaluator` (the code of `embedlab eval`), and a killed run resumes from its last checkpoint and
keeps its curve (see `checkpoints.py`). A run is prepared once (data, checks, the run folder, the memory plan,
a teacher's scores), trained by one process or several (`job.py`, `distributed.py`), and finished once (best/,
the LoRA proof, the summary).
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedlab.data.output import check_output, write_json
from embedlab.data.text import text_key
from embedlab.data.training import TrainingData, load_training
from embedlab.errors import EmbedlabError, UnknownNameError, require
from embedlab.finetune import distributed
from embedlab.finetune.checkpoints import resume_or_clear, step_of, write_best
from embedlab.finetune.config import DISTILL_LOSSES, FinetuneConfig
from embedlab.finetune.examples import build_examples, token_truncator
from embedlab.finetune.health import thresholds_text
from embedlab.finetune.job import Job, Trained, load_for_training, run_job, worker
from embedlab.finetune.planning import Target, memory_plan
from embedlab.finetune.progress import progress_line
from embedlab.finetune.record import RECORD, SUMMARY, previous_run, run_record
from embedlab.finetune.shape import ModelShape
from embedlab.finetune.trainer import quiet_libraries
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


@dataclass
class Prepared:
    """A run ready to train: its job, the data it read, the memory plan, and what the summary reports of it."""

    job: Job
    data: TrainingData
    memory: dict[str, Any]
    model: Any = None  # the model loaded for training in this process (None: each process loads its own)
    facts: dict[str, Any] = field(default_factory=dict)  # teacher, LoRA, Matryoshka: summary sections
    started: float = field(default_factory=time.perf_counter)


def finetune(model: str, train: str | Path | TrainingData, out_dir: str | Path, *,
             test: str | Path | Task | None = None, retrieval: str | Path | Task | None = None,
             guard: list | tuple = (), guard_retrieval: list | tuple = (),
             config: FinetuneConfig | None = None, run: RunOptions | None = None, resume: bool = True,
             verbose: bool = False, callbacks: list | tuple = (), teacher=None) -> FinetuneRun:
    """Fine-tune `model` on `train`, scoring every checkpoint on the held-out `test` (reranking)
    and/or `retrieval` data and on optional general-domain `guard` sets (to expose forgetting).

    Writes under `out_dir`: run.json (configuration, base model, data hashes), checkpoint-N/ (loadable
    by sentence-transformers and `embedlab eval`; the best and the last `keep_checkpoints`), curve.json,
    curve.png, best/ (the best checkpoint, or the base model if nothing beat it) and summary.json. The
    same run in `out_dir` is resumed (returned if complete); another is refused unless `resume=False`.
    A run failing before training leaves no folder it created. `run.announce(str)` gets the plan and notes (the
    log by default), `run.progress` a progress line on a terminal; `verbose`: the libraries' logs and bars too.
    `config.lora`, `config.matryoshka`, `config.teacher` (or `teacher=`, a pair scorer), `config.nproc`: see
    README "Fine-tune". Started by torchrun / accelerate launch, every process calls this; rank 0 does the rest.
    """
    config, run = config or FinetuneConfig(), run or RunOptions()
    announce = run.announce or log.info
    require("sentence_transformers", "fine-tuning")
    require("datasets", "fine-tuning")
    require("accelerate", "fine-tuning with the sentence-transformers trainer")
    place, out_dir = distributed.world(), Path(out_dir)
    if not verbose:
        quiet_libraries()
    if place.size > 1:
        return _launched(model, train, out_dir, locals(), config, run, announce)
    created = not out_dir.exists()
    prepared = _prepare(model, train, out_dir, test, retrieval, guard, guard_retrieval, config, run, resume,
                        verbose, callbacks, teacher, announce)
    if isinstance(prepared, FinetuneRun):
        return prepared
    with _removed_if_untrained(out_dir, created):
        if config.nproc and config.nproc > 1:
            prepared.model = None  # each process loads its own
            trained = distributed.launch(config.nproc, worker, prepared.job)
        else:
            line = progress_line(prepared.job.curve) if run.progress else None
            say = line.announcing(announce) if line else announce
            trained = run_job(prepared.job, prepared.model, announce=say, line=line)
        _check_steps(prepared.job, trained)
    return _finish(prepared, trained, announce)


def _launched(model, train, out_dir: Path, arguments: dict, config: FinetuneConfig, run: RunOptions, announce):
    """A process of a run started by torchrun / accelerate launch: rank 0 prepares and finishes, every process
    trains the job rank 0 prepared."""
    place = distributed.world()
    distributed.start(pick_device(config.device))
    prepared = None
    if place.main:
        prepared = _prepare(model, train, out_dir, arguments["test"], arguments["retrieval"], arguments["guard"],
                            arguments["guard_retrieval"], config, run, arguments["resume"], arguments["verbose"],
                            arguments["callbacks"], arguments["teacher"], announce)
    shared = distributed.share(None if prepared is None or isinstance(prepared, FinetuneRun) else prepared.job)
    if shared is None:  # complete, or not rank 0 of a complete run
        return prepared if isinstance(prepared, FinetuneRun) else FinetuneRun.load(out_dir)
    if place.main:
        prepared.model = None  # every process loads its own, on its device
    trained = run_job(shared, announce=announce if place.main else None)
    distributed.barrier()
    if not place.main:
        return FinetuneRun(out_dir, {}, shared.curve)
    _check_steps(shared, trained)
    return _finish(prepared, trained, announce)


def _prepare(model, train, out_dir: Path, test, retrieval, guard, guard_retrieval, config: FinetuneConfig,
             run: RunOptions, resume: bool, verbose: bool, callbacks, teacher, announce) -> Prepared | FinetuneRun:
    """Everything before training: inputs read and checked, the run folder (resumed or cleared), the model
    loaded, its examples (a teacher's labels), the memory plan. Fails without leaving a folder it created."""
    data = train if isinstance(train, TrainingData) else load_training(train)
    tasks, curve = held_out(test, retrieval, guard, guard_retrieval, config)
    device, record = pick_device(config.device), run_record(model, data, curve, config)
    dtype, processes = _dtype(config.dtype, device), config.nproc or distributed.world().size
    _check_settings(config, device, processes)
    check_output(out_dir, inputs=train_inputs(model, train, test, retrieval, *guard, *guard_retrieval),
                 folder=True, overwrite=True, role="run folder")
    previous = previous_run(out_dir, record, resume=resume)
    if previous.complete:
        announce(f"{out_dir} holds this run, complete at {previous.checkpoint.name}: nothing to train "
                 "(--no-resume trains it again)")
        return FinetuneRun.load(out_dir)
    job = Job(model, out_dir, tasks, curve, config, examples=None, device=device, dtype=dtype, prompts={},
              max_length=None, mini_batch=None, verbose=verbose, callbacks=list(callbacks), processes=processes)
    loaded, facts = _load(job, data, run, teacher, announce)
    shape = ModelShape.of(loaded)
    adapter = _planned_adapter(config, shape)
    memory = memory_plan(shape, _plannable(config), Target.here(device, dtype, processes), announce,
                         adapter=adapter, label=facts.get("lora", {}).get("label"))
    job.mini_batch = None if config.teacher or teacher is not None else memory["mini_batch_size"]
    with removed_on_failure(out_dir):
        job.checkpoint = resume_or_clear(out_dir, curve, resume=resume, announce=announce)
        if job.checkpoint is None:
            write_json(out_dir / RECORD, record)
    return Prepared(job, data, memory, loaded, facts)


def _load(job: Job, data: TrainingData, run: RunOptions, teacher, announce) -> tuple[Any, dict[str, Any]]:
    """The model loaded for training (with its adapter), the examples (and a teacher's labels), the deployment
    max length; the summary's sections for LoRA / Matryoshka / teacher."""
    from embedlab.finetune.matryoshka import check_dimensions
    from embedlab.finetune.teacher import label_examples
    from embedlab.models.sentence_transformers import model_instructions

    config, facts = job.config, {}
    loaded, base_length = load_for_training(job, job.device)
    instructions = model_instructions(loaded, config.query_instruction, config.document_instruction)
    job.prompts = {k: v for k, v in instructions.items() if v}
    loaded.prompts = {**(loaded.prompts or {}), **job.prompts}
    job.max_length = config.max_length or base_length or loaded.max_seq_length
    if config.matryoshka:
        facts["matryoshka"] = check_dimensions(config.matryoshka, ModelShape.of(loaded).dimension)
    if config.lora is not None:
        facts["lora"] = _lora_facts(loaded, config)
    def build(rows: TrainingData):
        return build_examples(rows, group_size=config.group_size, seed=config.seed,
                              query_instruction=instructions["query"], document_instruction=instructions["document"],
                              truncate_query=token_truncator(loaded.tokenizer, config.query_max_length))

    job.examples = build(data)
    if config.teacher or teacher is not None:
        job.examples, facts["teacher"] = label_examples(job.examples, data, build, config, run, teacher, announce)
    return loaded, facts


def _lora_facts(loaded, config: FinetuneConfig) -> dict[str, Any]:
    from embedlab.finetune.lora import target_layers

    shape = ModelShape.of(loaded)
    targets = target_layers(config.lora, shape)
    trainable = sum(p.numel() for p in loaded.parameters() if p.requires_grad)
    return {**config.lora.as_dict(), "label": config.lora.label(len(targets)), "target_layers": targets,
            "trainable_parameters": trainable, "parameters": shape.parameters}


def _planned_adapter(config: FinetuneConfig, shape: ModelShape):
    from embedlab.finetune.lora import target_layers
    from embedlab.finetune.memory import Adapter

    if config.lora is None:
        return None
    return Adapter(config.lora.r, config.lora.dropout, frozenset(target_layers(config.lora, shape)))


def _plannable(config: FinetuneConfig) -> FinetuneConfig:
    """Distillation losses have no GradCache variant: the plan is for the plain loss."""
    if not config.teacher:
        return config
    from dataclasses import replace

    return replace(config, mini_batch_size=None)


def _check_settings(config: FinetuneConfig, device: str, processes: int) -> None:
    """Settings that cannot work, refused before anything loads."""
    distributed.check_nproc(config.nproc, device)
    if processes > 1 and config.batch_size % processes:
        raise EmbedlabError(f"--batch-size {config.batch_size} is not a multiple of the {processes} processes "
                            "(--nproc): each process takes an equal share of a step's queries")
    if config.distill_loss not in DISTILL_LOSSES:
        raise UnknownNameError("distillation loss", config.distill_loss, list(DISTILL_LOSSES))
    if config.teacher and config.mini_batch_size not in ("auto", None):
        raise EmbedlabError(f"--mini-batch-size {config.mini_batch_size}: the distillation losses (--teacher) have no "
                            "GradCache variant; lower --batch-size or add --gradient-checkpointing")
    if config.keep_adapter and config.lora is None:
        raise EmbedlabError("--keep-adapter needs --lora (a full fine-tune has no adapter)")
    if config.teacher and config.group_size < 2 and config.distill_loss == "kl":
        raise EmbedlabError("--distill-loss kl needs --group-size 2 or more (a softmax over one passage is constant)")


def _finish(prepared: Prepared, trained: Trained, announce) -> FinetuneRun:
    """best/ (the LoRA adapter merged and proven), summary.json, curve.png."""
    job = prepared.job
    curve = Curve.load(job.out_dir / "curve.json")
    curve.path = job.out_dir / "curve.json"
    best_step = curve.best()["step"]
    if job.config.lora is not None:
        from embedlab.finetune.adapters import write_merged_best

        prepared.facts["lora"].update(write_merged_best(job, best_step, prepared.facts["lora"], trained))
    else:
        write_best(job.out_dir, best_step, job.model, prepared.model, job.device, max_length=job.max_length,
                   prompts=job.prompts)
    summary = {
        **curve.summary(seed=job.config.seed), "model": job.model, **_run_facts(job, trained.steps),
        "examples": job.examples.counts, "skipped": prepared.data.skipped, "leakage": leakage(prepared.data, job.tasks),
        "loss": _loss_name(job, prepared.memory), "memory": _measured(prepared.memory, trained),
        "health": {"base": curve.points[0]["health"], "best": curve.best()["health"], "thresholds": thresholds_text()},
        **prepared.facts,
        "best_dir": "best", "config": job.config.as_dict(), "environment": environment(),
        "seconds": round(time.perf_counter() - prepared.started, 1),
    }
    if job.config.matryoshka:
        from embedlab.finetune.matryoshka import ties

        summary["matryoshka"] = {**summary["matryoshka"], **ties(curve, job.config.matryoshka, job.config.seed)}
    write_json(job.out_dir / SUMMARY, summary)
    plot(curve, job.out_dir, job.model, announce)
    return FinetuneRun(job.out_dir, summary, curve)


def _loss_name(job: Job, memory: dict[str, Any]) -> str:
    from embedlab.finetune.trainer import loss_name

    return loss_name(job.config, job.mini_batch, teacher=bool(job.examples.labels))


@contextlib.contextmanager
def removed_on_failure(out_dir: Path):
    """Creates `out_dir`; removes it again if the block fails and it did not exist before."""
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise


def _check_steps(job: Job, trained: Trained) -> None:
    """A trainer that found no batch stops at step 0 and says so in a log line: here it is an error."""
    if trained.steps == 0:
        per_process = job.config.batch_size // job.processes
        raise EmbedlabError(
            f"no training step was taken: no batch of {per_process} examples"
            + (f" per process (of {job.processes}; each takes full batches only)" if job.processes > 1 else "")
            + f" without a repeated text among {len(job.examples):,} examples of {job.config.group_size} texts each "
            "(no text appears twice in a batch); lower --batch-size or --group-size, or train on more rows")


@contextlib.contextmanager
def _removed_if_untrained(out_dir: Path, created: bool):
    """A run that fails before its first checkpoint (the trainer cannot be built, say) leaves no folder it created;
    once a checkpoint after a training step exists the folder stays, to resume from."""
    try:
        yield
    except BaseException:
        if created and not any((step_of(p) or 0) > 0 for p in out_dir.glob("checkpoint-*")):
            shutil.rmtree(out_dir, ignore_errors=True)
        raise


def train_inputs(*sources) -> list[Path]:
    """The local files and folders a run reads (a hub id or a loaded object is none)."""
    return [Path(s).expanduser() for s in sources
            if isinstance(s, (str, Path)) and Path(s).expanduser().exists()]


def _run_facts(job: Job, steps: int) -> dict[str, Any]:
    """Where and how it ran: device, dtype, steps, processes, and both lengths (trained at; saved and scored at)."""
    passage = min(job.config.passage_max_length, job.max_length or job.config.passage_max_length)
    return {"device": job.device, "dtype": job.dtype, "steps": steps, "processes": job.processes,
            "steps_per_epoch": job.steps_per_epoch, "max_length": job.max_length,
            "train_max_length": {"query": job.config.query_max_length, "passage": passage}}


def _measured(memory: dict[str, Any], trained: Trained) -> dict[str, Any]:
    return {**memory, "measured_peak_bytes": trained.peak, "measured_start_bytes": trained.start,
            "measured": trained.measured}


def plot(curve: Curve, out_dir: Path, model: str, announce) -> None:
    try:
        from embedlab.report.curve import plot_curve

        plot_curve(curve, out_dir / "curve.png", title=f"{_short(model)}: {curve.metric}")
    except EmbedlabError as exc:  # matplotlib missing: the JSON has everything
        announce(f"no curve.png: {exc}")


def _short(model: str) -> str:
    path = Path(model)
    return f"{path.parent.name}/{path.name}" if path.name in ("model", "best") else path.name


def held_out(test, retrieval, guard, guard_retrieval, config: FinetuneConfig
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


def leakage(data: TrainingData, tasks: dict[str, Task]) -> dict[str, int]:
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
