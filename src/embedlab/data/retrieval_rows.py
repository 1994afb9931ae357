"""Reranking rows from a retrieval collection: positives from the qrels, negatives judged or sampled.

One row per query with at least one judgment of grade > 0:
- positives: the passages judged relevant (grade > 0), highest grade first, then by corpus id;
- negatives: the passages judged not relevant (grade 0), by corpus id, then `negatives` passages drawn at
  random (seeded per query) from the corpus, never a passage judged for that query nor a text already in
  the row. Hard (mined) negatives come from `embedlab mine`, which ranks the corpus with a model.
Passage texts are the corpus texts as evaluation reads them (title and text joined, as mteb does).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from embedlab.data.records import Record
from embedlab.tasks.retrieval import RetrievalTask

_TRIES_PER_NEGATIVE = 20  # random draws before falling back to scanning the corpus (small corpora)


@dataclass
class RetrievalRows:
    rows: list[Record]  # (folder, 1-based query position, {_id?, query, positive, negative})
    no_positive: int = 0  # queries judged, but only with grade 0
    without_negative: int = 0  # rows written with an empty negative list
    short_of_samples: int = 0  # rows that got fewer than `negatives` sampled passages (small corpus)


def retrieval_rows(task: RetrievalTask, *, negatives: int = 0, seed: int = 0, with_ids: bool = True,
                   source: Path | None = None) -> RetrievalRows:
    """Rows in the C-MTEB reranking layout (`_id` is the query id)."""
    if negatives < 0:
        raise ValueError(f"negatives must be >= 0, got {negatives}")
    source = source or Path(task.source)
    ids = list(task.corpus)
    out = RetrievalRows([])
    for number, (qid, query) in enumerate(task.queries.items(), start=1):
        judged = task.qrels.get(qid, {})
        relevant = sorted((d for d, g in judged.items() if g > 0), key=lambda d: (-judged[d], d))
        if not relevant:
            out.no_positive += 1
            continue
        positive = [task.corpus[d] for d in relevant]
        negative = [task.corpus[d] for d in sorted(d for d, g in judged.items() if g == 0)]
        # every judged passage is in the row, so excluding the row's texts excludes them (and their duplicates)
        sampled = _sample(ids, task.corpus, set(positive) | set(negative), negatives,
                          random.Random(f"{seed}:{qid}"))
        out.short_of_samples += len(sampled) < negatives
        negative += sampled
        out.without_negative += not negative
        row = {"_id": qid} if with_ids else {}
        out.rows.append((source, number, {**row, "query": query, "positive": positive, "negative": negative}))
    return out


def _sample(ids: list[str], corpus: dict[str, str], taken: set[str], n: int, rng: random.Random) -> list[str]:
    """Up to n distinct corpus texts drawn at random, none of them in `taken` (the row's judged texts)."""
    chosen: list[str] = []
    taken = set(taken)
    for _ in range(_TRIES_PER_NEGATIVE * n):
        text = corpus[ids[rng.randrange(len(ids))]]
        if text not in taken:
            chosen.append(text)
            taken.add(text)
            if len(chosen) == n:
                return chosen
    if len(chosen) == n:  # n == 0
        return chosen
    rest = [corpus[d] for d in ids if corpus[d] not in taken]
    rng.shuffle(rest)
    for text in rest:
        if len(chosen) == n:
            break
        if text not in taken:
            chosen.append(text)
            taken.add(text)
    return chosen
