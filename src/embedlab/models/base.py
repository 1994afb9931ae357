"""The backend contracts: what a model must do, and what it declares (with defaults).

Three kinds of model, one base class each; a backend implements ONE required method and may override
the declared features:

- `Encoder`: texts -> vectors (`encode`). Dense models: sentence-transformers, OpenAI-compatible APIs,
  Qianfan. Batching, dedup, caching, checks and progress live once, in `embed.py`.
- `Ranker`: queries -> a ranked top-k of a corpus (`rank`). BM25, a TREC run file, hybrid fusion.
- `PairScorer`: (query, passage) pairs -> scores (`score_pairs`). Cross-encoders, API rerankers.

Everything outside `models/` reads a model's features through these classes, never by probing
attributes; `as_model` wraps a plain object with `name` and `encode` (the notebook case) into an Encoder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from embedlab.errors import ModelError

if TYPE_CHECKING:  # the CLI's --help reads the backends without importing numpy
    from pathlib import Path

    import numpy as np

Kind = Literal["query", "document"]
KINDS: tuple[Kind, Kind] = ("query", "document")


@dataclass
class ModelOptions:
    """Options every backend understands (a backend ignores what does not apply to it)."""

    query_instruction: str | None = None
    document_instruction: str | None = None
    max_length: int | None = None
    batch_size: int = 32
    device: str | None = None
    # local sentence-transformers models (models/export.py): the transformer's runtime, and its quantization
    backend: str = "torch"  # torch | onnx | openvino
    quantize: str | None = None  # int8 (dynamic) with onnx / openvino; None: float32
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
    # BM25 (`-m bm25`)
    bm25_k1: float = 1.5
    bm25_b: float = 0.75
    bm25_tokenizer: str = "auto"  # auto | word | char | whitespace (models/bm25_tokenizers.py)
    # hybrid fusion (models/hybrid.py)
    fusion: str = "rrf"  # rrf | dbsf | rsf
    rrf_k: int = 60
    weights: str | tuple[float, ...] | None = None  # one per sub-model ("0.7,0.3"), or "sweep"; None: equal
    fusion_depth: int | None = None  # documents each sub-model gives the fusion; None: as mteb (see hybrid.py)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Model:
    """What every kind of model declares. `name` is how results and tables call it."""

    name: str = "model"
    paid: bool = False  # each request costs money: estimate first, cache by default, --max-cost applies

    def price_per_mtok(self) -> tuple[float, str] | None:
        """Published price per million input tokens and its currency, when known."""
        return None

    def info(self) -> dict[str, Any]:
        """Provenance for results files: everything that identifies the model and its settings."""
        return {"name": self.name, "backend": type(self).__name__}

    def status(self) -> str:
        """A short line of spend / progress for the progress bar ('' when there is nothing to say)."""
        return ""

    def close(self) -> None:
        """Release what the model holds (connections, weights); the model is not used afterwards."""

    @classmethod
    def check_name(cls, name: str) -> None:
        """Raise an EmbedlabError for a name (the part of the spec after the prefix) this backend can never
        load, before any model is loaded (a misspelt option in the name, say); the default accepts all."""

    def parts(self) -> list[Model]:
        """The models a combination (a hybrid) is made of; none for a single model."""
        return []

    @classmethod
    def paid_for(cls, spec: str, options: ModelOptions) -> bool:
        """Whether the model `spec` names costs money, read before any instance exists (a combination asks its
        parts, and checks its spec here, so a bad one fails before any model runs)."""
        return cls.paid


class Encoder(Model):
    """A dense model: `encode(texts, kind) -> float32 array (len(texts), dimension)`."""

    dimension: int | None = None  # None: known after the first batch
    preferred_batch: int | None = None  # texts per call that keep the backend busy; None = the run's batch size
    texts_per_request: int | None = None  # an API's cap per request (for request counts); None = no requests

    def encode(self, texts: list[str], kind: Kind = "document") -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement encode(texts, kind)")

    @property
    def instructions(self) -> dict[Kind, str]:
        """The prefix each kind of text gets before it is encoded."""
        return {"query": "", "document": ""}

    def encode_batches(self, texts: Sequence[str], kind: Kind, batch_size: int
                       ) -> Iterator[tuple[int, int, np.ndarray]]:
        """(start, stop, vectors of texts[start:stop]) per batch, as each is done: the caller checks and
        commits them as they come.

        The default encodes `batch_size` texts at a time, in order; an API backend overrides it to keep
        several requests in flight and yield each answer as it arrives."""
        for start in range(0, len(texts), batch_size):
            stop = min(start + batch_size, len(texts))
            yield start, stop, self.encode(list(texts[start:stop]), kind)

    def cache_key(self, kind: Kind) -> str:
        """Everything besides the text that decides a vector: a backend adds what it knows (revision,
        max length, dimensions...). Never a secret."""
        return f"{type(self).__module__}.{type(self).__qualname__}|{self.name}|{kind}|" \
               f"prefix={self.instructions[kind]!r}"

    def count_tokens(self, texts: list[str]) -> int | None:
        """Tokens the model would see (after its truncation), or None when it has no tokenizer to tell."""
        return None

    def worker_loader(self, device: str) -> Callable[[], Encoder] | None:
        """A picklable function that loads this same model on another machine's `device` (a Ray worker: `--engine
        ray`), or None when it cannot be (an API model is I/O bound and needs no workers; a model in memory)."""
        return None


class Ranker(Model):
    """A model that ranks a corpus itself, without vectors (BM25, a TREC run file, fusion)."""

    def rank(self, queries: dict[str, str], corpus: dict[str, str], depth: int
             ) -> tuple[np.ndarray, np.ndarray]:
        """For each query (in order): indices into `list(corpus)` of its top `depth` documents, best first,
        and their scores; arrays of shape (queries, depth), index -1 where fewer were found."""
        raise NotImplementedError(f"{type(self).__name__} must implement rank(queries, corpus, depth)")

    def keep_indexes(self, folder: Path | None) -> None:
        """Where the ranker may keep the indexes it builds for the next runs (`--cache`), or None: for this
        run only. The default keeps nothing."""


class PairScorer(Model):
    """A model that scores a (query, passage) pair directly (cross-encoders, API rerankers)."""

    preferred_batch: int | None = None  # pairs per call that keep the backend busy; None = the run's batch size
    pairs_per_request: int | None = None  # an API's cap of documents per request (for request counts)

    def score_pairs(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """One float score per pair, higher = more relevant."""
        raise NotImplementedError(f"{type(self).__name__} must implement score_pairs(pairs)")

    def score_batches(self, pairs: Sequence[tuple[str, str]], batch_size: int
                      ) -> Iterator[tuple[int, int, np.ndarray]]:
        """(start, stop, scores of pairs[start:stop]) per batch, as each is done (the caller commits them).

        The default scores `batch_size` pairs at a time, in order; an API backend overrides it to keep
        several requests in flight and yield each answer as it arrives."""
        for start in range(0, len(pairs), batch_size):
            stop = min(start + batch_size, len(pairs))
            yield start, stop, self.score_pairs(list(pairs[start:stop]))

    def cache_key(self) -> str:
        """Everything besides the pair that decides a score (revision, max length, prefixes...). Never a secret."""
        return f"{type(self).__module__}.{type(self).__qualname__}|{self.name}"

    def count_tokens(self, pairs: list[tuple[str, str]]) -> int | None:
        """Tokens the model would see for these pairs, or None when it has no tokenizer to tell."""
        return None


class _Wrapped(Encoder):
    """A plain object with `name` and `encode` (a notebook's own model) as an Encoder with defaults."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = str(inner.name)

    def encode(self, texts: list[str], kind: Kind = "document") -> np.ndarray:
        return self.inner.encode(texts, kind)

    def cache_key(self, kind: Kind) -> str:
        return f"{type(self.inner).__module__}.{type(self.inner).__qualname__}|{self.name}|{kind}"

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "backend": type(self.inner).__name__}


def as_model(model: Any) -> Model:
    """A Model as it is, or a plain object with `name` and `encode` wrapped as an Encoder."""
    if isinstance(model, Model):
        return model
    if callable(getattr(model, "encode", None)) and isinstance(getattr(model, "name", None), str):
        return _Wrapped(model)
    raise ModelError(f"{type(model).__name__} is not a model: give a model name, an embedlab.models.Encoder "
                     "(or Ranker / PairScorer), or an object with a `name` and an `encode(texts, kind)` method")


def fingerprint(*parts: Any) -> str:
    """A short stable hash of settings, for cache keys."""
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:16]
