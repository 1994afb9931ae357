"""Fine-tuning settings as one dataclass (defaults follow FlagEmbedding's bge fine-tuning recipe)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from embedlab.finetune.lora import LoraSpec

DISTILL_LOSSES = ("margin-mse", "kl")


@dataclass
class FinetuneConfig:
    epochs: float = 1.0
    max_steps: int | None = None  # overrides epochs when set
    batch_size: int = 32  # queries per optimizer step, over all processes (the in-batch negative pool)
    mini_batch_size: int | str | None = "auto"  # GradCache chunk; "auto" = only when plain does not fit
    group_size: int = 8  # 1 positive + group_size - 1 hard negatives per query
    temperature: float = 0.02
    learning_rate: float = 1e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    query_max_length: int = 32
    passage_max_length: int = 128  # training lengths; checkpoints keep the deployment length below
    max_length: int | None = None  # saved into checkpoints and used by the curve (None = the base model's)
    query_instruction: str | None = None
    document_instruction: str | None = None
    seed: int = 0
    dtype: str = "auto"  # training dtype: auto | fp32 | fp16 | bf16 (auto: bf16/fp16 on CUDA, fp32 on CPU)
    gradient_checkpointing: bool = False
    eval_every: int | None = None  # steps; None = once per epoch
    keep_checkpoints: int | None = 1  # the last N checkpoints, plus the best; None = keep all
    early_stopping: int | None = None  # stop after N evaluations without improvement
    metric: str | None = None  # curve metric (default: the test task's main score)
    eval_batch_size: int = 64
    device: str | None = None
    lora: LoraSpec | None = None  # train a LoRA adapter (best/ is merged into the base weights)
    keep_adapter: bool = False  # also keep the best adapter alone (adapter/)
    matryoshka: tuple[int, ...] | None = None  # MatryoshkaLoss over these widths; each scored at every checkpoint
    teacher: str | None = None  # distil a reranker's scores: ce:PATH, rerank:<model>, qianfan-rerank:<model>
    distill_loss: str = "margin-mse"  # or kl (see DISTILL_LOSSES)
    relative_margin: float = 0.05  # a negative the teacher scores above positive - |positive| * margin is dropped
    nproc: int | None = None  # processes of a data-parallel run (None or 1: this one)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values (a tuple as a list), as run.json records them."""
        return json.loads(json.dumps(asdict(self)))
