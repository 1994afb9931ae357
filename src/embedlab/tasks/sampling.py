"""Seeded subsamples: pay for N rows (or queries) instead of all, reproducibly.

The same (data, N, seed) always gives the same sample, whatever the model, so runs on a sample stay
comparable; a sample sampled again with the same settings is itself (tasks loaded by the CLI reach `evaluate`
sampled already), and another sample of a sample is refused: it could not be drawn again from the data.
Retrieval keeps the whole corpus by default (scores are then unbiased estimates of the full-set scores, only
noisier); `prune_corpus=True` keeps just the sampled queries' judged documents plus `distractors` random others:
far cheaper to embed, but every score goes up, since fewer non-relevant documents compete (`sample_note` says so
wherever such a score is shown).
"""

from __future__ import annotations

import dataclasses
import random

from embedlab.errors import DataError
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask


def sample_reranking(task: RerankingTask, n: int, seed: int = 0, **_: object) -> RerankingTask:
    """N seeded rows (all of them when there are no more)."""
    if _sampled_already(task, {"n": n, "seed": seed}):
        return task
    if n >= len(task.rows):
        return task
    keep = sorted(random.Random(seed).sample(range(len(task.rows)), n))
    return dataclasses.replace(task, rows=[task.rows[i] for i in keep],
                               sample={"n": n, "of": len(task.rows), "seed": seed})


def sample_retrieval(task: RetrievalTask, n: int, seed: int = 0, *, prune_corpus: bool = False,
                     distractors: int = 0) -> RetrievalTask:
    """N seeded queries with their judgments; the whole corpus, or (prune_corpus) the judged documents
    plus `distractors` random others."""
    if _sampled_already(task, {"n": n, "seed": seed, "corpus": "pruned" if prune_corpus else "whole",
                               "distractors": distractors if prune_corpus else None}):
        return task
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


def _sampled_already(task: RerankingTask | RetrievalTask, wanted: dict) -> bool:
    """Whether `task` is the sample `wanted` describes already (True: sampling it again changes nothing); a task that
    is another sample is refused."""
    if task.sample is None:
        return False
    recorded = {key: task.sample.get(key) for key in wanted}
    if recorded == wanted or (wanted["n"] >= task.sample["of"] and {**recorded, "n": wanted["n"]} == wanted):
        return True
    raise DataError(f"task {task.name} is a seeded sample already ({sample_note(task.sample)}), not one to draw "
                    f"{wanted['n']:,} from with seed {wanted['seed']}", path=task.source or None,
                    hint="sample the whole data")


def sample_note(sample: dict) -> str:
    """A recorded sample in words, as every table's note says it; a pruned corpus says what it does to scores."""
    words = f"seeded sample of {sample['n']:,} of {sample['of']:,} (seed {sample['seed']})"
    if sample.get("corpus") == "pruned":
        words += (f", corpus pruned to their judged documents + {sample.get('distractors') or 0:,} others: scores are "
                  "higher than on the whole corpus")
    return words
