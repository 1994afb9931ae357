"""Static embeddings (model2vec): `static:PATH|ID`, a table of token vectors averaged per text, no
transformer at run time; and `distil`, which makes one from a local sentence-transformers model with
model2vec's distillation (each token of the vocabulary encoded once by the model, then PCA and weighting)."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import ModelError, require
from embedlab.models.base import Encoder, Kind, ModelOptions

DEFAULT_MAX_LENGTH = 512  # model2vec's own default when the model's config names none
# sentence-transformers' pooling -> model2vec's distillation pooling (the token vectors are pooled as the
# source model pools its outputs)
POOLING = {"mean": "mean", "cls": "first", "lasttoken": "last"}


def load_static(spec: str):
    """A model2vec StaticModel from a folder or a hub id (offline when cached), or a ModelError."""
    require("model2vec", "static embeddings (static:PATH)")
    from model2vec import StaticModel

    path = Path(spec).expanduser()
    if spec.startswith((".", "/", "~")) and not path.exists():
        raise ModelError(f"cannot load static model '{spec}': no such folder (make one with `embedlab distil`)")
    try:
        return StaticModel.from_pretrained(str(path) if path.exists() else spec, force_download=False)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"cannot load static model '{spec}': it is not a model2vec folder or a cached hub id "
                         f"({str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__})") from None


class StaticEncoder(Encoder):
    """A model2vec model. Instructions are prefixed as for any encoder (a static model sees them as tokens);
    `--max-length` truncates as model2vec does (its default: the model's config, else 512 tokens).

    A text with no token in the vocabulary (an empty text) averages nothing: model2vec gives it a zero vector,
    whose cosine is undefined. It gets one fixed direction instead (all dimensions equal), the same for every
    such text, and is counted in the provenance (`texts_without_tokens`)."""

    options_read = Encoder.options_read | {"query_instruction", "document_instruction", "max_length"}
    requires = ("model2vec",)

    preferred_batch = 1024  # a batch is a table lookup: larger batches cost nothing

    def __init__(self, spec: str, options: ModelOptions | None = None) -> None:
        from embedlab.models.sentence_transformers import model_revision

        self.spec, self.options = spec, options or ModelOptions()
        self.model = load_static(spec)
        self.name = spec
        self.dimension = int(self.model.dim)
        self.max_length = self.options.max_length or self.model.max_length or DEFAULT_MAX_LENGTH
        self.revision = model_revision(str(Path(spec).expanduser())) if Path(spec).expanduser().is_dir() \
            else model_revision(spec)
        self._instructions: dict[Kind, str] = {"query": self.options.query_instruction or "",
                                               "document": self.options.document_instruction or ""}
        self.texts_without_tokens = 0

    @property
    def instructions(self) -> dict[Kind, str]:
        return self._instructions

    def encode(self, texts: list[str], kind: Kind = "document") -> np.ndarray:
        prefix = self.instructions[kind]
        vectors = self.model.encode([prefix + t for t in texts] if prefix else list(texts),
                                    max_length=self.max_length, batch_size=max(len(texts), 1),
                                    show_progress_bar=False, use_multiprocessing=False)
        vectors = np.array(vectors, dtype=np.float32).reshape(len(texts), self.dimension)
        empty = ~vectors.any(axis=1)
        if empty.any():
            self.texts_without_tokens += int(empty.sum())
            vectors[empty] = 1.0 / np.sqrt(self.dimension)
        return vectors

    def cache_key(self, kind: Kind) -> str:
        return (f"static|{self.spec}|rev={self.revision}|dim={self.dimension}|max_length={self.max_length}"
                f"|normalize={self.model.normalize}|empty=uniform|prefix={self.instructions[kind]!r}")

    def count_tokens(self, texts: list[str]) -> int:
        return sum(min(len(ids), self.max_length) for ids in self.model.tokenize(list(texts)))

    def info(self) -> dict[str, Any]:
        path = Path(self.spec).expanduser()
        return {**super().info(), "backend": "model2vec", "path": self.spec, "revision": self.revision,
                "dimension": self.dimension, "max_length": self.max_length, "normalize": bool(self.model.normalize),
                "base_model": self.model.base_model_name, "inference_backend": "static", "quantize": None,
                "query_instruction": self.instructions["query"], "document_instruction": self.instructions["document"],
                **({"model_bytes": sum(f.stat().st_size for f in path.rglob("*") if f.is_file())}
                   if path.is_dir() else {}),
                **({"texts_without_tokens": self.texts_without_tokens} if self.texts_without_tokens else {})}

    def close(self) -> None:
        self.model = None

    def worker_loader(self, device: str):
        return functools.partial(StaticEncoder, self.spec, dataclasses.replace(self.options, device=device))


def distil_static(spec: str, output: str | Path, *, dims: int | None = 256, overwrite: bool = False,
                  device: str | None = None) -> dict[str, Any]:
    """Distil the local sentence-transformers model `spec` into a static model folder `output`, written
    atomically (never over the input). Returns what was made: tokens, dimension, pooling, bytes."""
    from embedlab.data.output import atomic_folder, check_output
    from embedlab.models.sentence_transformers import load_sentence_transformer, pick_device

    source = Path(spec).expanduser()
    check_output(output, inputs=[source] if source.exists() else [], overwrite=overwrite, folder=True)
    require("model2vec", "distilling a static model (embedlab distil)")
    require("skeletoken", "distilling a static model (embedlab distil)")
    from model2vec.distill import distill_from_model

    model = load_sentence_transformer(spec, pick_device(device or "cpu"))
    pooling = source_pooling(model, spec)
    transformer = model[0].model
    if dims is not None and dims > transformer.config.hidden_size:
        raise ModelError(f"--dims {dims} is more than the {transformer.config.hidden_size} dimensions of '{spec}'")
    static = distill_from_model(model=transformer, tokenizer=model.tokenizer, pca_dims=dims, pooling=pooling,
                                device=str(model.device))
    static.base_model_name = spec
    with atomic_folder(output) as partial:
        static.save_pretrained(str(partial))
    size = sum(f.stat().st_size for f in Path(output).rglob("*") if f.is_file())
    return {"model": spec, "output": str(output), "tokens": int(static.embedding.shape[0]),
            "dimension": int(static.dim), "pooling": pooling, "bytes": size}


def cached_distil(spec: str, *, dims: int | None = 256) -> Path:
    """The static model distilled from `spec`, made once into the exports folder (models/export.py) under a
    key of the model's content, the dimensions and model2vec's version: a sweep's `static` row."""
    import hashlib
    import importlib.metadata
    import json

    from embedlab.models.export import content_id, exports_root
    from embedlab.models.sentence_transformers import model_revision

    key = {"model": content_id(spec, model_revision(spec)), "dims": dims,
           "model2vec": importlib.metadata.version("model2vec")}
    name = "".join(c if c.isalnum() or c in "._-" else "-" for c in Path(spec).name)[-40:] or "model"
    folder = exports_root() / f"{name}-static-{hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]}"
    if not (folder / "model.safetensors").is_file():  # the folder appears whole (an atomic rename) or not at all
        distil_static(spec, folder, dims=dims, overwrite=True)
    return folder


def source_pooling(model, spec: str) -> str:
    """model2vec's pooling for a sentence-transformers model's own, or a ModelError for one it cannot copy."""
    from sentence_transformers.sentence_transformer.modules import Pooling

    pools = [m for m in model if isinstance(m, Pooling)]
    mode = pools[0].get_config_dict().get("pooling_mode", "mean") if pools else None
    if mode is None or mode not in POOLING:
        raise ModelError(f"cannot distil '{spec}': its pooling is {mode or 'not a Pooling module'}; model2vec "
                         f"distils {', '.join(POOLING)} pooling")
    return POOLING[mode]
