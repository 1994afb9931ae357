"""A local model's tokenizer and its max length, without loading the model's weights (for token counts)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from embedlab.errors import ModelError, require
from embedlab.models.registry import backend_of

_NO_LIMIT = 1_000_000  # transformers' placeholder model_max_length is ~1e30


def load_tokenizer(spec: str) -> tuple[Any, int | None]:
    """The tokenizer of a local model (directory or Hugging Face id) and its max sequence length in tokens.

    The max length is the sentence-transformers `max_seq_length` when configured, else the
    tokenizer's own limit, else None.
    """
    if backend_of(spec) != "st":
        raise ModelError(f"token counts need a local model's tokenizer, not '{spec}' "
                         "(give a model directory or Hugging Face id)")
    spec = spec.removeprefix("st:")
    transformers = require("transformers", "counting tokens")
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(spec)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load the tokenizer of '{spec}': {str(exc).splitlines()[0][:300]}") from None
    return tokenizer, _configured_max_length(spec) or _tokenizer_limit(tokenizer)


def token_counts(tokenizer: Any, texts: Iterable[str], *, batch_size: int = 1000) -> dict[str, int]:
    """Tokens per distinct text, special tokens included (what counts against the max length)."""
    distinct = list(dict.fromkeys(texts))
    counts: dict[str, int] = {}
    for start in range(0, len(distinct), batch_size):
        chunk = distinct[start:start + batch_size]
        ids = tokenizer(chunk, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
        counts.update(zip(chunk, map(len, ids)))
    return counts


def _configured_max_length(spec: str) -> int | None:
    config = Path(spec) / "sentence_bert_config.json"
    if not config.exists():
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError

        try:  # a hub id: the cached file, if any (offline mode never downloads)
            config = Path(hf_hub_download(spec, "sentence_bert_config.json"))
        except (OSError, ValueError, EntryNotFoundError):  # not cached, or a plain transformers model
            return None
    value = json.loads(config.read_text(encoding="utf-8")).get("max_seq_length")
    return int(value) if value else None


def _tokenizer_limit(tokenizer: Any) -> int | None:
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if limit and limit < _NO_LIMIT else None
