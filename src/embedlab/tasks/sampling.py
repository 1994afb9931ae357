"""Seeded subsamples: pay for N rows (or queries) instead of all, reproducibly.

The same (data, N, seed) always gives the same sample, whatever the model, so runs on a sample stay
comparable. Retrieval keeps the whole corpus by default (scores are then unbiased estimates of the
full-set scores, only noisier); `prune_corpus=True` keeps just the sampled queries' judged documents
plus `distractors` random others: far cheaper to embed, but every score goes up, since fewer
non-relevant documents compete.
"""

from __future__ import annotations

import dataclasses
import random

from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask


def sample_reranking(task: RerankingTask, n: int, seed: int = 0, **_: object) -> RerankingTask:
    """N seeded rows (all of them when there are no more)."""
    if n >= len(task.rows):
        return task
    keep = sorted(random.Random(seed).sample(range(len(task.rows)), n))
    return dataclasses.replace(task, rows=[task.rows[i] for i in keep],
                               sample={"n": n, "of": len(task.rows), "seed": seed})


def sample_retrieval(task: RetrievalTask, n: int, seed: int = 0, *, prune_corpus: bool = False,
                     distractors: int = 0) -> RetrievalTask:
    """N seeded queries with their judgments; the whole corpus, or (prune_corpus) the judged documents
    plus `distractors` random others."""
    rng = random.Random(seed)
    qids = list(task.queries)
    if n >= len(qids) and not prune_corpus:
        return task
    chosen = sorted(rng.sample(range(len(qids)), min(n, len(qids))))
    queries = {qids[i]: task.queries[qids[i]] for i in chosen}
    qrels = {q: task.qrels[q] for q in queries}
    corpus = task.corpus
    if prune_corpus:
        judged = {d for docs in qrels.values() for d in docs}
        others = sorted(set(corpus) - judged)
        extra = set(rng.sample(others, min(distractors, len(others))))
        corpus = {d: t for d, t in corpus.items() if d in judged or d in extra}
    return dataclasses.replace(task, queries=queries, qrels=qrels, corpus=corpus,
                               sample={"n": len(queries), "of": len(qids), "seed": seed,
                                       "corpus": "pruned" if prune_corpus else "whole",
                                       "distractors": distractors if prune_corpus else None})
