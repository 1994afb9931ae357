"""The sentence-transformers trainer, configured: loss, training arguments, callbacks.

- loss: InfoNCE over in-batch negatives plus `group_size - 1` hard negatives per query
  (MultipleNegativesRankingLoss, scale = 1 / temperature), or its GradCache variant
  CachedMultipleNegativesRankingLoss when a mini-batch is set (memory flat in the batch size);
- the NO_DUPLICATES batch sampler, so no text appears twice in a batch (no in-batch false negatives
  from repeated passages);
- evaluation and a checkpoint every `eval_every` steps and at each epoch end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab.finetune.config import FinetuneConfig
from embedlab.finetune.examples import Examples
from embedlab.results.curve import Curve


@dataclass
class Setup:
    """The model to train, on which device and precision, and the examples built for it."""

    model: Any  # a SentenceTransformer
    device: str
    precision: str  # fp32 | fp16 | bf16
    examples: Examples
    steps_per_epoch: int
    total_steps: int


def build_trainer(st, setup: Setup, evaluator, curve: Curve, config: FinetuneConfig, out_dir: Path, *,
                  mini_batch: int | None, progress: bool, eval_on_start: bool, callbacks: list):
    """A SentenceTransformerTrainer whose evaluator puts every checkpoint on `curve`."""
    from datasets import Dataset
    from transformers import EarlyStoppingCallback
    from transformers.trainer_callback import PrinterCallback

    losses, _ = _st_modules()
    scale = 1.0 / config.temperature
    loss = (losses.CachedMultipleNegativesRankingLoss(setup.model, scale=scale, mini_batch_size=mini_batch)
            if mini_batch else losses.MultipleNegativesRankingLoss(setup.model, scale=scale))
    args = _training_arguments(st, setup, config, out_dir, metric=f"eval_{evaluator.primary_metric}",
                               progress=progress, eval_on_start=eval_on_start)
    callbacks = [_curve_log(curve, config), *callbacks]
    if config.early_stopping:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping))
    trainer = st.SentenceTransformerTrainer(
        model=setup.model, args=args, train_dataset=Dataset.from_dict(setup.examples.columns), loss=loss,
        evaluator=evaluator, callbacks=callbacks)
    trainer.remove_callback(PrinterCallback)  # it prints logs to stdout, which is for results
    return trainer


def _training_arguments(st, setup: Setup, config: FinetuneConfig, out_dir: Path, *, metric: str,
                        progress: bool, eval_on_start: bool):
    _, batch_samplers = _st_modules()
    strategy = "steps" if config.eval_every else "epoch"
    log_every = config.eval_every or math.ceil(setup.total_steps / max(config.epochs, 1))
    return st.SentenceTransformerTrainingArguments(
        output_dir=str(out_dir),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps or -1,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=int(config.warmup_ratio * setup.total_steps),
        weight_decay=config.weight_decay,
        seed=config.seed,
        data_seed=config.seed,
        fp16=setup.precision == "fp16",
        bf16=setup.precision == "bf16",
        use_cpu=setup.device == "cpu",
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
        save_total_limit=config.keep_checkpoints,
        logging_steps=max(1, log_every // 4),
        report_to="none",
        disable_tqdm=not progress,
    )


def _curve_log(curve: Curve, config: FinetuneConfig):
    from transformers import TrainerCallback

    class CurveLog(TrainerCallback):
        """Train loss onto the curve; an evaluation + checkpoint at each epoch end as well."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                curve.loss = [p for p in curve.loss if p["step"] != state.global_step]
                curve.loss.append({"step": state.global_step, "loss": float(logs["loss"])})

        def on_epoch_end(self, args, state, control, **kwargs):
            if config.eval_every and state.global_step % config.eval_every:  # not already done
                control.should_evaluate = control.should_save = True

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
