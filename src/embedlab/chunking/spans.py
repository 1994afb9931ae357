"""Span metrics of retrieved chunks against the answers, per query, at k (units: `chunking.units`).

Chroma's chunking evaluation ("Evaluating Chunking Strategies for Retrieval", Smith & Troynikov, 2024) defines,
for a query with excerpt tokens t_e and the tokens t_r of its k retrieved chunks:

    recall    = |t_e ∩ t_r| / |t_e|
    precision = |t_e ∩ t_r| / |t_r|
    IoU       = |t_e ∩ t_r| / (|t_e| + |t_r| - |t_e ∩ t_r|)

where the intersection counts each token once, and |t_r| counts every retrieved token, a token that two
overlapping chunks both hold twice (overlap is paid for). Their code counts characters; here tokens of the
model's tokenizer (or characters when asked, and the table says which). A retrieved chunk of another document
shares no token with the answer. Besides: answer hit@k (the whole of an answer inside one retrieved chunk),
the rank of the first chunk holding a whole answer (depth + 1 when none of the ranked chunks does), and the
context handed to an LLM per query (|t_r|, the units of the k chunks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ChunkTable:
    """The chunks of one configuration as arrays, in corpus order."""

    doc: np.ndarray  # document index
    start: np.ndarray  # character offsets in the document
    end: np.ndarray
    lo: np.ndarray  # unit indices in the document: [lo, hi)
    hi: np.ndarray

    @property
    def units(self) -> np.ndarray:
        return self.hi - self.lo


@dataclass
class Excerpts:
    """Each query's document index, its answers' character spans, and its excerpt unit indices (sorted, unique)."""

    doc: np.ndarray
    spans: list[list[tuple[int, int]]]
    units: list[np.ndarray]


def span_scores(chunks: ChunkTable, excerpts: Excerpts, ranked: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Per-query scores (see the module docstring); `ranked`: (queries, depth) chunk indices, -1 pads."""
    n = len(excerpts.doc)
    out = {name: np.zeros(n) for name in (f"span_recall@{k}", f"span_precision@{k}", f"span_iou@{k}",
                                          f"answer_hit@{k}", f"context_tokens@{k}", "answer_rank")}
    for q in range(n):
        top = ranked[q, :k]
        top = top[top >= 0]
        retrieved = float(chunks.units[top].sum())
        own = top[chunks.doc[top] == excerpts.doc[q]]
        tokens = excerpts.units[q]
        inside = (tokens[:, None] >= chunks.lo[own]) & (tokens[:, None] < chunks.hi[own])
        shared = float(inside.any(axis=1).sum()) if own.size else 0.0
        out[f"span_recall@{k}"][q] = shared / len(tokens) if len(tokens) else 0.0
        out[f"span_precision@{k}"][q] = shared / retrieved if retrieved else 0.0
        union = len(tokens) + retrieved - shared
        out[f"span_iou@{k}"][q] = shared / union if union else 0.0
        out[f"context_tokens@{k}"][q] = retrieved
        holds = holding(chunks, excerpts, q, ranked[q][ranked[q] >= 0])
        out[f"answer_hit@{k}"][q] = float(holds[:len(top)].any())
        out["answer_rank"][q] = float(np.argmax(holds) + 1) if holds.any() else float(ranked.shape[1] + 1)
    return out


def holding(chunks: ChunkTable, excerpts: Excerpts, q: int, indices: np.ndarray) -> np.ndarray:
    """Whether each chunk of `indices` holds the whole of one of query q's answers."""
    same = chunks.doc[indices] == excerpts.doc[q]
    found = np.zeros(len(indices), dtype=bool)
    for start, end in excerpts.spans[q]:
        found |= same & (chunks.start[indices] <= start) & (chunks.end[indices] >= end)
    return found


def document_scores(chunks: ChunkTable, relevant_docs: list[set[int]], ranked: np.ndarray, k: int
                    ) -> dict[str, np.ndarray]:
    """Document-level judgments only: a chunk of a judged document in the top k, and the context handed on."""
    hit, context = np.zeros(len(relevant_docs)), np.zeros(len(relevant_docs))
    for q, relevant in enumerate(relevant_docs):
        top = ranked[q, :k]
        top = top[top >= 0]
        hit[q] = float(any(int(d) in relevant for d in chunks.doc[top]))
        context[q] = float(chunks.units[top].sum())
    return {f"document_hit@{k}": hit, f"context_tokens@{k}": context}
