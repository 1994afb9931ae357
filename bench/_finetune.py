"""Shared by the fine-tuning benches: one leakage-safe split of xquad_r_zh reranking, and `embedlab finetune` runs
as a user starts them (each in its own process, so each peak memory is its own), kept in bench/out/ and reused
when a bench asks for the same run again (a finished run folder is reported as it is)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _env import require_data

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "finetune-modes"
# short runs (a shared 2-core machine): the README walkthrough's schedule, 12 steps of 16 queries
COMMON = ["--max-steps", "12", "--eval-every", "4", "--batch-size", "16", "--seed", "0", "-q"]


def split() -> Path:
    """bench/out/finetune-modes/split/{train,test}.jsonl: `embedlab split`, seed 42, 20% held out (once)."""
    folder = OUT / "split"
    if not (folder / "manifest.json").exists():
        source = require_data() / "xquad_r_zh" / "reranking" / "test.jsonl"
        done = subprocess.run([sys.executable, "-m", "embedlab.cli.main", "split", str(source), "-o", str(folder),
                               "--test-size", "0.2", "--seed", "42"], capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(done.stderr)
        print("\n".join(line for line in done.stdout.splitlines() if not line.startswith("  e.g.")))  # no data text
    return folder


def finetune(name: str, model: str, *options: str, common: bool = True) -> tuple[dict, float]:
    """`embedlab finetune -m model --train --test -o OUT/name *options` in its own process: its summary and wall
    seconds (0 when the finished run was already there)."""
    folder = split()
    args = [sys.executable, "-m", "embedlab.cli.main", "finetune", "-m", model, "--train", str(folder / "train.jsonl"),
            "--test", str(folder / "test.jsonl"), "-o", str(OUT / name), *(COMMON if common else []), *options]
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{name}: {done.stderr.strip().splitlines()[-1]}")
    print(f"$ embedlab finetune ... -o {OUT.name}/{name} {' '.join(options)}")
    print("\n".join(line for line in done.stderr.splitlines() if line.startswith(("step ", "memory plan", "teacher",
                                                                                   "note", "warning"))))
    print(done.stdout.strip())
    reused = "nothing to train" in done.stderr
    return json.loads((OUT / name / "summary.json").read_text(encoding="utf-8")), 0.0 if reused else seconds


def gib(n: float) -> str:
    return f"{n / 2 ** 30:.2f}"
