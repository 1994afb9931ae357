"""How a model is called in tables and in a combination's name, numpy-free (`--help` and `report` read it)."""

from __future__ import annotations

import re
from pathlib import PurePath

# the last folder of a path that says nothing about the model: the one above it names it
GENERIC_DIRS = ("model", "models", "best", "final", "snapshot")


def short_name(name: str) -> str:
    """A model's short name: hub ids as they are, paths cut to their last meaningful part(s) (`runs/bge/best` ->
    `bge/best`, `checkpoint-400` with its run's folder); a trailing ` (how it ran)` is kept (`... (onnx-int8)`)."""
    suffix = re.search(r" \([^()/]*\)$", name)
    if suffix:
        return short_name(name[:suffix.start()]) + suffix.group(0)
    parts = PurePath(name).parts
    if len(parts) <= 2 and not name.startswith(("/", ".")):
        return "/".join(parts)
    generic = parts[-1] in GENERIC_DIRS or parts[-1].startswith("checkpoint")
    return "/".join(parts[-2:] if generic else parts[-1:])
