"""Model backends by name: `st:<path-or-hub-id>` (the default for a bare name), `openai:<model>` (any
OpenAI-compatible /v1/embeddings endpoint), `qianfan:<model>` (Baidu, AK/SK), plugins by entry point.

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
    # API backends
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    dimensions: int | None = None
    concurrency: int = 4
    max_inputs: int = 64
    input_type: bool = False
    timeout: float = 60.0
    max_retries: int = 8
    rpm: int | None = None  # requests per minute, client-side
    tpm: int | None = None  # tokens per minute (estimated from characters), client-side


def _sentence_transformers(spec: str, options: ModelOptions) -> Encoder:
    from embedlab.models.sentence_transformers import SentenceTransformerEncoder

    return SentenceTransformerEncoder(spec, options)


def _openai(spec: str, options: ModelOptions) -> Encoder:
    from embedlab.models.openai_compat import OpenAICompatibleEncoder

    return OpenAICompatibleEncoder(spec, options)


def _qianfan(spec: str, options: ModelOptions) -> Encoder:
    from embedlab.models.qianfan import QianfanEncoder

    return QianfanEncoder(spec, options)


BUILTIN: dict[str, Callable[[str, ModelOptions], Encoder]] = {
    "st": _sentence_transformers, "openai": _openai, "qianfan": _qianfan}


def backends() -> dict[str, Callable[[str, ModelOptions], Encoder]]:
    found = dict(BUILTIN)
    for entry in entry_points(group="embedlab.models"):
        found.setdefault(entry.name, entry.load())
    return found


PAID_BACKENDS = {"openai", "qianfan"}


def backend_of(spec: str) -> str:
    """The backend prefix a model name selects (`st` for a bare path or hub id)."""
    match = _PREFIX.match(spec)
    return match.group(1) if match else "st"


def load_encoder(spec: str, options: ModelOptions | None = None) -> Encoder:
    """`"st:BAAI/bge-small-zh-v1.5"`, `"./my-model"`, `"BAAI/bge-small-zh-v1.5"` -> an Encoder."""
    options = options or ModelOptions()
    prefix = backend_of(spec)
    rest = spec[len(prefix) + 1:] if _PREFIX.match(spec) else spec
    known = backends()
    if prefix not in known:
        raise UnknownNameError("model backend", prefix, known)
    return known[prefix](rest, options)
