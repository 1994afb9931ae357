"""The run folder across runs: resume from the last checkpoint (keeping its curve), or start clean; best/.

A killed run resumes from its last `checkpoint-N` the trainer finished writing, and keeps the curve
points up to that step (the later ones are measured again). Checkpoints other than the best and the
last few are deleted as training goes (the curve keeps every point). best/ is written atomically: a
copy of the best checkpoint's model files (no optimizer state), or the base model if nothing beat it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from embedlab.data.output import atomic_folder, write_json
from embedlab.results.curve import Curve

TRAINER_STATE_FILES = ("optimizer.pt", "scheduler.pt", "trainer_state.json", "training_args.bin",
                       "scaler.pt")
RUN_FILES = ("curve.json", "curve.png", "summary.json")


def step_of(checkpoint: Path) -> int | None:
    """The step of a `checkpoint-N` folder the trainer wrote, else None."""
    number = checkpoint.name.removeprefix("checkpoint-")
    return int(number) if number.isdigit() and (checkpoint / "trainer_state.json").exists() else None


def last_checkpoint(out_dir: Path) -> Path | None:
    checkpoints = [p for p in out_dir.glob("checkpoint-*") if p.is_dir() and step_of(p) is not None]
    return max(checkpoints, key=step_of, default=None)


def training_finished(checkpoint: Path) -> bool:
    """The trainer stopped at this checkpoint (its last step, or early stopping): resuming from it
    would train past the end."""
    state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
    control = state.get("stateful_callbacks", {}).get("TrainerControl", {}).get("args", {})
    return state.get("global_step", 0) >= state.get("max_steps", 0) > 0 or bool(control.get("should_training_stop"))


def prune_checkpoints(out_dir: Path, keep_last: int | None, keep_steps) -> list[int]:
    """Delete the complete checkpoints that are neither among the last `keep_last` (None = all) nor at
    one of `keep_steps`; the steps deleted."""
    if keep_last is None:
        return []
    steps = sorted(step for p in out_dir.glob("checkpoint-*") if p.is_dir() and (step := step_of(p)) is not None)
    doomed = [step for step in steps[:-keep_last] if step not in set(keep_steps)]
    for step in doomed:
        shutil.rmtree(out_dir / f"checkpoint-{step}", ignore_errors=True)
    return doomed


def resume_or_clear(out_dir: Path, curve: Curve, *, resume: bool, announce) -> Path | None:
    """The checkpoint to resume from (its curve points kept on `curve`), or None after clearing a
    previous run's outputs and checkpoints. `curve` is saved to out_dir/curve.json from now on."""
    curve.path = out_dir / "curve.json"
    checkpoint = last_checkpoint(out_dir) if resume else None
    if checkpoint is None:
        for name in RUN_FILES:
            (out_dir / name).unlink(missing_ok=True)
        shutil.rmtree(out_dir / "best", ignore_errors=True)
        for stale in out_dir.glob("checkpoint-*"):  # another run's: a later resume must not find them
            shutil.rmtree(stale, ignore_errors=True)
    elif curve.path.exists():
        previous = Curve.load(curve.path)
        if previous.metric == curve.metric:
            step = step_of(checkpoint)
            curve.points = [p for p in previous.points if p["step"] <= step]
            curve.loss = [p for p in previous.loss if p["step"] <= step]
        announce(f"resuming from {checkpoint.name} ({len(curve.points)} curve points kept)")
    return checkpoint


def write_best(out_dir: Path, step: int, spec: str, trained_model, device: str, *,
               max_length: int | None = None, prompts: dict | None = None) -> None:
    """best/ for the curve's best `step`; `spec` is the base model, `trained_model` the trainer's (None when
    other processes trained it: the run's `prompts` then); saved with `max_length` (the deployment length;
    checkpoints already carry it)."""
    from embedlab.models.sentence_transformers import at_max_length, load_sentence_transformer

    source = out_dir / f"checkpoint-{step}"
    with atomic_folder(out_dir / "best") as target:
        if step > 0 and source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(*TRAINER_STATE_FILES, "rng_state*"))
        elif step == 0:
            base = load_sentence_transformer(spec, device)
            base.prompts = trained_model.prompts if trained_model is not None else \
                {**(base.prompts or {}), **(prompts or {})}
            with at_max_length(base, max_length):
                base.save(str(target))
        else:  # not on disk: the trainer has loaded the best weights at the end
            if trained_model is None:
                raise FileNotFoundError(f"{source} (the best checkpoint) is missing")
            with at_max_length(trained_model, max_length):
                trained_model.save(str(target))
        write_json(target / "embedlab-best.json", {"step": step}, indent=None)
