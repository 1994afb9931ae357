"""Model backends by name: `st:<path-or-hub-id>` (the default for a bare name), `openai:<model>` (any
OpenAI-compatible /v1/embeddings endpoint), `qianfan:<model>` (Baidu, AK/SK), plugins by entry point.

A plugin package registers a `Model` subclass (an `Encoder`, `Ranker` or `PairScorer` of
`embedlab.models.base`) under the entry-point group `embedlab.models`; it is constructed as
`cls(spec_after_the_prefix, options)`, and its class attributes (`paid`, ...) are read before any
instance exists, so a paid plugin gets the cost estimate and `--max-cost` like a built-in one.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Iterable
from importlib.metadata import entry_points

from embedlab.errors import ModelError, UnknownNameError, require_all
from embedlab.models.base import Model, ModelOptions, PairScorer, as_model

_PREFIX = re.compile(r"^([a-z][a-z0-9_-]+):(?!//)(.+)$")

# prefix -> (module, class, what it is: shown in --help)
BUILTIN = {
    "st": ("embedlab.models.sentence_transformers", "SentenceTransformerEncoder",
           "a local sentence-transformers directory or Hugging Face id (the default for a bare name)"),
    "openai": ("embedlab.models.openai_compat", "OpenAICompatibleEncoder",
               "any OpenAI-compatible /v1/embeddings endpoint (--base-url, --api-key-env)"),
    "qianfan": ("embedlab.models.qianfan", "QianfanEncoder",
                "Baidu Qianfan embeddings with QIANFAN_AK / QIANFAN_SK (embedding-v1, bge-large-zh, ...)"),
    "static": ("embedlab.models.static", "StaticEncoder",
               "static embeddings (model2vec): a folder (made by `embedlab distil`) or a Hugging Face id"),
    "bm25": ("embedlab.models.bm25", "BM25",
             "BM25 (bm25s), `bm25` alone or bm25:<tokenizer>: auto, word (jieba), char, whitespace"),
    "hybrid": ("embedlab.models.hybrid", "Hybrid",
               "fusion of two or more models, hybrid:A+B[+C] (--fusion, --weights, --rrf-k, --fusion-depth)"),
    "ce": ("embedlab.models.cross_encoder", "CrossEncoderScorer",
           "a local sentence-transformers CrossEncoder (reranker) directory or hub id (a bare name given to --reranker)"),
    "rerank": ("embedlab.models.rerank_api", "RerankAPIScorer",
               "a /rerank API reranker (Cohere, Jina, Voyage, vLLM, TEI...; --base-url, --api-key-env)"),
    "qianfan-rerank": ("embedlab.models.rerank_api", "QianfanReranker",
                       "Baidu Qianfan reranker with QIANFAN_AK / QIANFAN_SK (bce-reranker-base_v1)"),
    "sparse": ("embedlab.models.sparse", "SparseSentenceTransformer",
               "a learned sparse model (SPLADE: a sentence-transformers SparseEncoder directory or hub id)"),
    "colbert": ("embedlab.models.colbert", "ColBERTSentenceTransformer",
                "a multi-vector ColBERT model (a sentence-transformers MultiVectorEncoder or pylate directory or hub id)"),
    "m3": ("embedlab.models.m3", "BGEM3",
           "bge-m3 (FlagEmbedding), m3:<path>#dense|sparse|colbert, or several joined by + from one pass (--weights)"),
    "run": ("embedlab.models.run_file", "RunFile",
            "an existing system's rankings, a TREC run file (qid Q0 docid rank score tag) scored as trec_eval does"),
}
# chat models, which write text (`synth --generator`): prefix -> (module, class, what it is)
CHAT = {
    "openai-chat": ("embedlab.models.chat", "OpenAIChat",
                    "any OpenAI-compatible /v1/chat/completions endpoint (--generator-base-url)"),
    "qianfan-chat": ("embedlab.models.qianfan_chat", "QianfanChat",
                     "Baidu Qianfan chat models with QIANFAN_AK / QIANFAN_SK (ernie-3.5-8k, ernie-speed-128k, ...)"),
}
# backends given by their prefix alone (`-m bm25`), with an empty name
STANDALONE = {"bm25"}


def backend_of(spec: str) -> str:
    """The backend prefix a model name selects (`st` for a bare path or hub id)."""
    if spec in STANDALONE:
        return spec
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
    """The Model class a name selects, imported but not constructed (its declared features are readable);
    a name the backend can never load (`Model.check_name`) raises here, before any model is loaded."""
    prefix = backend_of(spec)
    if prefix in BUILTIN:
        module, name, _ = BUILTIN[prefix]
        cls = getattr(importlib.import_module(module), name)
        cls.check_name(name_part(spec))
        return cls
    entry = next((e for e in _plugins() if e.name == prefix), None)
    if entry is None:
        raise UnknownNameError("model backend", prefix, backends())
    cls = entry.load()
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise ModelError(f"the plugin backend '{prefix}' ({entry.value}) is not a subclass of "
                         "embedlab.models.base.Encoder, Ranker or PairScorer; ask its authors to update it")
    cls.check_name(name_part(spec))
    return cls


def load_model(spec: str, options: ModelOptions | None = None) -> Model:
    """`"st:BAAI/bge-small-zh-v1.5"`, `"./my-model"`, `"openai:text-embedding-3-small"` -> a Model."""
    cls = backend_class(spec)
    return cls.from_spec(name_part(spec), options or ModelOptions())


def name_part(spec: str) -> str:
    """What follows the backend prefix ('' for a standalone backend, the whole spec for a bare name)."""
    if spec in STANDALONE:
        return ""
    return spec[len(backend_of(spec)) + 1:] if _PREFIX.match(spec) else spec


def is_paid(spec: str, options: ModelOptions | None = None) -> bool:
    """Whether the model a name selects costs money, known before it is constructed (a hybrid: any of its parts)."""
    rest = spec[len(backend_of(spec)) + 1:] if _PREFIX.match(spec) else spec
    return backend_class(spec).paid_for(rest, options or ModelOptions())


def check_installed(specs: Iterable[str], *, reranker: str | None = None,
                    others: Iterable[tuple[str, str]] = ()) -> None:
    """Refuse, before any work, a run whose models (or `others`: (module, what needs it) pairs, such as an index)
    need optional packages that are not installed: one error naming them all and the one pip command."""
    needs = [(module, f"-m {spec}") for spec in specs for module in backend_class(spec).requires_for(name_part(spec))]
    if reranker is not None:
        spec = reranker_spec(reranker)
        needs += [(module, f"--reranker {reranker}") for module in backend_class(spec).requires_for(name_part(spec))]
    require_all([*needs, *others])


# run-level settings every model takes, never refused
RUN_LEVEL = frozenset({"batch_size"})


def options_changed(options: ModelOptions) -> list[str]:
    """The fields of `options` set to something other than their default."""
    default = ModelOptions()
    return [f.name for f in dataclasses.fields(options) if getattr(options, f.name) != getattr(default, f.name)]


def unread_options(given: Iterable[str], models: Iterable[str | Model]) -> list[str]:
    """The settings of `given` (ModelOptions field names) that none of `models` reads (`Model.options_read`): a flag
    that would change nothing, which the caller refuses rather than ignore."""
    read: set[str] = set(RUN_LEVEL)
    for model in models:
        read |= (backend_class(model).options_read_by(name_part(model)) if isinstance(model, str)
                 else _instance_options(model))
    return [name for name in given if name not in read]


def _instance_options(model: Model) -> frozenset[str]:
    return type(model).options_read.union(*(_instance_options(part) for part in model.parts()))


def chat_class(spec: str) -> type[Model]:
    """The chat model class a generator name selects (`openai-chat:<model>`), imported, not constructed."""
    prefix = backend_of(spec)
    if prefix not in CHAT or not name_part(spec):
        raise UnknownNameError("chat model backend (openai-chat:<model>, qianfan-chat:<model>)", spec, CHAT)
    module, name, _ = CHAT[prefix]
    return getattr(importlib.import_module(module), name)


def load_chat(spec: str, options: ModelOptions, *, temperature: float) -> Model:
    """`"openai-chat:qwen2.5-7b-instruct"` -> a chat model (`models.chat.ChatModel`)."""
    return chat_class(spec)(name_part(spec), options, temperature=temperature)


def reranker_spec(spec: str) -> str:
    """A reranker by name: a bare path or hub id is a local cross-encoder (`ce:`), a prefixed name as it is."""
    return spec if _PREFIX.match(spec) else f"ce:{spec}"


def load_reranker(spec: str | Model | None, options: ModelOptions) -> PairScorer | None:
    """The reranker of a two-stage run: a pair scorer by name (a bare path or hub id = a local cross-encoder)
    or as given; anything else is refused with one line."""
    if spec is None:
        return None
    model = load_model(reranker_spec(spec), options) if isinstance(spec, str) else as_model(spec)
    if not isinstance(model, PairScorer):
        if isinstance(spec, str):
            model.close()
        raise ModelError(f"'{model.name}' is not a reranker ({type(model).__name__}): --reranker takes a "
                         "cross-encoder (a path, a hub id or ce:<model>) or a rerank API (rerank:<model>, "
                         "qianfan-rerank:<model>)")
    return model


def reranker_options(options: ModelOptions) -> ModelOptions:
    """The models' options without what belongs to the first stage (instructions, length, dimensions)."""
    return dataclasses.replace(options, query_instruction=None, document_instruction=None, max_length=None,
                               dimensions=None, input_type=False)
