"""Semantic breakpoints: a chunk starts where neighbouring sentences' embeddings diverge.

Each document's sentences are embedded (through an `EmbeddingStore`: cached, each distinct sentence once, the
time counted with the model's); the cosine of each sentence with the next is computed, and the neighbours in
the lowest `percentile` of a document's cosines are breakpoints (Kamradt's "percentile" method, as Chroma's
report uses it, in similarities instead of distances). Chunks are then packed sentence by sentence up to the
size, never across a breakpoint (`splitters._packed`).
"""

from __future__ import annotations

import numpy as np

from embedlab.chunking.documents import Document

BREAK_PERCENTILE = 20.0  # the least similar fifth of neighbouring sentences start a new chunk


class SemanticBreaks:
    """`breaks(document, sentences)`: the indices of the sentences a chunk must start at."""

    def __init__(self, store, percentile: float = BREAK_PERCENTILE) -> None:
        self.store = store
        self.percentile = percentile
        self.sentences_embedded = 0

    def __call__(self, document: Document, sentences: list[tuple[int, int]]) -> set[int]:
        if len(sentences) < 3:
            return set()
        texts = [document.text[start:end] for start, end in sentences]
        vectors = self.store.embed(texts, "document")  # unit vectors: the dot product is the cosine
        self.sentences_embedded += len(texts)
        similarity = np.einsum("ij,ij->i", vectors[:-1], vectors[1:])
        return break_indices(similarity, self.percentile)


def break_indices(similarity: np.ndarray, percentile: float) -> set[int]:
    """Sentence indices i + 1 where similarity[i] (sentence i with i + 1) is at or below the percentile."""
    threshold = np.percentile(similarity, percentile)
    return {int(i) + 1 for i in np.flatnonzero(similarity <= threshold)}
