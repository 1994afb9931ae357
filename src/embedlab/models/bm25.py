"""BM25 as a model: `-m bm25` (the tokenizer from `--bm25-tokenizer`, default auto) or `-m bm25:<tokenizer>`
(`bm25:word`, `bm25:char`, `bm25:whitespace`: that model's tokenizer, whatever `--bm25-tokenizer` says),
to compare tokenizers in one run.

Scores are bm25s's (Lucene BM25, k1 1.5, b 0.75 by default), with mteb 2.x's `mteb/baseline-bm25s`
settings: with the same tokenizer they equal mteb's (bench/bm25.py). Like mteb, a document is indexed as
its (empty) title and its text joined by a newline, and a reranking task is one index over the candidates
of every row (IDF counts them all) with each row's query scored on its own candidates. Unlike mteb, every
candidate gets its score: mteb keeps only those in the query's top 1000 of all the task's candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import ModelError
from embedlab.models.base import ModelOptions, Ranker
from embedlab.models.bm25_index import Index, IndexStore, Settings
from embedlab.models.bm25_tokenizers import check_tokenizer


class BM25(Ranker):
    """Ranks a corpus by BM25; a reranking row's candidates by `score_rows`."""

    options_read = frozenset({"bm25_k1", "bm25_b", "bm25_tokenizer"})
    requires = ("bm25s", "jieba", "Stemmer")  # the bm25 extra: jieba for Chinese words, PyStemmer for English stems

    def __init__(self, spec: str = "", options: ModelOptions | None = None) -> None:
        options = options or ModelOptions()
        tokenizer = check_tokenizer(spec or options.bm25_tokenizer)  # the name's tokenizer wins for this model
        if options.bm25_k1 < 0 or not 0 <= options.bm25_b <= 1:
            raise ModelError(f"BM25 needs k1 >= 0 and 0 <= b <= 1 (got k1={options.bm25_k1}, b={options.bm25_b})")
        self.name = f"bm25:{spec}" if spec else "bm25"
        self.settings = Settings(tokenizer=tokenizer, k1=float(options.bm25_k1), b=float(options.bm25_b))
        self.indexes = IndexStore()
        self.tokenizers_used: dict[str, None] = {}

    @classmethod
    def check_name(cls, name: str) -> None:
        if name:
            check_tokenizer(name)

    def keep_indexes(self, folder: Path | None) -> None:
        self.indexes.folder = folder

    def info(self) -> dict[str, Any]:
        used = {"tokenizer_used": ", ".join(self.tokenizers_used)} if self.settings.tokenizer == "auto" else {}
        return {**super().info(), "backend": "bm25s", "tokenizer": self.settings.tokenizer, **used,
                "k1": self.settings.k1, "b": self.settings.b, "method": self.settings.method,
                "bm25s": _version("bm25s"), **({"jieba": _version("jieba")} if "word" in self._tokenizers() else {})}

    def rank(self, queries: dict[str, str], corpus: dict[str, str], depth: int) -> tuple[np.ndarray, np.ndarray]:
        """The top `depth` by score; equal scores in trec_eval's order (the higher document id first)."""
        depth = min(depth, len(corpus))
        if not queries or not depth:
            return np.full((len(queries), depth), -1, dtype=np.int64), np.zeros((len(queries), depth), np.float32)
        docs, scores = self._index(list(corpus.values())).top(list(queries.values()), depth)
        tie_rank = np.empty(len(corpus), dtype=np.int64)
        tie_rank[np.argsort(np.array(list(corpus), dtype=object), kind="stable")] = np.arange(len(corpus))
        order = np.lexsort((-tie_rank[docs], -scores), axis=1)
        return np.take_along_axis(docs, order, axis=1), np.take_along_axis(scores, order, axis=1)

    def score_rows(self, queries: Sequence[str], candidates: Sequence[Sequence[str]]) -> np.ndarray:
        """The score of every candidate for its row's query, rows one after another: one index over all
        rows' candidates (duplicates kept, as mteb's reranking corpus holds them), each row scored on its own."""
        texts = [text for row in candidates for text in row]
        scores = np.zeros(len(texts), dtype=np.float32)
        if not texts:
            return scores
        index = self._index(texts)
        start = 0
        for query, row in zip(queries, candidates):
            scores[start:start + len(row)] = index.scores_between(query, start, start + len(row))
            start += len(row)
        return scores

    def close(self) -> None:
        self.indexes.clear()

    def _index(self, texts: list[str]) -> Index:
        # mteb indexes "\n".join([title, text]); our texts hold the title already, so the title is empty
        # (only the char tokenizer sees the newline: one token more per document, as in mteb)
        index = self.indexes.get(["\n" + text for text in texts], self.settings)
        self.tokenizers_used[index.tokenizer] = None
        return index

    def _tokenizers(self) -> list[str]:
        return list(self.tokenizers_used) or [self.settings.tokenizer]


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
