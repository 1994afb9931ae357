"""Model backends by name: `st:<path-or-hub-id>` (the default for a bare name), plugins by entry point.

A plugin package registers a factory under the entry-point group `embedlab.models`; the factory takes
the part after the prefix plus the shared options and returns an Encoder.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

from embedlab.errors import UnknownNameError
from embedlab.models.base import Encoder

_PREFIX = re.compile(r"^([a-z][a-z0-9_-]+):(?!//)(.+)$")


@dataclass
class ModelOptions:
    """Options every backend understands (a backend ignores what does not apply to it)."""

    query_instruction: str | None = None
    document_instruction: str | None = None
    max_length: int | None = None
    batch_size: int = 32
    device: str | None = None


def _sentence_transformers(spec: str, options: ModelOptions) -> Encoder:
    from embedlab.models.sentence_transformers import SentenceTransformerEncoder

    return SentenceTransformerEncoder(spec, options)


BUILTIN: dict[str, Callable[[str, ModelOptions], Encoder]] = {"st": _sentence_transformers}


def backends() -> dict[str, Callable[[str, ModelOptions], Encoder]]:
    found = dict(BUILTIN)
    for entry in entry_points(group="embedlab.models"):
        found.setdefault(entry.name, entry.load())
    return found


def load_encoder(spec: str, options: ModelOptions | None = None) -> Encoder:
    """`"st:BAAI/bge-small-zh-v1.5"`, `"./my-model"`, `"BAAI/bge-small-zh-v1.5"` -> an Encoder."""
    options = options or ModelOptions()
    match = _PREFIX.match(spec)
    prefix, rest = (match.group(1), match.group(2)) if match else ("st", spec)
    known = backends()
    if prefix not in known:
        raise UnknownNameError("model backend", prefix, known)
    return known[prefix](rest, options)
