"""What sizes and span metrics count: the embedding model's tokens (the default) or characters.

`TokenUnits` wraps a Hugging Face fast tokenizer (`tokenizers.Tokenizer`): each document is tokenized once,
without special tokens, and a character range counts the tokens whose character span overlaps it. A chunk cut
at token boundaries (every splitter here cuts there) counts exactly its tokens; an answer counts the tokens it
touches. `CharUnits` counts characters. Both give the offsets the fixed-size splitter walks over.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embedlab.errors import ModelError, require

SHORTEST_CHUNK = 16  # units of text: below this a chunk holds less than a short sentence


class CharUnits:
    name = "chars"
    special_tokens = 0
    max_length: int | None = None

    def __init__(self) -> None:
        self._offsets: dict[str, np.ndarray] = {}

    def offsets(self, text: str) -> np.ndarray:
        """(units, 2) start / end character offsets of each unit of `text`."""
        found = self._offsets.get(text)
        if found is None:
            at = np.arange(len(text), dtype=np.int64)
            found = self._offsets[text] = np.column_stack([at, at + 1])
        return found

    def count(self, text: str, start: int = 0, end: int | None = None) -> int:
        """Units of `text[start:end]` (tokens overlapping the range, as the module docstring says)."""
        offsets = self.offsets(text)
        end = len(text) if end is None else end
        return int(np.searchsorted(offsets[:, 0], end, "left") - np.searchsorted(offsets[:, 1], start, "right"))

    def ids(self, text: str, start: int, end: int) -> range:
        """Indices of the units of `text` that `text[start:end]` covers (for token-level span metrics)."""
        offsets = self.offsets(text)
        return range(int(np.searchsorted(offsets[:, 1], start, "right")),
                     int(np.searchsorted(offsets[:, 0], end, "left")))

    def text_splitter(self, size: int, overlap: int):
        splitter = require("semantic_text_splitter", "the recursive splitter (embedlab chunks)")
        return splitter.TextSplitter(size, overlap=overlap)

    def forget(self) -> None:
        self._offsets.clear()


class TokenUnits(CharUnits):
    def __init__(self, tokenizer: Any, name: str, max_length: int | None = None) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.name = f"tokens ({name})"
        self.max_length = max_length
        self.special_tokens = len(tokenizer.encode("", add_special_tokens=True).ids)

    @classmethod
    def of_model(cls, spec: str) -> TokenUnits:
        """The tokenizer of a local model (a directory or a Hugging Face id), as a fast `tokenizers.Tokenizer`."""
        from embedlab.models.tokenizer import load_tokenizer

        Tokenizer = require("tokenizers", "token offsets (embedlab chunks)").Tokenizer

        loaded, max_length = load_tokenizer(spec)
        backend = getattr(loaded, "backend_tokenizer", None)
        if backend is None:
            raise ModelError(f"the tokenizer of '{spec}' is not a fast tokenizer: token offsets need one "
                             "(give --size-unit chars, or --tokenizer with another model)")
        tokenizer = Tokenizer.from_str(backend.to_str())
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return cls(tokenizer, "/".join(spec.removeprefix("st:").rstrip("/").split("/")[-2:]), max_length)

    def offsets(self, text: str) -> np.ndarray:
        found = self._offsets.get(text)
        if found is None:
            spans = self.tokenizer.encode(text, add_special_tokens=False).offsets
            found = np.array(spans, dtype=np.int64).reshape(-1, 2)
            # a token the tokenizer maps to no text (offsets (0, 0) after the start) takes its neighbour's place
            found[:, 0] = np.maximum.accumulate(found[:, 0]) if len(found) else found[:, 0]
            found[:, 1] = np.maximum(np.maximum.accumulate(found[:, 1]) if len(found) else found[:, 1], found[:, 0])
            self._offsets[text] = found
        return found

    def text_splitter(self, size: int, overlap: int):
        splitter = require("semantic_text_splitter", "the recursive splitter (embedlab chunks)")
        return splitter.TextSplitter.from_huggingface_tokenizer(self.tokenizer, size, overlap=overlap)
