"""Local models through sentence-transformers: a directory or a Hugging Face id (offline when cached)."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import ModelError, require
from embedlab.models.base import Encoder, Kind, ModelOptions, fingerprint
from embedlab.models.export import Variant, ensure_export, parse_variant, require_backend

# a text longer than this many characters per token of the max length is cut before tokenizing: its first
# max_length tokens lie well within (a token spans a few characters, rarely more than 20)
CHARS_PER_TOKEN_BOUND = 32


def pick_device(requested: str | None) -> str:
    """The device to run on: as asked, else CUDA when present, else CPU."""
    if requested:
        return requested
    torch = require("torch", "running a local model")
    return "cuda" if torch.cuda.is_available() else "cpu"


def model_instructions(model, query_instruction: str | None, document_instruction: str | None
                       ) -> dict[Kind, str]:
    """Prefixes per kind: the given instruction, else the model's own configured prompt, as mteb does."""
    prompts = getattr(model, "prompts", None) or {}
    return {
        "query": query_instruction if query_instruction is not None else prompts.get("query", ""),
        "document": document_instruction if document_instruction is not None
        else prompts.get("document", prompts.get("passage", "")),
    }


def load_sentence_transformer(spec: str, device: str, model_class: str = "SentenceTransformer",
                              model_kwargs: dict | None = None):
    """A SentenceTransformer (or another sentence-transformers model class: SparseEncoder, MultiVectorEncoder) from
    a directory or hub id, or a ModelError that says why not. `model_kwargs` go to transformers (e.g. a dtype)."""
    if _looks_like_path(spec) and not Path(spec).expanduser().exists():
        raise ModelError(f"cannot load model '{spec}': no such directory (a local model is a folder "
                         "saved by sentence-transformers; a hub id looks like BAAI/bge-small-zh-v1.5)")
    st = require("sentence_transformers", "running a local model")
    try:
        return getattr(st, model_class)(str(Path(spec).expanduser()) if _looks_like_path(spec) else spec,
                                        device=device, **({"model_kwargs": model_kwargs} if model_kwargs else {}))
    except (OSError, ValueError) as exc:
        where = "local directory" if Path(spec).exists() else "Hugging Face id"
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        hint = ("it is not in the local Hugging Face cache and HF_HUB_OFFLINE=1 forbids a download"
                if offline else "check the path or id, and network access for a first download")
        raise ModelError(f"cannot load model '{spec}' ({where}): {hint}. Cause: "
                         f"{str(exc).splitlines()[0][:300]}") from None


@contextmanager
def at_max_length(model, length: int | None) -> Iterator[None]:
    """`model` (a SentenceTransformer) truncates at `length` tokens inside the block (None: as it is),
    then at its own length again: a model trained at short lengths is scored and saved at another."""
    if length is None:
        yield
        return
    previous = model.max_seq_length
    model.max_seq_length = length
    try:
        yield
    finally:
        model.max_seq_length = previous


def _looks_like_path(spec: str) -> bool:
    """'./m', '../m', '/m', '~/m', 'a/b/c' or 'm/' are paths; 'org/name' may be a hub id."""
    return spec.startswith((".", "/", "~")) or spec.endswith("/") or spec.count("/") > 1 or "\\" in spec


class SentenceTransformerEncoder(Encoder):
    """Pooling as the model is configured; instructions/prompts applied per kind.

    When no instruction is given, the model's own configured prompts (`prompts` in
    config_sentence_transformers.json, keys query / document or passage) are used, as mteb does.
    On CUDA the model runs in fp16.
    """

    options_read = Encoder.options_read | {"query_instruction", "document_instruction", "max_length", "device", "backend",
                                           "quantize"}
    requires = ("torch", "sentence_transformers")

    def __init__(self, spec: str, options: ModelOptions | None = None) -> None:
        options = options or ModelOptions()
        self.spec = spec
        self.options = options
        self.device = pick_device(options.device)
        self.variant = parse_variant(options.backend, options.quantize)
        if self.variant.backend != "torch":
            require_backend(self.variant.backend)  # a missing extra: one line before the model loads
            if not self.device.startswith("cpu"):
                raise ModelError(f"--backend {self.variant.backend} runs on the CPU; give --device cpu or --backend torch")
        self.model = load_sentence_transformer(spec, self.device)
        if self.device.startswith("cuda"):
            self.model.half()
        self.revision = model_revision(spec)
        self.export: dict[str, Any] | None = None
        if self.variant.backend != "torch":
            self._use_export()
        self.texts_cut = 0
        self.loadable = True
        self._configure()

    def _use_export(self) -> None:
        """Run the transformer on its export (made once and cached; see models/export.py)."""
        from embedlab.models.runtime import load_runtime, swap_in

        folder, manifest = ensure_export(self.model, self.spec, self.revision, self.variant)
        swap_in(self.model, load_runtime(folder / manifest["model_file"], self.variant.backend, manifest["inputs"],
                                         self.model[0].model.config))
        self.export = {"folder": str(folder), "id": folder.name.rsplit("-", 1)[-1], "probe": manifest["probe"],
                       "quantization": manifest["key"]["quantization"], "versions": manifest["key"]["versions"],
                       "bytes": sum(manifest["files"].values())}

    @classmethod
    def from_model(cls, model, options: ModelOptions | None = None, name: str = "in-memory model"
                   ) -> SentenceTransformerEncoder:
        """Wrap an already loaded SentenceTransformer (e.g. one being trained) without copying it."""
        self = cls.__new__(cls)
        self.spec, self.options, self.model = name, options or ModelOptions(), model
        self.device = str(model.device)
        self.revision = None  # weights in memory, changing: never cached
        self.variant, self.export = Variant(), None
        self.texts_cut = 0
        self.loadable = False
        self._configure()
        return self

    def _configure(self) -> None:
        options = self.options
        if options.max_length:
            self.model.max_seq_length = options.max_length
        self._instructions = model_instructions(self.model, options.query_instruction,
                                                options.document_instruction)
        # not "[...]": rich tables read brackets as markup
        self.name = self.spec if self.variant.backend == "torch" else f"{self.spec} ({self.variant.label})"
        get_dimension = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        self.dimension = int(get_dimension() or 0) or None

    @property
    def instructions(self) -> dict[Kind, str]:
        return self._instructions

    def encode(self, texts: list[str], kind: Kind = "document") -> np.ndarray:
        prefix = self.instructions[kind]
        limit = CHARS_PER_TOKEN_BOUND * self.model.max_seq_length if self.model.max_seq_length else None
        if limit is not None:  # the tokenizer would cut them anyway: spare it megabytes of text
            self.texts_cut += sum(len(t) > limit for t in texts)
            texts = [t[:limit] for t in texts]
        vectors = self.model.encode(
            [prefix + t for t in texts] if prefix else list(texts),
            batch_size=self.options.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=False,  # embed.py normalises every backend once
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def cache_key(self, kind: Kind) -> str:
        """Model identity (revision or directory content), modules (pooling, normalisation), dtype,
        max length, dimension and the kind's prefix: a change to any of them is another vector."""
        modules = [(type(m).__name__, _module_config(m)) for m in self.model]
        return (f"st|{self.spec}|rev={self.revision}|modules={fingerprint(modules)}"
                f"|dtype={self._dtype()}|max_length={self.model.max_seq_length}|dim={self.dimension}"
                f"|prefix={self.instructions[kind]!r}"
                + (f"|runtime={self.variant.label}|export={self.export['id']}" if self.export else ""))

    def count_tokens(self, texts: list[str]) -> int:
        """Tokens the model would see, after truncation to its max length."""
        ids = self.model.tokenizer(list(texts), truncation=True, max_length=self.model.max_seq_length)["input_ids"]
        return sum(len(i) for i in ids)

    def info(self) -> dict[str, Any]:
        return {
            **super().info(),
            "backend": "sentence-transformers",
            "path": self.spec,
            "revision": self.revision,
            "dimension": self.dimension,
            "max_length": self.model.max_seq_length,
            "device": self.device,
            "dtype": self._dtype(),
            "inference_backend": self.variant.backend,
            "quantize": self.variant.quantize,
            **({"export": self.export} if self.export else {}),
            **({"model_bytes": self._bytes()} if self.loadable else {}),
            "query_instruction": self.instructions["query"],
            "document_instruction": self.instructions["document"],
            **({"texts_cut_before_tokenizing": self.texts_cut} if self.texts_cut else {}),
        }

    def _dtype(self) -> str:
        if self.export is not None:  # the exported graph computes in float32 (int8 weights are `quantize`)
            return "float32"
        return str(next(self.model.parameters()).dtype).replace("torch.", "")

    def _bytes(self) -> int | None:
        """Bytes on disk of what runs: the export, else the model's directory (None for a hub id)."""
        if self.export is not None:
            return self.export["bytes"]
        path = Path(self.spec).expanduser()
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else None

    def close(self) -> None:
        self.model = None

    def worker_loader(self, device: str):
        """The same directory or hub id and options on a worker (weights in memory cannot be)."""
        if not self.loadable:
            return None
        return functools.partial(SentenceTransformerEncoder, self.spec, dataclasses.replace(self.options, device=device))


def _module_config(module) -> Any:
    get = getattr(module, "get_config_dict", None)  # sentence-transformers modules describe themselves
    return get() if callable(get) else None


def model_revision(spec: str) -> str | None:
    """Commit of a cached hub model, or a content fingerprint of a local model directory."""
    path = Path(spec)
    if path.is_dir():
        import hashlib

        digest = hashlib.sha256()
        for file in sorted(path.rglob("*")):
            if file.is_file() and file.suffix in (".json", ".safetensors", ".bin", ".txt", ".model"):
                stat = file.stat()
                digest.update(f"{file.relative_to(path)}:{stat.st_size}".encode())
                if stat.st_size < 1_000_000:
                    digest.update(file.read_bytes())
        return "dir-sha256:" + digest.hexdigest()[:16]
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(spec, "config.json")
    except Exception:  # noqa: BLE001 - provenance is best effort, never a reason to fail a run
        return None
    if isinstance(cached, str) and "/snapshots/" in cached:
        return cached.split("/snapshots/")[1].split("/")[0]
    return None


class SentenceTransformerKind:
    """What the sparse (`sparse:`) and multi-vector (`colbert:`) sentence-transformers backends share: loading a
    `model_class` model from a directory or hub id, per-kind prompts as mteb resolves them, max length, a cache key
    of everything that changes an output, token counts, provenance. Mixed into a `models.base` kind."""

    model_class = "SentenceTransformer"
    options_read = frozenset({"query_instruction", "document_instruction", "max_length", "device"})
    requires = ("torch", "sentence_transformers")
    prefix = "st"

    def __init__(self, spec: str, options: ModelOptions | None = None) -> None:
        self.spec, self.options = spec, options or ModelOptions()
        self.device = pick_device(self.options.device)
        self.model = load_sentence_transformer(spec, self.device, self.model_class)
        if self.options.max_length:
            self.model.max_seq_length = self.options.max_length
        self.revision = model_revision(spec)
        self.name = spec
        self._instructions = model_instructions(self.model, self.options.query_instruction,
                                                self.options.document_instruction)

    @property
    def instructions(self) -> dict[Kind, str]:
        return self._instructions

    def encode_kwargs(self, kind: Kind) -> dict[str, Any]:
        """How the model's encode_query / encode_document is called: the prompt as given (None: none)."""
        return {"prompt": self.instructions[kind] or None, "batch_size": self.options.batch_size,
                "show_progress_bar": False}

    def settings_key(self) -> str:
        """What besides model, prompt and length changes an output (pruning, projection size...)."""
        return ""

    def cache_key(self, kind: Kind) -> str:
        """As the dense key, and the kind: encode_query and encode_document may run other modules (an inference-free
        SPLADE's static query side, ColBERT's query expansion and skip-list)."""
        modules = [(type(m).__name__, _module_config(m)) for m in self.model]
        return (f"{self.prefix}|{self.spec}|{kind}|rev={self.revision}|modules={fingerprint(modules)}|dtype={self._dtype()}"
                f"|max_length={self.model.max_seq_length}{self.settings_key()}|prefix={self.instructions[kind]!r}")

    def count_tokens(self, texts: list[str]) -> int:
        ids = self.model.tokenizer(list(texts), truncation=True, max_length=self.model.max_seq_length)["input_ids"]
        return sum(len(i) for i in ids)

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "backend": f"sentence-transformers {self.model_class}", "path": self.spec,
                "revision": self.revision, "max_length": self.model.max_seq_length, "device": self.device,
                "dtype": self._dtype(), "query_instruction": self.instructions["query"],
                "document_instruction": self.instructions["document"]}

    def _dtype(self) -> str:
        return str(next(self.model.parameters()).dtype).replace("torch.", "")

    def close(self) -> None:
        self.model = None
