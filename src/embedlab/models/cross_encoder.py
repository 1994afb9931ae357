"""Local cross-encoders (rerankers) through sentence-transformers' `CrossEncoder`: a directory or a hub id.

A score is `CrossEncoder.predict` as mteb 2.x's `CrossEncoderWrapper` calls it (the model's own
activation: a sigmoid for a one-label model; the query and passage prefixes prepended), so numbers
equal mteb's cross-encoder evaluation. A model that is not a cross-encoder (an embedding model, a bare
encoder without a classification head, a classifier of several labels) is refused before anything is
scored: sentence-transformers would otherwise put a randomly initialised head on it and score noise.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import ModelError, require
from embedlab.models.base import ModelOptions, PairScorer
from embedlab.models.sentence_transformers import CHARS_PER_TOKEN_BOUND, model_revision, pick_device

# what a transformers model whose config names one of these architectures scores a pair with
SCORING_HEADS = ("ForSequenceClassification", "ForCausalLM")


class CrossEncoderScorer(PairScorer):
    """`ce:<directory or hub id>`: one relevance score per (query, passage) pair, higher = more relevant."""

    options_read = frozenset({"query_instruction", "document_instruction", "max_length", "device"})
    requires = ("torch", "sentence_transformers")

    def __init__(self, spec: str, options: ModelOptions | None = None) -> None:
        self.spec, self.options = spec, options or ModelOptions()
        self.name = spec
        self.device = pick_device(self.options.device)
        problem = not_a_cross_encoder(spec)
        if problem:
            raise ModelError(f"'{spec}' {problem}")
        self.model = load_cross_encoder(spec, self.device, self.options.max_length)
        if self.model.num_labels != 1:
            raise ModelError(f"'{spec}' is a classifier of {self.model.num_labels} labels, not a reranker "
                             "(a cross-encoder that gives one relevance score per pair)")
        self.revision = model_revision(spec)
        self.prefixes = (self.options.query_instruction or "", self.options.document_instruction or "")
        self.texts_cut = 0

    @classmethod
    def from_model(cls, model, options: ModelOptions | None = None, name: str = "in-memory cross-encoder"
                   ) -> CrossEncoderScorer:
        """Wrap an already loaded CrossEncoder (e.g. one being trained) without copying it; never cached."""
        self = cls.__new__(cls)
        self.spec, self.options, self.model, self.name = name, options or ModelOptions(), model, name
        self.device, self.revision = str(model.device), None
        self.prefixes, self.texts_cut = ("", ""), 0
        return self

    @property
    def preferred_batch(self) -> int:
        return self.options.batch_size

    def score_pairs(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.empty(0, dtype=np.float32)
        query_prefix, passage_prefix = self.prefixes
        limit = CHARS_PER_TOKEN_BOUND * self.model.max_seq_length if self.model.max_seq_length else None
        if limit is not None:  # the tokenizer would cut them anyway: spare it megabytes of text
            self.texts_cut += sum(len(q) > limit or len(d) > limit for q, d in pairs)
            pairs = [(q[:limit], d[:limit]) for q, d in pairs]
        scores = self.model.predict([(query_prefix + q, passage_prefix + d) for q, d in pairs],
                                    batch_size=self.options.batch_size, show_progress_bar=False,
                                    convert_to_numpy=True)
        return np.asarray(scores, dtype=np.float32)

    def cache_key(self) -> str:
        return (f"ce|{self.spec}|rev={self.revision}|max_length={self.model.max_seq_length}"
                f"|activation={self._activation()}|prefixes={self.prefixes!r}")

    def count_tokens(self, pairs: list[tuple[str, str]]) -> int:
        if not pairs:
            return 0
        tokenizer = self.model.tokenizer
        ids = tokenizer([q for q, _ in pairs], [d for _, d in pairs], truncation=True,
                        max_length=self.model.max_seq_length)["input_ids"]
        return sum(len(i) for i in ids)

    def info(self) -> dict[str, Any]:
        return {**super().info(), "backend": "cross-encoder", "path": self.spec, "revision": self.revision,
                "max_length": self.model.max_seq_length, "device": self.device, "activation": self._activation(),
                "query_instruction": self.prefixes[0], "document_instruction": self.prefixes[1],
                **({"texts_cut_before_tokenizing": self.texts_cut} if self.texts_cut else {})}

    def _activation(self) -> str:
        activation = self.model.activation_fn
        return type(activation).__name__ if activation is not None else "none"

    def close(self) -> None:
        self.model = None


def load_cross_encoder(spec: str, device: str, max_length: int | None = None):
    """A sentence-transformers CrossEncoder from a directory or hub id, or a ModelError that says why not."""
    path = Path(spec).expanduser()
    local = path.exists()
    st = require("sentence_transformers", "running a local cross-encoder")
    try:
        return st.CrossEncoder(str(path) if local else spec, device=device, max_length=max_length)
    except (OSError, ValueError) as exc:
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        hint = ("it is not in the local Hugging Face cache and HF_HUB_OFFLINE=1 forbids a download"
                if offline and not local else "check the path or id")
        raise ModelError(f"cannot load cross-encoder '{spec}' ({'local directory' if local else 'Hugging Face id'}"
                         f"): {hint}. Cause: {str(exc).splitlines()[0][:300]}") from None


def not_a_cross_encoder(spec: str) -> str | None:
    """Why `spec` is not a cross-encoder, read from its configuration files; None when it is one (or when
    its files cannot be read before loading, e.g. a hub id not downloaded yet)."""
    path = Path(spec).expanduser()
    if not path.exists() and (spec.startswith((".", "/", "~")) or spec.count("/") > 1):
        return "does not exist (a cross-encoder is a folder saved by sentence-transformers or transformers)"
    st_config = _read_config(spec, "config_sentence_transformers.json")
    has_modules = _read_config(spec, "modules.json") is not None
    if st_config is not None or has_modules:
        kind = (st_config or {}).get("model_type", "SentenceTransformer")
        if kind != "CrossEncoder":
            return (f"is a {kind} model (it embeds texts), not a cross-encoder: give it with -m, and a "
                    "cross-encoder (e.g. cross-encoder/ms-marco-MiniLM-L6-v2, BAAI/bge-reranker-base) to --reranker")
        return None
    config = _read_config(spec, "config.json")
    architectures = (config or {}).get("architectures") or []
    if architectures and not any(a.endswith(SCORING_HEADS) for a in architectures):
        return (f"is a {architectures[0]} without a scoring head, not a cross-encoder (its architecture "
                "should end in ForSequenceClassification)")
    return None


def _read_config(spec: str, name: str) -> Any | None:
    """A JSON file of a model directory, or of a hub id's cached snapshot (None when absent or unreadable)."""
    path = Path(spec).expanduser()
    if path.is_dir():
        file = path / name
    else:
        try:
            from huggingface_hub import try_to_load_from_cache

            found = try_to_load_from_cache(spec, name)
        except Exception:  # noqa: BLE001 - an id the hub library rejects: loading will say why
            return None
        if not isinstance(found, str):
            return None
        file = Path(found)
    try:
        return json.loads(file.read_text(encoding="utf-8")) if file.is_file() else None
    except (OSError, ValueError):
        return None
