"""Model backends by name: `st:<path-or-hub-id>` (the default for a bare name), `openai:<model>` (any
OpenAI-compatible /v1/embeddings endpoint), `qianfan:<model>` (Baidu, AK/SK), plugins by entry point.

A plugin package registers a `Model` subclass (an `Encoder`, `Ranker` or `PairScorer` of
`embedlab.models.base`) under the entry-point group `embedlab.models`; it is constructed as
`cls(spec_after_the_prefix, options)`, and its class attributes (`paid`, ...) are read before any
instance exists, so a paid plugin gets the cost estimate and `--max-cost` like a built-in one.
"""

from __future__ import annotations

import importlib
import re
from importlib.metadata import entry_points

from embedlab.errors import ModelError, UnknownNameError
from embedlab.models.base import Model, ModelOptions

_PREFIX = re.compile(r"^([a-z][a-z0-9_-]+):(?!//)(.+)$")

# prefix -> (module, class, what it is: shown in --help)
BUILTIN = {
    "st": ("embedlab.models.sentence_transformers", "SentenceTransformerEncoder",
           "a local sentence-transformers directory or Hugging Face id (the default for a bare name)"),
    "openai": ("embedlab.models.openai_compat", "OpenAICompatibleEncoder",
               "any OpenAI-compatible /v1/embeddings endpoint (--base-url, --api-key-env)"),
    "qianfan": ("embedlab.models.qianfan", "QianfanEncoder",
                "Baidu Qianfan embeddings with QIANFAN_AK / QIANFAN_SK (embedding-v1, bge-large-zh, ...)"),
    "ce": ("embedlab.models.cross_encoder", "CrossEncoderScorer",
           "a local sentence-transformers CrossEncoder (reranker) directory or hub id (a bare name given to --reranker)"),
    "rerank": ("embedlab.models.rerank_api", "RerankAPIScorer",
               "a /rerank API reranker (Cohere, Jina, Voyage, vLLM, TEI...; --base-url, --api-key-env)"),
    "qianfan-rerank": ("embedlab.models.rerank_api", "QianfanReranker",
                       "Baidu Qianfan reranker with QIANFAN_AK / QIANFAN_SK (bce-reranker-base_v1)"),
}


def backend_of(spec: str) -> str:
    """The backend prefix a model name selects (`st` for a bare path or hub id)."""
    match = _PREFIX.match(spec)
    return match.group(1) if match else "st"


def backend_help() -> str:
    """One line per backend, for `-m`'s help."""
    lines = [f"{prefix}:<name>: {what}" for prefix, (_, _, what) in BUILTIN.items()]
    lines += [f"{entry.name}:<name>: plugin ({entry.value})" for entry in _plugins()]
    return "; ".join(lines)


def _plugins():
    return [entry for entry in entry_points(group="embedlab.models") if entry.name not in BUILTIN]


def backends() -> list[str]:
    return list(BUILTIN) + [entry.name for entry in _plugins()]


def backend_class(spec: str) -> type[Model]:
    """The Model class a name selects, imported but not constructed (its declared features are readable)."""
    prefix = backend_of(spec)
    if prefix in BUILTIN:
        module, name, _ = BUILTIN[prefix]
        return getattr(importlib.import_module(module), name)
    entry = next((e for e in _plugins() if e.name == prefix), None)
    if entry is None:
        raise UnknownNameError("model backend", prefix, backends())
    cls = entry.load()
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise ModelError(f"the plugin backend '{prefix}' ({entry.value}) is not a subclass of "
                         "embedlab.models.base.Encoder, Ranker or PairScorer; ask its authors to update it")
    return cls


def load_model(spec: str, options: ModelOptions | None = None) -> Model:
    """`"st:BAAI/bge-small-zh-v1.5"`, `"./my-model"`, `"openai:text-embedding-3-small"` -> a Model."""
    cls = backend_class(spec)
    rest = spec[len(backend_of(spec)) + 1:] if _PREFIX.match(spec) else spec
    return cls(rest, options or ModelOptions())



def reranker_spec(spec: str) -> str:
    """A reranker by name: a bare path or hub id is a local cross-encoder (`ce:`), a prefixed name as it is."""
    return spec if _PREFIX.match(spec) else f"ce:{spec}"
