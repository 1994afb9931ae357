"""`finetune --cross-encoder`: a reranker trained offline, with the same curve as an embedding fine-tune.

The model (`-m`: a cross-encoder to train further, or any transformers encoder, e.g. the bundled MiniLM, which
gets a fresh one-label head) learns (query, passage) -> relevant with sentence-transformers' CrossEncoderTrainer
and binary cross-entropy: each positive labelled 1 and up to `group_size - 1` of its row's negatives labelled 0
(a seeded sample). Step 0 and every checkpoint are scored on `--test` rows with the code `embedlab eval
--reranker` scores a cross-encoder with (`models.cross_encoder`, the pair store, `PairScoring`); best/ is the
best checkpoint (or the base model), usable as `eval --reranker runs/x/best` and as a distillation teacher
(`finetune --teacher ce:runs/x/best`). Resume, the run record and the output rules are the embedding run's.
"""

from __future__ import annotations

import logging
import math
import random
import time
from pathlib import Path

from embedlab.data.output import check_output, write_json
from embedlab.data.training import TrainingData, load_training
from embedlab.embedding.pairs import PairStore
from embedlab.errors import EmbedlabError, require
from embedlab.finetune.checkpoints import resume_or_clear, step_of, write_best
from embedlab.finetune.config import FinetuneConfig
from embedlab.finetune.job import Trained, train_until_done
from embedlab.finetune.record import RECORD, SUMMARY, previous_run, run_record
from embedlab.finetune.train import FinetuneRun, held_out, leakage, plot, removed_on_failure, train_inputs
from embedlab.finetune.trainer import quiet_libraries
from embedlab.models.base import ModelOptions
from embedlab.results.curve import Curve
from embedlab.run.context import environment
from embedlab.run.options import RunOptions
from embedlab.scorers.kinds import PairScoring

require("sentence_transformers", "fine-tuning")
try:
    from sentence_transformers.base.evaluation.evaluator import BaseEvaluator
except ImportError:  # pragma: no cover - sentence-transformers < 6
    from sentence_transformers.evaluation import SentenceEvaluator as BaseEvaluator


def pairs(data: TrainingData, negatives: int, seed: int) -> dict[str, list]:
    """(query, passage, label) columns: each positive 1, up to `negatives` of its row's negatives 0 (seeded)."""
    rng = random.Random(seed)
    columns: dict[str, list] = {"query": [], "passage": [], "label": []}
    for row in data.rows:
        for positive in row.positives:
            chosen = [(positive, 1.0)] + [(text, 0.0) for text in
                                          rng.sample(row.negatives, min(negatives, len(row.negatives)))]
            for text, label in chosen:
                columns["query"].append(row.query)
                columns["passage"].append(text)
                columns["label"].append(label)
    return columns


class RerankerCurve(BaseEvaluator):
    """Scores the cross-encoder being trained on the held-out reranking rows, as `eval --reranker` does."""

    def __init__(self, tasks: dict, curve: Curve, *, batch_size: int, announce=None) -> None:
        super().__init__()
        self.tasks, self.curve, self.batch_size, self.announce = tasks, curve, batch_size, announce
        self.primary_metric = f"{curve.task}_{curve.metric_name}"
        self.greater_is_better = True

    def __call__(self, model, output_path=None, epoch: float = -1, steps: int = -1) -> dict[str, float]:
        from embedlab.models.cross_encoder import CrossEncoderScorer

        step = max(int(steps), 0)
        scorer = CrossEncoderScorer.from_model(model, ModelOptions(batch_size=self.batch_size), name=f"step {step}")
        store = PairStore(scorer, batch_size=self.batch_size, progress=False)
        results = {label: PairScoring(store).score(task) for label, task in self.tasks.items()}
        point = {"step": step, "epoch": round(float(epoch), 4) if epoch is not None and epoch >= 0 else 0.0,
                 "scores": {label: r.scores for label, r in results.items()},
                 "per_query": {label: r.per_query[self.curve.tasks[label]["main"]] for label, r in results.items()},
                 "warnings": [], "score_seconds": round(store.stats.seconds, 3)}
        self.curve.add(point)
        if self.announce is not None:
            value, base = self.curve.value(point), self.curve.value(self.curve.points[0])
            loss = [p["loss"] for p in self.curve.loss if 0 < p["step"] <= step][-1:]
            self.announce(f"step {step}: {self.curve.metric} {value:.4f} ({value - base:+.4f} vs base)"
                          + "".join(f"; train loss {x:.4f}" for x in loss))
        return {f"{label}_{name}": value for label, r in results.items() for name, value in r.scores.items()}


def finetune_cross_encoder(model: str, train: str | Path | TrainingData, out_dir: str | Path, *, test=None,
                           config: FinetuneConfig | None = None, run: RunOptions | None = None, resume: bool = True,
                           verbose: bool = False, callbacks: list | tuple = ()) -> FinetuneRun:
    """Train `model` as a cross-encoder on `train` (reranking rows), every checkpoint scored on `test` rows;
    writes the run folder as `finetune` does (best/ is a CrossEncoder)."""
    config, run = config or FinetuneConfig(), run or RunOptions()
    announce = run.announce or print
    st = require("sentence_transformers", "training a cross-encoder")
    require("datasets", "fine-tuning")
    out_dir, started = Path(out_dir), time.perf_counter()
    if not verbose:
        quiet_libraries()
    data = train if isinstance(train, TrainingData) else load_training(train)
    tasks, curve = held_out(test, None, (), (), config)
    from embedlab.models.sentence_transformers import pick_device

    device, record = pick_device(config.device), run_record(model, data, curve, config)
    check_output(out_dir, inputs=train_inputs(model, train, test), folder=True, overwrite=True, role="run folder")
    previous = previous_run(out_dir, record, resume=resume)
    if previous.complete:
        announce(f"{out_dir} holds this run, complete at {previous.checkpoint.name}: nothing to train "
                 "(--no-resume trains it again)")
        return FinetuneRun.load(out_dir)
    cross = _load(st, model, device, config)
    if cross.config.architectures and not any(a.endswith("ForSequenceClassification") for a in cross.config.architectures):
        announce(f"note: {model} has no scoring head: a fresh one-label head (seed {config.seed}) is trained on it")
    with removed_on_failure(out_dir):
        checkpoint = resume_or_clear(out_dir, curve, resume=resume, announce=announce)
        if checkpoint is None:
            write_json(out_dir / RECORD, record)
        trainer = _trainer(st, cross, data, tasks, curve, config, out_dir, device, announce, callbacks, checkpoint)
    trained: Trained = train_until_done(trainer, checkpoint, device, out_dir, None)
    curve.save()
    _write_best(out_dir, curve.best()["step"], st, model, device, config)
    summary = {**curve.summary(seed=config.seed), "model": model, "kind": "cross-encoder", "device": device,
               "steps": trained.steps, "pairs": len(trainer.train_dataset), "skipped": data.skipped,
               "leakage": leakage(data, tasks), "loss": "BinaryCrossEntropyLoss", "max_length": cross.max_length,
               "memory": {"measured_peak_bytes": trained.peak, "measured_start_bytes": trained.start,
                          "measured": trained.measured}, "best_dir": "best", "config": config.as_dict(),
               "environment": environment(), "seconds": round(time.perf_counter() - started, 1)}
    write_json(out_dir / SUMMARY, summary)
    plot(curve, out_dir, model, announce)
    return FinetuneRun(out_dir, summary, curve)


def _load(st, spec: str, device: str, config: FinetuneConfig):
    """A CrossEncoder with one label (a fresh head, seeded, on a model that has none), at the max length it is
    trained, scored and saved at (`--max-length`, else the model's own)."""
    import torch

    from embedlab.models.cross_encoder import load_cross_encoder

    torch.manual_seed(config.seed)  # the same fresh head each time: best/ of a run whose step 0 stays best
    if Path(spec).expanduser().is_dir() and not (Path(spec).expanduser() / "config.json").exists() and \
            not (Path(spec).expanduser() / "modules.json").exists():
        raise EmbedlabError(f"cannot load '{spec}': no model files (config.json) in that folder")
    logger = logging.getLogger("sentence_transformers.base.model")  # "Converting ... to CrossEncoder": said once
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        cross = st.CrossEncoder(str(Path(spec).expanduser()) if Path(spec).expanduser().exists() else spec,
                                num_labels=1, max_length=config.max_length, device=device)
    except (OSError, ValueError):
        cross = load_cross_encoder(spec, device, config.max_length)  # raises the one-line ModelError
    finally:
        logger.setLevel(level)
    if cross.num_labels != 1:
        raise EmbedlabError(f"'{spec}' is a classifier of {cross.num_labels} labels; a reranker gives one score")
    return cross


def _write_best(out_dir: Path, step: int, st, spec: str, device: str, config: FinetuneConfig) -> None:
    """best/: a copy of the best checkpoint, or the base model with its fresh head when nothing beat it."""
    if step > 0:
        write_best(out_dir, step, spec, None, device)
        return
    from embedlab.data.output import atomic_folder

    with atomic_folder(out_dir / "best") as target:
        _load(st, spec, device, config).save(str(target))
        write_json(target / "embedlab-best.json", {"step": 0}, indent=None)


def _steps(data: TrainingData, config: FinetuneConfig) -> int:
    if config.max_steps:
        return config.max_steps
    examples = len(pairs(data, config.group_size - 1, config.seed)["label"])
    return math.ceil(math.ceil(examples / config.batch_size) * config.epochs)


def _trainer(st, cross, data, tasks, curve, config: FinetuneConfig, out_dir: Path, device: str, announce, callbacks,
             checkpoint):
    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
    from transformers import EarlyStoppingCallback
    from transformers.trainer_callback import PrinterCallback

    from embedlab.finetune.trainer import curve_log

    strategy = "steps" if config.eval_every else "epoch"
    args = CrossEncoderTrainingArguments(
        output_dir=str(out_dir), num_train_epochs=config.epochs, max_steps=config.max_steps or -1,
        per_device_train_batch_size=config.batch_size, learning_rate=config.learning_rate,
        warmup_steps=int(config.warmup_ratio * _steps(data, config)), weight_decay=config.weight_decay,
        seed=config.seed, data_seed=config.seed,
        use_cpu=device == "cpu", eval_strategy=strategy, save_strategy=strategy, eval_steps=config.eval_every,
        save_steps=config.eval_every, eval_on_start=not any(p["step"] == 0 for p in curve.points),
        load_best_model_at_end=True, metric_for_best_model=f"eval_{curve.task}_{curve.metric_name}",
        greater_is_better=True, save_total_limit=None, logging_steps=max(1, (config.eval_every or 4) // 4),
        report_to="none", disable_tqdm=True)
    evaluator = RerankerCurve(tasks, curve, batch_size=config.eval_batch_size, announce=announce)
    extra = [curve_log(curve, config, out_dir), *callbacks]
    if config.early_stopping:
        extra.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping))
    trainer = CrossEncoderTrainer(model=cross, args=args, loss=BinaryCrossEntropyLoss(cross),
                                  train_dataset=Dataset.from_dict(pairs(data, config.group_size - 1, config.seed)),
                                  evaluator=evaluator, callbacks=extra)
    trainer.remove_callback(PrinterCallback)
    if checkpoint is not None and step_of(checkpoint) is None:
        raise EmbedlabError(f"{checkpoint} is not a finished checkpoint")
    return trainer
