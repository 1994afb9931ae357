"""What an evaluation would send and cost, computed without sending anything.

Uses the same task loading, sampling, de-duplication and cache keys as `evaluate`, so the count of
texts to embed is exactly what a run would embed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from embedlab.embed import cache_key
from embedlab.evaluation import load_tasks, open_cache
from embedlab.models import ModelOptions, load_encoder
from embedlab.models.limits import estimated_tokens
from embedlab.models.pricing import price_of


def estimate(models: Sequence[str], reranking=None, retrieval=None, *, split: str | None = None,
             sample: int | None = None, seed: int = 0, prune_corpus: int | None = None,
             query_instruction: str | None = None, document_instruction: str | None = None,
             max_length: int | None = None, cache: str | Path | bool | None = None,
             api: dict | None = None, price_per_mtok: float | None = None) -> list[dict]:
    tasks = load_tasks(reranking, retrieval, split=split, sample=sample, seed=seed,
                       prune_corpus=prune_corpus)
    texts = {"query": {}, "document": {}}
    for task in tasks:
        texts["query"].update(dict.fromkeys(task.texts("query")))
        texts["document"].update(dict.fromkeys(task.texts("document")))
    options = ModelOptions(query_instruction=query_instruction, document_instruction=document_instruction,
                           max_length=max_length, device="cpu", **(api or {}))
    unique = {kind: list(kind_texts) for kind, kind_texts in texts.items()}
    return [estimate_texts(encoder, unique, open_cache(cache, encoder), price_per_mtok=price_per_mtok)
            for encoder in (load_encoder(spec, options) for spec in models)]


def estimate_texts(encoder, texts: dict[str, list[str]], cache=None, *,
                   price_per_mtok: float | None = None) -> dict:
    """What embedding `texts` (kind -> distinct texts) with `encoder` would send and cost; nothing is sent.

    Cached texts are left out, requests use the backend's own per-request cap, tokens come from the
    model's tokenizer when it has one (else a character estimate), prices from `models.pricing`.
    """
    paid = bool(getattr(encoder, "paid", False))
    row = {"model": encoder.name, "unique_texts": 0, "cached": 0, "to_embed": 0, "requests": 0,
           "tokens": 0, "token_count": "tokenizer" if hasattr(encoder, "count_tokens")
           else "estimated from characters"}
    for kind, unique in texts.items():
        cached = cache.get_many(cache_key(encoder, kind), unique) if cache else {}
        todo = [t for t in unique if t not in cached]
        prefix = encoder.instructions.get(kind, "") if hasattr(encoder, "instructions") else ""
        inputs = [prefix + t for t in todo]
        row["unique_texts"] += len(unique)
        row["cached"] += len(cached)
        row["to_embed"] += len(todo)
        row["tokens"] += encoder.count_tokens(inputs) if hasattr(encoder, "count_tokens") \
            else sum(estimated_tokens(t) for t in inputs)
        if paid:  # the backend's own cap (Qianfan: 16), as eval will send them
            row["requests"] += math.ceil(len(todo) / encoder.options.max_inputs)
    price, currency = (price_per_mtok, "") if price_per_mtok is not None else \
        price_of(getattr(encoder, "model", "")) or (None, "")
    if not paid:
        price, currency = 0.0, "(local)"
    row["cost"] = None if price is None else row["tokens"] / 1e6 * price
    row["currency"] = currency
    return row
