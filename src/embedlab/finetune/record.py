"""run.json: what a run folder was started with, so a resume continues that run and no other.

The record holds the configuration, the base model (path or id, and its revision or content
fingerprint) and a content hash of every data set. A resume with a different record is refused: it
would continue one run's schedule and checkpoints under another run's settings and draw both on one
curve. Settings that change how a run executes but not what it computes may differ (`RESUMABLE`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab.data.training import TrainingData
from embedlab.errors import EmbedlabError
from embedlab.finetune.checkpoints import last_checkpoint, training_finished
from embedlab.finetune.config import FinetuneConfig
from embedlab.results.curve import Curve
from embedlab.tasks.fingerprint import content_hash

RECORD = "run.json"
SUMMARY = "summary.json"
# Where and how fast a run executes, not what it computes: a crashed run may resume with other values
# (another GPU, a smaller eval batch or GradCache after running out of memory, fewer checkpoints kept
# when the disk fills). GradCache computes the plain loss's gradients (tested).
RESUMABLE = ("device", "eval_batch_size", "mini_batch_size", "gradient_checkpointing", "keep_checkpoints")
OPTION_NAMES = {"learning_rate": "lr"}


def run_record(model: str, data: TrainingData, curve: Curve, config: FinetuneConfig) -> dict[str, Any]:
    """The run's identity: configuration, base model and data hashes (written to run.json)."""
    from embedlab.models.sentence_transformers import model_revision

    local = Path(model).expanduser()
    return {
        "config": config.as_dict(),
        "model": {"spec": str(local.resolve()) if local.is_dir() else model, "revision": model_revision(model)},
        "data": {"train": training_hash(data),
                 **{label: info["data_hash"] for label, info in curve.tasks.items()}},
    }


def training_hash(data: TrainingData) -> str:
    return content_hash([[row.query, row.positives, row.negatives, row.prompt] for row in data.rows])


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two records, as `lr 1e-05 -> 2e-05`, `train data changed`, ..."""
    found = []
    old_config, new_config = old.get("config", {}), new["config"]
    if "precision" in old_config and "dtype" not in old_config:  # recorded before the setting was renamed
        old_config = {**old_config, "dtype": old_config["precision"]}
        old_config.pop("precision")
    defaults = FinetuneConfig().as_dict()  # a setting added since the old run was recorded: it had the default
    for key in new_config:
        if key not in RESUMABLE and old_config.get(key, defaults.get(key)) != new_config[key]:
            name = OPTION_NAMES.get(key, key.replace("_", "-"))
            found.append(f"{name} {old_config.get(key)} -> {new_config[key]}")
    old_model, new_model = old.get("model", {}), new["model"]
    if old_model.get("spec") != new_model["spec"]:
        found.append(f"model {old_model.get('spec')} -> {new_model['spec']}")
    elif old_model.get("revision") != new_model["revision"]:
        found.append("model files changed")
    old_data, new_data = old.get("data", {}), new["data"]
    for label in dict.fromkeys([*new_data, *old_data]):
        if label not in old_data or label not in new_data:
            found.append(f"{label} data {'added' if label in new_data else 'removed'}")
        elif old_data[label] != new_data[label]:
            found.append(f"{label} data changed")
    return found


@dataclass
class Previous:
    """What a run folder holds for a run with this record."""

    checkpoint: Path | None  # the checkpoint to resume from (None: start from the base model)
    complete: bool  # finished and summarised: nothing to train


def previous_run(out_dir: Path, record: dict[str, Any], *, resume: bool) -> Previous:
    """The same run's last checkpoint, or nothing to resume; an error if `out_dir` holds another run.

    Reads only: nothing in `out_dir` is changed here."""
    checkpoint = last_checkpoint(out_dir) if resume and out_dir.is_dir() else None
    if checkpoint is None:
        return Previous(None, False)
    options = ("start over in that folder with --no-resume (Python: resume=False; its checkpoints "
               "are deleted), or give another output folder")
    try:
        old = json.loads((out_dir / RECORD).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EmbedlabError(f"{out_dir} has checkpoints but no {RECORD} (written by an older embedlab, "
                            f"or not a fine-tuning run): its configuration cannot be checked; {options}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EmbedlabError(f"{out_dir / RECORD} is not readable JSON ({exc}); {options}") from None
    changed = differences(old, record)
    if changed:
        raise EmbedlabError(f"{out_dir} holds a run with another configuration ({'; '.join(changed)}): "
                            f"resuming would continue that run and mix both on one curve; {options}")
    return Previous(checkpoint, training_finished(checkpoint) and (out_dir / SUMMARY).is_file())
