"""BM25 indexes: bm25s's sparse index of one corpus, built with one of `bm25_tokenizers`, and where they are
kept: in memory for the run, and on disk (keyed by the corpus's content and the settings) under a folder.

The scores are bm25s's own (its `index`, `retrieve`, `get_scores` arrays); nothing here computes a BM25
weight. `IndexStore` builds an index once per corpus and settings, whichever task asks for it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.data.output import atomic_folder
from embedlab.errors import ModelError
from embedlab.models.base import fingerprint
from embedlab.models.bm25_tokenizers import bm25s_module, resolve, tokenizer

log = logging.getLogger(__name__)

FORMAT = 1  # bump when tokenization or the saved layout changes: folders of another format are not read
_MANIFEST = "embedlab-bm25.json"  # written last: a folder without it is incomplete


@dataclass(frozen=True)
class Settings:
    """What decides an index besides the corpus (defaults: mteb's `baseline-bm25s`)."""

    tokenizer: str = "auto"
    k1: float = 1.5
    b: float = 0.75
    method: str = "lucene"


class Index:
    """A corpus's bm25s index and the tokenizer its documents were split with (queries get the same)."""

    def __init__(self, retriever: Any, tokenizer_name: str) -> None:
        self.retriever = retriever
        self.tokenizer = tokenizer_name
        self._split = tokenizer(tokenizer_name)

    @property
    def size(self) -> int:
        return int(self.retriever.scores["num_docs"])

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        return [self._split(text) for text in texts]

    def top(self, queries: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(document positions, scores) of each query's top k as bm25s's `retrieve` selects them (numpy
        top-k, as mteb's baseline runs it), by descending score; ties in no particular order."""
        docs, scores = self.retriever.retrieve(self.tokenize(queries), k=k, show_progress=False,
                                               backend_selection="numpy")
        return np.asarray(docs, dtype=np.int64), np.asarray(scores, dtype=np.float32)

    def scores_between(self, query: str, start: int, stop: int) -> np.ndarray:
        """The query's scores of documents start..stop-1: bm25s's `get_scores` read for that range only.

        bm25s keeps each token's (document, weight) pairs sorted by document, so the range is found by
        bisection; the weights are added in query-token order as `get_scores` adds them (same floats)."""
        matrix = self.retriever.scores
        data, indices, indptr = matrix["data"], matrix["indices"], matrix["indptr"]
        out = np.zeros(stop - start, dtype=data.dtype)
        for token in self.retriever.get_tokens_ids(self._split(query)):
            lo, hi = int(indptr[token]), int(indptr[token + 1])
            first, last = np.searchsorted(indices[lo:hi], [start, stop]) + lo
            np.add.at(out, indices[first:last] - start, data[first:last])
        return out


def build(texts: Sequence[str], settings: Settings) -> Index:
    """Tokenize the corpus and let bm25s index it."""
    bm25s = bm25s_module()
    name = resolve(settings.tokenizer, texts)
    split = tokenizer(name)
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(token, len(vocab)) for token in split(text)] for text in texts]
    if not vocab:
        raise ModelError(f"BM25: no document of the corpus ({len(texts):,}) has a single token with the "
                         f"'{name}' tokenizer; try --bm25-tokenizer char")
    retriever = bm25s.BM25(k1=settings.k1, b=settings.b, method=settings.method)
    retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    return Index(retriever, name)


def corpus_hash(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


def index_key(texts: Sequence[str], settings: Settings) -> str:
    bm25s = bm25s_module()
    return fingerprint(FORMAT, asdict(settings), bm25s.__version__, corpus_hash(texts))


class IndexStore:
    """Indexes by corpus content and settings: each built once, kept while the store lives, and saved in
    (then read from) `folder` when one is given. `built` / `loaded` count what was built / read from disk."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self.memory: dict[str, Index] = {}
        self.built = 0
        self.loaded = 0

    def get(self, texts: Sequence[str], settings: Settings) -> Index:
        key = index_key(texts, settings)
        if key not in self.memory:
            index = self._load(key, len(texts)) if self.folder else None
            if index is None:
                index = build(texts, settings)
                self.built += 1
                if self.folder:
                    self._save(key, index)
            else:
                self.loaded += 1
            self.memory[key] = index
        return self.memory[key]

    def clear(self) -> None:
        self.memory.clear()

    def path(self, key: str) -> Path:
        return Path(self.folder) / f"bm25-{key}"

    def _save(self, key: str, index: Index) -> None:
        try:
            with atomic_folder(self.path(key)) as partial:
                index.retriever.save(partial, show_progress=False)
                manifest = {"format": FORMAT, "key": key, "tokenizer": index.tokenizer, "documents": index.size}
                (partial / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        except OSError as exc:  # the run goes on: the index is only not kept for the next one
            log.warning("BM25 index not saved in %s: %s", self.folder, exc)

    def _load(self, key: str, documents: int) -> Index | None:
        folder = self.path(key)
        try:
            manifest = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if manifest.get("format") != FORMAT or manifest.get("key") != key or manifest.get("documents") != documents:
            return None
        bm25s = bm25s_module()
        try:
            retriever = bm25s.BM25.load(folder, show_progress=False)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("BM25 index in %s is unreadable (%s): building it again", folder, exc)
            shutil.rmtree(folder, ignore_errors=True)
            return None
        return Index(retriever, manifest["tokenizer"])
