"""Training examples for InfoNCE with hard negatives: (anchor, positive, negative_1..negative_{g-1}).

One example per (query, positive). Each takes `group_size - 1` of its row's negatives (a seeded
sample); a row with fewer negatives is filled with random passages of other rows (never one of its
own texts), counted as `filled_negatives`, instead of failing as FlagEmbedding does on an empty `neg`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from embedlab.data.training import TrainingData


@dataclass
class Examples:
    columns: dict[str, list]  # anchor, positive, negative_1.. (and a teacher's "label": scores per candidate)
    counts: dict[str, int] = field(default_factory=dict)
    raw: list[tuple[str, list[str]]] = field(default_factory=list, repr=False)  # (query, candidates) as written

    def __len__(self) -> int:
        return len(self.columns["anchor"])

    @property
    def labels(self) -> list | None:
        return self.columns.get("label")


def build_examples(data: TrainingData, *, group_size: int = 8, seed: int = 0,
                   query_instruction: str | None = None, document_instruction: str | None = None,
                   truncate_query=None) -> Examples:
    """`truncate_query(texts) -> (texts, n_cut)` cuts queries to the query max length (tokens)."""
    if group_size < 1:
        raise ValueError("group_size must be at least 1")
    rng = random.Random(seed)
    pool = data.passages()
    n_neg = group_size - 1
    columns: dict[str, list] = {"anchor": [], "positive": [], **{f"negative_{i + 1}": [] for i in range(n_neg)}}
    raw: list[tuple[str, list[str]]] = []
    counts = {"rows": len(data.rows), "examples": 0, "filled_negatives": 0, "rows_filled": 0,
              "rows_skipped": sum(data.skipped.values())}
    doc_prefix = document_instruction or ""
    for row in data.rows:
        query = (row.prompt if row.prompt is not None else query_instruction or "") + row.query
        own = set(row.positives) | set(row.negatives)
        for positive in row.positives:
            negatives = rng.sample(row.negatives, min(n_neg, len(row.negatives)))
            missing = n_neg - len(negatives)
            if missing:
                negatives += _random_others(rng, pool, own, missing)
                counts["filled_negatives"] += missing
                counts["rows_filled"] += 1
            columns["anchor"].append(query)
            columns["positive"].append(doc_prefix + positive)
            raw.append((row.query, [positive, *negatives]))
            for i, text in enumerate(negatives):
                columns[f"negative_{i + 1}"].append(doc_prefix + text)
    counts["examples"] = len(columns["anchor"])
    if truncate_query is not None:
        columns["anchor"], counts["queries_truncated"] = truncate_query(columns["anchor"])
    return Examples(columns, counts, raw)


def _random_others(rng: random.Random, pool: list[str], own: set[str], n: int) -> list[str]:
    chosen: list[str] = []
    if len(pool) - len(own) < n:
        raise ValueError(f"not enough distinct passages to fill {n} negatives; lower --group-size")
    while len(chosen) < n:
        text = pool[rng.randrange(len(pool))]
        if text not in own and text not in chosen:
            chosen.append(text)
    return chosen


def token_truncator(tokenizer, max_tokens: int):
    """Cut texts so that with the model's special tokens they are at most `max_tokens` long.

    (FlagEmbedding's query_max_len, applied to the text: sentence-transformers has one max length.)
    """
    keep = max(1, max_tokens - tokenizer.num_special_tokens_to_add())

    def truncate(texts: list[str]) -> tuple[list[str], int]:
        encoded = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True,
                            truncation=False)
        out, cut = [], 0
        for text, offsets in zip(texts, encoded["offset_mapping"]):
            if len(offsets) > keep:
                out.append(text[: offsets[keep - 1][1]])
                cut += 1
            else:
                out.append(text)
        return out, cut

    return truncate
