"""best/ of a LoRA run: the best checkpoint's adapter merged into the base weights (a plain model), proven to be the
model that was scored; with `--keep-adapter`, the adapter alone in adapter/ as well.

The checkpoint is loaded as a user would load it (sentence-transformers reads the base model the adapter names,
then the adapter): the adapter model; merged, it is written to best/ and read back from there. On held-out texts of
the test data, best/ as read back must give the adapter model's embeddings (to 1e-5) and the adapter model must
differ from the base model (`lora.adapter_proof`); otherwise best/ is not written.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from embedlab.data.output import atomic_folder, write_json
from embedlab.finetune.checkpoints import TRAINER_STATE_FILES, write_best
from embedlab.finetune.health import health_sample
from embedlab.finetune.job import Job, Trained
from embedlab.finetune.lora import adapter_proof, merge_adapter, plain_copy

PROOF_TEXTS = (32, 96)  # held-out queries and passages the proof embeds


def write_merged_best(job: Job, step: int, facts: dict[str, Any], trained: Trained) -> dict[str, Any]:
    """best/ (merged) and adapter/ (with keep_adapter) for the best `step`; what the summary records."""
    from embedlab.models.sentence_transformers import at_max_length, load_sentence_transformer

    if step == 0:  # nothing beat the base model: it is best/, and there is no adapter to keep
        write_best(job.out_dir, 0, job.model, None, job.device, max_length=job.max_length, prompts=job.prompts)
        return {"best": "the base model (no checkpoint beat it)", "adapter_moved": trained.adapter_moved}
    checkpoint = job.out_dir / f"checkpoint-{step}"
    adapter_model = load_sentence_transformer(str(checkpoint), job.device)
    merged = load_sentence_transformer(str(checkpoint), job.device)
    merge_adapter(merged)
    merged = plain_copy(merged, load_sentence_transformer(job.model, job.device))
    base = load_sentence_transformer(job.model, job.device)
    task = job.tasks[job.curve.task]
    queries, passages = health_sample(task, queries=PROOF_TEXTS[0], passages=PROOF_TEXTS[1])
    with atomic_folder(job.out_dir / "best") as target:
        with at_max_length(merged, job.max_length):
            merged.save(str(target))
        reloaded = load_sentence_transformer(str(target), job.device)  # as users will load it
        proof = adapter_proof(adapter_model, base, reloaded, queries + passages,
                              batch_size=job.config.eval_batch_size)
        write_json(target / "embedlab-best.json", {"step": step, "merged_adapter_of": checkpoint.name}, indent=None)
    kept = None
    if job.config.keep_adapter:
        kept = "adapter"
        with atomic_folder(job.out_dir / kept) as target:
            shutil.copytree(checkpoint, target, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(*TRAINER_STATE_FILES, "rng_state*"))
    return {"best": f"checkpoint-{step} with its adapter merged", "proof": proof, "adapter_dir": kept,
            "adapter_moved": trained.adapter_moved, "base_model": str(Path(job.model))}
