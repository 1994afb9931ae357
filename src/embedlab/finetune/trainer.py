"""The sentence-transformers trainer, configured: loss, training arguments, callbacks.

- loss: InfoNCE over in-batch negatives plus `group_size - 1` hard negatives per query
  (MultipleNegativesRankingLoss, scale = 1 / temperature), or its GradCache variant
  CachedMultipleNegativesRankingLoss when a mini-batch is set (memory flat in the batch size);
- with a teacher's scores, MarginMSE or KL over each query's group (`teacher.py`); any of these wrapped in
  MatryoshkaLoss with `--matryoshka` (`matryoshka.py`);
- several processes: DDP, each with batch_size / N queries of a step, embeddings gathered across them;
- the NO_DUPLICATES batch sampler, so no text appears twice in a batch (no in-batch false negatives
  from repeated passages);
- evaluation and a checkpoint every `eval_every` steps and at each epoch end; checkpoints are saved at
  the deployment max length (the model trains at the shorter training lengths), and the ones neither
  best nor among the last `keep_checkpoints` are deleted;
- no log dicts or progress bars of its own (`progress.py` draws one line).
"""

from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab.finetune.checkpoints import prune_checkpoints
from embedlab.finetune.config import FinetuneConfig
from embedlab.finetune.distributed import backend
from embedlab.finetune.examples import Examples
from embedlab.results.curve import Curve


@dataclass
class Setup:
    """The model to train, on which device and in which dtype, and the examples built for it."""

    model: Any  # a SentenceTransformer
    device: str
    dtype: str  # fp32 | fp16 | bf16
    examples: Examples
    steps_per_epoch: int
    total_steps: int
    max_length: int | None = None  # deployment length: the curve's and every saved checkpoint's


def build_trainer(st, setup: Setup, evaluator, curve: Curve, config: FinetuneConfig, out_dir: Path, *,
                  mini_batch: int | None, verbose: bool, eval_on_start: bool, callbacks: list, world_size: int = 1):
    """A SentenceTransformerTrainer whose evaluator puts every checkpoint on `curve` (`world_size` processes:
    each takes its share of a step's queries)."""
    from datasets import Dataset
    from transformers import EarlyStoppingCallback
    from transformers.trainer_callback import PrinterCallback

    loss = build_loss(setup.model, config, mini_batch, teacher="label" in setup.examples.columns,
                      gather=world_size > 1)
    args = _training_arguments(st, setup, config, out_dir, metric=f"eval_{evaluator.primary_metric}",
                               eval_on_start=eval_on_start, world_size=world_size)
    callbacks = [curve_log(curve, config, out_dir), *callbacks]
    if config.early_stopping:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping))
    # sentence-transformers draws a raw tqdm bar ("Computing widget examples") while it is built
    with contextlib.nullcontext() if verbose else contextlib.redirect_stderr(io.StringIO()):
        trainer = _trainer_class(st, setup.max_length)(
            model=setup.model, args=args, train_dataset=Dataset.from_dict(setup.examples.columns), loss=loss,
            evaluator=evaluator, callbacks=callbacks)
    trainer.remove_callback(PrinterCallback)  # it prints raw log dicts, to stdout (which is for results)
    return trainer


def build_loss(model, config: FinetuneConfig, mini_batch: int | None, *, teacher: bool = False, gather: bool = False):
    """The loss of the run: InfoNCE (its GradCache variant with a mini-batch; embeddings gathered across processes
    with `gather`), or with a teacher's scores MarginMSE / KL over each query's group; wrapped in MatryoshkaLoss
    with `config.matryoshka`."""
    losses, _ = _st_modules()
    scale = 1.0 / config.temperature
    if teacher:
        from embedlab.finetune.teacher import distillation_loss

        loss = distillation_loss(losses, model, config)
    elif mini_batch:
        loss = losses.CachedMultipleNegativesRankingLoss(model, scale=scale, mini_batch_size=mini_batch,
                                                         gather_across_devices=gather)
    else:
        loss = losses.MultipleNegativesRankingLoss(model, scale=scale, gather_across_devices=gather)
    if config.matryoshka:
        from embedlab.finetune.matryoshka import loss_dimensions

        loss = losses.MatryoshkaLoss(model, loss, matryoshka_dims=loss_dimensions(config.matryoshka, model))
    return loss


def loss_name(config: FinetuneConfig, mini_batch: int | None, *, teacher: bool) -> str:
    """The loss `build_loss` builds, by the names of sentence-transformers' classes."""
    if teacher:
        name = "MarginMSELoss" if config.distill_loss == "margin-mse" else "DistillKLDivLoss"
    else:
        name = "CachedMultipleNegativesRankingLoss" if mini_batch else "MultipleNegativesRankingLoss"
    return f"MatryoshkaLoss({name}, dims {','.join(map(str, config.matryoshka))})" if config.matryoshka else name


def _trainer_class(st, max_length: int | None):
    """The trainer, saving and evaluating every checkpoint at the deployment max length instead of the training one."""
    from embedlab.models.sentence_transformers import at_max_length

    class Trainer(st.SentenceTransformerTrainer):
        def save_model(self, output_dir=None, _internal_call=False):
            with at_max_length(self.model, max_length):
                super().save_model(output_dir, _internal_call)

        def evaluate(self, *args, **kwargs):  # every process: they share the encoding of several
            with at_max_length(self.model, max_length):
                return super().evaluate(*args, **kwargs)

    return Trainer


def _training_arguments(st, setup: Setup, config: FinetuneConfig, out_dir: Path, *, metric: str,
                        eval_on_start: bool, world_size: int = 1):
    _, batch_samplers = _st_modules()
    strategy = "steps" if config.eval_every else "epoch"
    log_every = config.eval_every or math.ceil(setup.total_steps / max(config.epochs, 1))
    return st.SentenceTransformerTrainingArguments(
        output_dir=str(out_dir),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps or -1,
        per_device_train_batch_size=config.batch_size // world_size,
        learning_rate=config.learning_rate,
        warmup_steps=int(config.warmup_ratio * setup.total_steps),
        weight_decay=config.weight_decay,
        seed=config.seed,
        data_seed=config.seed,
        fp16=setup.dtype == "fp16",
        bf16=setup.dtype == "bf16",
        use_cpu=setup.device == "cpu",
        **({"ddp_backend": backend(setup.device), "dataloader_drop_last": True} if world_size > 1 else {}),
        **_checkpointing_argument(st, config.gradient_checkpointing),
        batch_sampler=batch_samplers.NO_DUPLICATES,
        eval_strategy=strategy,
        save_strategy=strategy,
        eval_steps=config.eval_every,
        save_steps=config.eval_every,
        eval_on_start=eval_on_start,
        load_best_model_at_end=True,
        metric_for_best_model=metric,
        greater_is_better=True,
        save_total_limit=None,  # CurveLog prunes: the trainer's own limit of 1 deletes the last one at the end
        logging_steps=max(1, log_every // 4),
        report_to="none",
        disable_tqdm=True,  # its bar prints every log dict
    )


def curve_log(curve: Curve, config: FinetuneConfig, out_dir: Path):
    from transformers import TrainerCallback

    class CurveLog(TrainerCallback):
        """Train loss onto the curve; an evaluation + checkpoint at each epoch end as well; only the
        best and the last `keep_checkpoints` checkpoints on disk."""

        def __init__(self) -> None:
            # steps evaluated, as every process saw them: only rank 0's curve gets points, and processes that
            # disagree on evaluating a step wait on each other forever
            self.evaluated: set[int] = {p["step"] for p in curve.points}

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                curve.loss = [p for p in curve.loss if p["step"] != state.global_step]
                curve.loss.append({"step": state.global_step, "loss": float(logs["loss"])})

        def on_evaluate(self, args, state, control, **kwargs):
            self.evaluated.add(state.global_step)

        def on_epoch_end(self, args, state, control, **kwargs):
            evaluated = state.global_step in self.evaluated  # e.g. at max_steps, where the trainer evaluates
            if config.eval_every and state.global_step % config.eval_every and not evaluated:
                control.should_evaluate = control.should_save = True

        def on_save(self, args, state, control, **kwargs):
            if not state.is_world_process_zero:
                return
            best = {curve.best()["step"]} if curve.points else set()
            prune_checkpoints(out_dir, config.keep_checkpoints, best | {state.global_step})
            if state.best_model_checkpoint and not Path(state.best_model_checkpoint).is_dir():
                state.best_model_checkpoint = None  # the curve's best is the base model: nothing to load

    return CurveLog()


def _checkpointing_argument(st, enabled: bool) -> dict[str, bool]:
    """transformers >= 5 renamed gradient_checkpointing to activation_checkpointing."""
    if not enabled:
        return {}
    import inspect

    names = inspect.signature(st.SentenceTransformerTrainingArguments.__init__).parameters
    return {"activation_checkpointing" if "activation_checkpointing" in names
            else "gradient_checkpointing": True}


def quiet_libraries() -> None:
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
