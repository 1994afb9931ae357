"""What an evaluation would send and cost, computed without sending anything.

Takes the same loaded tasks as `evaluate`, de-duplicates texts the same way and looks the cache up with
the same keys, so the count of texts to embed is exactly what a run would embed. For a local model (nothing to
pay, so nothing to refuse), `probe` also measures how long the run would take: a few dozen of the texts to embed,
spread over their lengths, encoded after a warm-up, and the rate extrapolated to all of them, per kind of text
(`measure_time`): a measured estimate, on this machine, now.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from embedlab.embedding.cache import EmbeddingCache, open_cache
from embedlab.errors import EmbedlabError
from embedlab.models.base import KINDS, Combination, Model, ModelOptions, PairScorer, TextModel
from embedlab.models.limits import estimated_tokens
from embedlab.models.registry import load_model
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask
from embedlab.tasks.types import Task, ranks_corpus

PROBE_STRATA = 4  # per kind of text, blocks of similar length at the middle of each quarter of the lengths
# texts per block: the run's batch size, up to this (a block of 16 where the run batches 32 measured 1.5x the time
# per text on a CPU: bench/RESULTS.md, "estimate's measured time")
PROBE_BLOCK = 32

def estimate(models: Sequence[str | Model], tasks: list[Task], *, model: ModelOptions | None = None,
             cache: str | Path | bool | None = None, price_per_mtok: float | None = None,
             probe: bool = False) -> list[dict]:
    """One row per model: unique texts, cached, to embed, requests, tokens, cost (nothing is sent); with `probe`, a
    local model's measured time for the texts to embed (`seconds`, `time_basis`)."""
    options = model or ModelOptions()
    loaded = [load_model(m, options) if isinstance(m, str) else m for m in models]
    try:
        return estimate_models(loaded, tasks, cache=cache, price_per_mtok=price_per_mtok,
                               probe=options.batch_size if probe else None)
    finally:
        for instance, given in zip(loaded, models):
            if isinstance(given, str):
                instance.close()


def estimate_models(models: Sequence[Model], tasks: list[Task], *, cache: str | Path | bool | None = None,
                    price_per_mtok: float | None = None, probe: int | None = None) -> list[dict]:
    """The rows of loaded models; `probe`: the run's batch size, to measure local models' time (None: no probe)."""
    texts: dict[str, dict[str, None]] = {kind: {} for kind in KINDS}
    for task in tasks:
        for kind in KINDS:
            texts[kind].update(dict.fromkeys(task.texts(kind)))
    unique = {kind: list(kind_texts) for kind, kind_texts in texts.items()}
    return [_estimate(model, tasks, unique, cache, price_per_mtok, probe) for model in models]


def _estimate(model: Model, tasks: list[Task], unique: dict[str, list[str]], cache,
              price_per_mtok: float | None, probe: int | None = None) -> dict:
    """A model's row, as its kind is estimated (`ESTIMATES`, the first of its classes in the table)."""
    estimate_row = next(ESTIMATES[kind] for kind in type(model).__mro__ if kind in ESTIMATES)
    return estimate_row(model, tasks, unique, cache, price_per_mtok, probe)


def _texts_row(model: Model, tasks: list[Task], unique: dict[str, list[str]], cache, price: float | None,
               probe: int | None) -> dict:
    store = open_cache(cache, model.paid)
    try:
        return estimate_texts(model, unique, store, price_per_mtok=price, probe=probe)
    finally:
        if store is not None:
            store.close()


# what each kind of model would send: the texts it encodes (every kind that encodes texts: dense, sparse,
# multi-vector; a local one's time measured with `probe`), the pairs of reranking rows a pair scorer scores, nothing
# for a ranker, its parts' rows added for a combination (a hybrid)
ESTIMATES: dict[type, Callable[..., dict]] = {
    TextModel: _texts_row,
    PairScorer: lambda model, tasks, unique, cache, price, probe: estimate_reranker(model, tasks, 0, cache=cache,
                                                                                    price_per_mtok=price),
    Combination: lambda model, tasks, unique, cache, price, probe: combined_row(
        model.name, [_estimate(part, tasks, unique, cache, price, probe) for part in model.parts()]),
    Model: lambda model, tasks, unique, cache, price, probe: estimate_texts(model, {}, None, price_per_mtok=price),
}


def combined_row(name: str, rows: list[dict]) -> dict:
    """The row of models run together: their counts and costs added (unknown if any is unknown, or if they are
    priced in different currencies)."""
    out = {"model": name}
    for key in ("unique_texts", "cached", "to_embed", "requests", "tokens"):
        out[key] = sum(row[key] for row in rows)
    estimated = any(row["token_count"] != "tokenizer" for row in rows)
    out["token_count"] = "estimated from characters" if estimated else "tokenizer"
    currencies = {row["currency"] for row in rows if row["currency"] != "(local)"}
    known = all(row["cost"] is not None for row in rows) and len(currencies) <= 1
    out["cost"] = sum(row["cost"] for row in rows) if known else None
    out["currency"] = currencies.pop() if len(currencies) == 1 else "(local)" if not currencies else ""
    timed = [row for row in rows if row.get("seconds") is not None]
    if timed:  # the parts measured (local); an API part's time is not known before it answers
        out["seconds"] = sum(row["seconds"] for row in timed)
        out["time_basis"] = "; ".join(f"{row['model']}: {row['time_basis']}" for row in timed) + \
            ("" if len(timed) == len(rows) else "; not counted: " + ", ".join(
                row["model"] for row in rows if row.get("seconds") is None))
    return out


def estimate_texts(model: Model, texts: dict[str, list[str]], cache: EmbeddingCache | None = None, *,
                   price_per_mtok: float | None = None, probe: int | None = None) -> dict:
    """What embedding `texts` (kind -> distinct texts) with `model` would send and cost; nothing is sent.

    Cached texts are left out, requests use the backend's own per-request cap, tokens come from the
    model's tokenizer when it has one (else a character estimate), prices from `models.pricing`.
    Nothing to embed (a ranker's `texts` are none): a row of zeros. With `probe` (the run's batch size), a
    local encoder's time is measured (`measure_time`).
    """
    row = {"model": model.name, "unique_texts": 0, "cached": 0, "to_embed": 0, "requests": 0, "tokens": 0,
           "token_count": "tokenizer"}
    todo = {kind: _count(row, model, kind, unique, cache) for kind, unique in texts.items()}
    if probe and not model.paid:
        row.update(measure_time(model, todo, probe))
    priced(row, model, price_per_mtok)
    return row


def measure_time(encoder: TextModel, todo: dict[str, list[str]], batch_size: int) -> dict:
    """How long encoding `todo` (kind -> texts to embed) would take, measured. Per kind, the texts are sorted by
    length (as the run batches them) and cut in `PROBE_STRATA` quarters; from the middle of each, one block of
    consecutive texts (the run's batch size, up to `PROBE_BLOCK`: a batch of similar lengths, as the run's) is
    encoded, and its time per text is applied to its quarter; the first block (the longest texts) is encoded once
    untimed before, as a warm-up. Returns `seconds` and what they rest on (`time_basis`); nothing is kept or
    cached."""
    seconds, probed, warm = 0.0, 0, False
    block = max(1, min(batch_size, PROBE_BLOCK))
    for kind, texts in todo.items():
        by_length = sorted(texts, key=len, reverse=True)
        for number in range(PROBE_STRATA if texts else 0):
            low, high = number * len(by_length) // PROBE_STRATA, (number + 1) * len(by_length) // PROBE_STRATA
            if high == low:
                continue
            start = max(low, (low + high - block) // 2)
            sample = by_length[start:min(high, start + block)]
            if not warm:  # the first calls pay for lazy set-up (threads, kernels, buffers for the longest texts)
                encoder.encode_output(sample, kind)
                warm = True
            began = time.perf_counter()
            encoder.encode_output(sample, kind)
            seconds += (time.perf_counter() - began) * (high - low) / len(sample)
            probed += len(sample)
    total = sum(len(texts) for texts in todo.values())
    basis = f"measured on {probed:,} of the {total:,} texts: {total / seconds:,.1f} texts/s" if seconds > 0 \
        else "nothing to encode"
    return {"seconds": round(seconds, 1), "time_basis": basis}


def _count(row: dict, encoder: TextModel, kind: str, unique: list[str], cache: EmbeddingCache | None) -> list[str]:
    """Adds a kind's counts to the row; returns its texts to embed."""
    cached = cache.get_many(encoder.cache_key(kind), unique) if cache else {}
    todo = [t for t in unique if t not in cached]
    inputs = [encoder.instructions[kind] + t for t in todo]
    row["unique_texts"] += len(unique)
    row["cached"] += len(cached)
    row["to_embed"] += len(todo)
    tokens = encoder.count_tokens(inputs) if inputs else 0
    if tokens is None:
        tokens = sum(estimated_tokens(t) for t in inputs)
        row["token_count"] = "estimated from characters"
    row["tokens"] += tokens
    if encoder.texts_per_request:  # the backend's own cap (Qianfan: 16), as eval will send them
        row["requests"] += math.ceil(len(todo) / encoder.texts_per_request)
    return todo


def estimate_reranker(model: PairScorer, tasks: list[Task], depth: int, *, cache: str | Path | bool | None = None,
                      price_per_mtok: float | None = None) -> dict:
    """What a reranker would send and cost: the pairs of reranking rows (cached ones left out), and on
    retrieval at most `depth` documents per query (the first stage's choice is not known before it runs:
    tokens are bounded with the `depth` longest documents, estimated from characters)."""
    row = {"model": model.name, "unit": "pairs", "unique_texts": 0, "cached": 0, "to_embed": 0, "requests": 0,
           "tokens": 0, "token_count": "estimated from characters", "at_most": False}
    store = open_cache(cache, model.paid)
    try:
        for task in tasks:
            if not ranks_corpus(task):
                _count_rows(row, model, task, store)
            elif depth:
                _bound_retrieval(row, model, task, depth)
    finally:
        if store is not None:
            store.close()
    priced(row, model, price_per_mtok)
    return row


def _count_rows(row: dict, model: PairScorer, task: RerankingTask, cache: EmbeddingCache | None) -> None:
    pairs = list(dict.fromkeys((r.query, text) for r in task.rows for text in r.candidates))
    cached = cache.get_scores(model.cache_key(), pairs) if cache else {}
    todo = [p for p in pairs if p not in cached]
    row["unique_texts"] += len(pairs)
    row["cached"] += len(cached)
    row["to_embed"] += len(todo)
    row["tokens"] += sum(estimated_tokens(q) + estimated_tokens(d) for q, d in todo)
    per_query: dict[str, int] = {}
    for query, _ in todo:
        per_query[query] = per_query.get(query, 0) + 1
    if model.pairs_per_request:  # an API: one query and up to its cap of passages per request
        row["requests"] += sum(math.ceil(n / model.pairs_per_request) for n in per_query.values())


def _bound_retrieval(row: dict, model: PairScorer, task: RetrievalTask, depth: int) -> None:
    depth = min(depth, len(task.corpus))
    longest = sum(sorted((estimated_tokens(t) for t in task.corpus.values()), reverse=True)[:depth])
    pairs = len(task.queries) * depth
    row["at_most"] = True
    row["unique_texts"] += pairs
    row["to_embed"] += pairs
    row["tokens"] += sum(depth * estimated_tokens(q) + longest for q in task.queries.values())
    if model.pairs_per_request:
        row["requests"] += len(task.queries) * math.ceil(depth / model.pairs_per_request)


def priced(row: dict, model: Model, price_per_mtok: float | None) -> None:
    price, currency = (price_per_mtok, "") if price_per_mtok is not None else model.price_per_mtok() or (None, "")
    if not model.paid:
        price, currency = 0.0, "(local)"
    row["cost"] = None if price is None else row["tokens"] / 1e6 * price
    row["currency"] = currency


def cost_line(row: dict, *, at_most: bool = False) -> str:
    """The line every paid command prints before its first request. `at_most`: the figures are an upper
    bound (mining's second model embeds only what it checks; a reranker's pairs on retrieval). A chat model's row
    counts passages to ask (`unit` "passages")."""
    what = {"pairs": "pairs to score", "passages": "passages to ask"}.get(row.get("unit"), "texts to embed")
    return (f"estimate: {row['model']}: {'at most ' if at_most else ''}{row['to_embed']:,} {what} "
            f"({row['cached']:,} cached), {row['requests']:,} requests, ~{row['tokens']:,} tokens, {_cost(row)}")


def check_cost(rows: list[dict], max_cost: float | None) -> None:
    """Refuse to start when a model's estimated cost is unknown or above `max_cost`."""
    for row in rows:
        if max_cost is not None and (row["cost"] is None or row["cost"] > max_cost):
            raise EmbedlabError(f"{row['model']}: estimated cost {_cost(row)} is not within --max-cost "
                                f"{max_cost}; nothing was sent")


def _cost(row: dict) -> str:
    if row["cost"] is None:
        return "unknown cost (no price known; see --price-per-mtok of `estimate`)"
    return f"~{row['cost']:.4f} {row['currency'] or '(at the price given)'}"
