"""Shared by the bench scripts: where the real data lives, and one line describing this machine."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # ../shared/data beside the repo


def require_data() -> Path:
    """The shared data folder, or a clean exit with a message when it is absent."""
    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent (the shared evaluation data lives beside the repo, "
              "as ../shared/data)")
        sys.exit(0)
    return DATA


def machine(*packages: str) -> str:
    """CPU model, cores, Python and the versions of embedlab, numpy and `packages`."""
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lscpu if line.startswith("Model name")),
               platform.processor() or "unknown CPU")
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("embedlab", "numpy", *packages))
    return f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}; {versions}"
