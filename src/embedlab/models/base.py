"""The backend contracts: what a model must do, and what it declares (with defaults).

Five kinds of model, one base class each; a backend implements ONE required method and may override
the declared features:

- `Encoder`: texts -> vectors (`encode`). Dense models: sentence-transformers, OpenAI-compatible APIs,
  Qianfan. Batching, dedup, caching, checks and progress live once, in `embedding/store.py`.
- `SparseEncoder`: texts -> learned sparse term weights over a fixed vocabulary (`encode_sparse`, scipy CSR
  rows). SPLADE (sentence-transformers' SparseEncoder), bge-m3's lexical weights. Stores: `embedding/outputs.py`.
- `MultiVectorEncoder`: texts -> one vector per token (`encode_tokens`, a list of (tokens, dim) arrays), scored
  by MaxSim. ColBERT (sentence-transformers' MultiVectorEncoder), bge-m3's ColBERT vectors.
- `Ranker`: queries -> a ranked top-k of a corpus (`rank`). BM25, a TREC run file.
- `PairScorer`: (query, passage) pairs -> scores (`score_pairs`). Cross-encoders, API rerankers.

and `Combination`, a model scored from the outputs of the models it is made of (`parts`): a hybrid. How each
kind is scored is one row of `scorers.table.SCORERS`; a new kind is a class here and a row there.

Everything outside `models/` reads a model's features through these classes, never by probing
attributes; `as_model` wraps a plain object with `name` and `encode` (the notebook case) into an Encoder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from embedlab.errors import ModelError
from embedlab.search.names import DEFAULT_RRF_K

if TYPE_CHECKING:  # the CLI's --help reads the backends without importing numpy
    from pathlib import Path

    import numpy as np

Kind = Literal["query", "document"]
KINDS: tuple[Kind, Kind] = ("query", "document")


@dataclass
class ModelOptions:
    """The settings of every backend, each read by the backends that declare it (`Model.options_read`): a setting
    changed from its default that no model of a run reads is refused (`models.registry.unread_options`)."""

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
    rrf_k: int = DEFAULT_RRF_K
    weights: str | tuple[float, ...] | None = None  # one per sub-model ("0.7,0.3"), or "sweep"; None: equal
    fusion_depth: int | None = None  # documents each sub-model gives the fusion; None: as mteb (see hybrid.py)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Model:
    """What every kind of model declares. `name` is how results and tables call it."""

    name: str = "model"
    gives: str = "an output"  # what the model gives, for the one line that refuses it where another kind is needed
    paid: bool = False  # each request costs money: estimate first, cache by default, --max-cost applies
    options_read: ClassVar[frozenset[str]] = frozenset()  # the ModelOptions fields this backend reads
    # the optional modules it needs (keys of `errors.PROVIDERS`, which name the extra that installs each): a run
    # checks every model's before any work (`registry.check_installed`)
    requires: ClassVar[tuple[str, ...]] = ()

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

    def sweep_weights(self) -> list[tuple[float, ...]] | None:
        """The weights a sweep evaluates from one output of each part (`--weights sweep`), or None: one run."""
        return None

    @classmethod
    def sweeps(cls, spec: str, options: ModelOptions) -> bool:
        """Whether the model `spec` names is a sweep of several runs (`sweep_weights`), known before it loads."""
        return False

    @classmethod
    def from_spec(cls, name: str, options: ModelOptions) -> Model:
        """The model a name (the part of the spec after the prefix) stands for; the default constructs this class.
        A backend whose name picks one of several kinds (`m3:PATH#sparse`) overrides it."""
        return cls(name, options)

    @classmethod
    def paid_for(cls, spec: str, options: ModelOptions) -> bool:
        """Whether the model `spec` names costs money, read before any instance exists (a combination asks its
        parts, and checks its spec here, so a bad one fails before any model runs)."""
        return cls.paid

    @classmethod
    def requires_for(cls, spec: str) -> tuple[str, ...]:
        """The optional modules the model `spec` names needs, before any instance exists (a combination: its
        parts')."""
        return cls.requires

    @classmethod
    def options_read_by(cls, spec: str) -> frozenset[str]:
        """The ModelOptions fields the model `spec` names reads, before any instance exists (a combination: its
        own and its parts')."""
        return cls.options_read

    def own_run(self) -> str | None:
        """The TREC run file this model's rankings are read from (`-m run:`), which `--save-run` names instead of
        copying; None for a model that computes its rankings."""
        return None


class TextModel(Model):
    """What every kind of model that encodes texts one at a time shares (dense, sparse, multi-vector): per-kind
    prefixes, a cache key, token counts, batches. Code that needs dense vectors asks for an `Encoder`, so a sparse
    or multi-vector model is never taken for a dense one."""

    dimension: int | None = None  # None: known after the first batch
    texts_per_request: int | None = None  # an API's cap per request (for request counts); None = no requests
    preferred_batch: int | None = None  # texts per call that keep the backend busy; None = the run's batch size

    @property
    def instructions(self) -> dict[Kind, str]:
        """The prefix each kind of text gets before it is encoded."""
        return {"query": "", "document": ""}

    def cache_key(self, kind: Kind) -> str:
        """Everything besides the text that decides an output (revision, max length, head, pruning...): a backend
        adds what it knows. Never a secret."""
        return f"{type(self).__module__}.{type(self).__qualname__}|{self.name}|{kind}|" \
               f"prefix={self.instructions[kind]!r}"

    def count_tokens(self, texts: list[str]) -> int | None:
        """Tokens the model would see (after its truncation), or None when it has no tokenizer to tell."""
        return None

    def encode_output(self, texts: list[str], kind: Kind) -> Any:
        """The kind's required method (`encode`, `encode_sparse`, `encode_tokens`), for the stores' one loop."""
        raise NotImplementedError

    def encode_batches(self, texts: Sequence[str], kind: Kind, batch_size: int) -> Iterator[tuple[int, int, Any]]:
        """(start, stop, output of texts[start:stop]) per batch, as each is done: the caller checks and
        commits them as they come.

        The default encodes `batch_size` texts at a time, in order; an API backend overrides it to keep
        several requests in flight and yield each answer as it arrives."""
        for start in range(0, len(texts), batch_size):
            stop = min(start + batch_size, len(texts))
            yield start, stop, self.encode_output(list(texts[start:stop]), kind)


class Encoder(TextModel):
    """A dense model: `encode(texts, kind) -> float32 array (len(texts), dimension)`."""

    gives = "one dense vector per text"
    dimension: int | None = None  # None: known after the first batch
    # an approximate index (`--index`) ranks its vectors; the Ray engine (`--engine ray`) encodes its documents
    options_read = frozenset({"index", "engine"})

    def encode(self, texts: list[str], kind: Kind = "document") -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement encode(texts, kind)")

    def encode_output(self, texts: list[str], kind: Kind) -> np.ndarray:
        return self.encode(texts, kind)

    def worker_loader(self, device: str) -> Callable[[], Encoder] | None:
        """A picklable function that loads this same model on another machine's `device` (a Ray worker: `--engine
        ray`), or None when it cannot be (an API model is I/O bound and needs no workers; a model in memory)."""
        return None


class Ranker(Model):
    """A model that ranks a corpus itself, without vectors (BM25, a TREC run file)."""

    ranks_past_corpus: bool = False  # asked for the evaluation depth even past the corpus size (a run file's
    # documents outside the corpus keep their ranks); otherwise `rank` is asked for at most the corpus size

    gives = "a ranking of a corpus (no vectors)"

    def rank(self, queries: dict[str, str], corpus: dict[str, str], depth: int
             ) -> tuple[np.ndarray, np.ndarray]:
        """For each query (in order): indices into `list(corpus)` of its top `depth` documents, best first,
        and their scores; arrays of shape (queries, depth), index -1 where fewer were found."""
        raise NotImplementedError(f"{type(self).__name__} must implement rank(queries, corpus, depth)")

    def score_rows(self, queries: Sequence[str], candidates: Sequence[Sequence[str]]) -> np.ndarray:
        """The score of every candidate of each reranking row for its query, rows one after another (-inf for a
        candidate the ranker does not return). The default ranks each row's candidates as a corpus of their
        own; a ranker whose scores depend on the collection (BM25's IDF) overrides it."""
        import numpy as np  # the contract is read by --help, which must not import numpy

        parts = []
        for query, row in zip(queries, candidates):
            corpus = {str(i): text for i, text in enumerate(row)}
            idx, scores = self.rank({"q": query}, corpus, len(corpus))
            idx, scores = np.asarray(idx), np.asarray(scores, dtype=np.float32)
            if idx.shape != scores.shape or idx.ndim != 2 or len(idx) != 1:
                raise ModelError(f"ranker '{self.name}' returned shapes {idx.shape} / {scores.shape} for one "
                                 "query; expected (queries, depth) for both")
            row_scores = np.full(len(corpus), -np.inf, dtype=np.float32)
            found = idx[0] >= 0
            row_scores[idx[0][found]] = scores[0][found]
            parts.append(row_scores)
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.float32)

    def counts(self) -> dict[str, int]:
        """Counts about the last `rank` call that its task's results keep (a run file: the queries it does not
        rank, the documents it ranks outside the corpus); none by default."""
        return {}

    def keep_indexes(self, folder: Path | None) -> None:
        """Where the ranker may keep the indexes it builds for the next runs (`--cache`), or None: for this
        run only. The default keeps nothing."""


class PairScorer(Model):
    """A model that scores a (query, passage) pair directly (cross-encoders, API rerankers)."""

    gives = "a score per (query, passage) pair (no vectors)"
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


class Combination(Model):
    """A model scored from the outputs of the models it is made of (`parts`), each as it is scored alone (a
    hybrid fuses their rankings). Its scorer is built from its parts' scorers (`scorers.table`), so every part
    keeps its cache, de-duplication and index; it has no method of its own to call."""

    def parts(self) -> list[Model]:
        raise NotImplementedError(f"{type(self).__name__} must list the models it is made of (parts)")

    def with_weights(self, weights: Sequence[float]) -> Combination:
        """The same parts combined with other weights (a point of a sweep)."""
        raise NotImplementedError(f"{type(self).__name__} has no weights")


class SparseEncoder(TextModel):
    """A learned sparse model: `encode_sparse(texts, kind) -> scipy.sparse.csr_matrix (len(texts), vocab_size)`,
    float32 term weights; a text's score for a query is the dot product of their rows.

    CSR rows because: the vocabulary is fixed, so every row of every batch shares one column space and rows stack
    (`scipy.sparse.vstack`) without re-indexing; a row is two small arrays (term ids, weights) stored and cached as
    is (nnz x 8 bytes, against vocab x 4 dense); the corpus matrix turns into an inverted index (its transpose,
    term -> postings) with one conversion; scipy is the reference the scoring is compared with."""

    gives = "sparse term weights (a learned sparse model)"
    vocab_size: int | None = None  # columns of every row; None: known after the first batch

    def encode_sparse(self, texts: list[str], kind: Kind = "document") -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement encode_sparse(texts, kind)")

    def encode_output(self, texts: list[str], kind: Kind) -> Any:
        return self.encode_sparse(texts, kind)


class MultiVectorEncoder(TextModel):
    """A multi-vector (late-interaction) model: `encode_tokens(texts, kind) -> list of float32 arrays, one
    (tokens_i, dim) per text`, scored by MaxSim (sum over query tokens of the best dot product with a document
    token; divided by the query's token count when `mean_over_query_tokens`).

    A list of 2-d arrays because the token count differs per text (what sentence-transformers, pylate and
    FlagEmbedding return); the stores keep them as one ragged block (all tokens concatenated + offsets), which is
    what the MaxSim kernels and the cache read."""

    gives = "one vector per token (a multi-vector / ColBERT model)"
    dimension: int | None = None  # of each token vector; None: known after the first batch
    mean_over_query_tokens: bool = False  # MaxSim divided by the query's token count (bge-m3, ST's "meanmaxsim")

    def encode_tokens(self, texts: list[str], kind: Kind = "document") -> list[np.ndarray]:
        raise NotImplementedError(f"{type(self).__name__} must implement encode_tokens(texts, kind)")

    def encode_output(self, texts: list[str], kind: Kind) -> Any:
        return self.encode_tokens(texts, kind)


class MultiOutputEncoder(TextModel):
    """A model that gives several outputs per text from ONE forward pass (bge-m3: dense, sparse, colbert):
    `encode_outputs(texts, kind) -> {output: block}` for each output of `outputs`, each block of its kind's type
    (dense array, CSR rows, list of token arrays). `output_key(output, kind)` is the cache key of one output: the
    key the model giving that output alone uses, so every combination shares what is cached."""

    gives = "several outputs per text from one pass (bge-m3)"
    outputs: tuple[str, ...] = ()

    def encode_outputs(self, texts: list[str], kind: Kind = "document") -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement encode_outputs(texts, kind)")

    def encode_output(self, texts: list[str], kind: Kind) -> dict[str, Any]:
        return self.encode_outputs(texts, kind)

    def output_key(self, output: str, kind: Kind) -> str:
        return f"{self.cache_key(kind)}|output={output}"


def expect_kind(model: Model, kind: type[Model], needed_by: str) -> None:
    """One line refusing a model of another kind where `kind` is needed: a learned sparse or ColBERT model is
    never scored as dense by mistake (mteb #4761). `needed_by` names what needs it ('sweep --dims')."""
    if not isinstance(model, kind):
        raise ModelError(f"'{model.name}' gives {model.gives}; {needed_by} needs a model that gives {kind.gives}")


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
