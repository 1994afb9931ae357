"""Asking a chat model for each passage's queries, paying for nothing twice.

Every answer goes into the SQLite cache (`embedding.cache`, table `generations`) under the model's key (endpoint,
model, temperature), the seed, the token limit and the sha256 of the prompt (which holds the passage and the
template), committed as it arrives: a rerun asks nothing, and a killed run asks again only the passages it had no
answer for. Before the first request the passages to ask, requests, tokens (the prompt estimated from characters,
plus the token limit of each answer: an upper bound) and cost go through the run's one cost check
(`RunContext.check_costs`: announced, refused above --max-cost). Requests are `concurrency` at once
(`models.chat`). An answer that is not usable (`synth.parse`: empty, not JSON, the wrong shape) is counted and
asked again once, with the next seed; if that one is not usable either, the passage gets no query, never a guess.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from embedlab.embedding.cache import EmbeddingCache, open_cache
from embedlab.models.chat import Answer, ChatModel
from embedlab.models.limits import estimated_tokens
from embedlab.progress import progress
from embedlab.run.context import RunContext
from embedlab.run.estimate import priced
from embedlab.synth.parse import parse_queries

TOKENS_PER_QUERY = 64  # what one query may take; the limit is enough for JSON around n of them
ATTEMPTS = 2  # an unusable answer is asked again once


def token_limit(n: int) -> int:
    return 32 + TOKENS_PER_QUERY * n


@dataclass
class Asked:
    queries: dict[str, list[str]]  # prompt -> its queries (usable answers only)
    failed: dict[str, str]  # prompt -> why no answer was usable
    counts: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        reasons = Counter(self.failed.values())
        return {**dict(self.counts), "unusable_by_reason": dict(reasons)}


def ask_queries(model: ChatModel, prompts: list[str], n: int, *, seed: int, ctx: RunContext) -> Asked:
    """The queries the model writes for each distinct prompt (see the module docstring)."""
    unique = list(dict.fromkeys(prompts))
    limit = token_limit(n)
    cache = open_cache(ctx.run.cache, model.paid)
    try:
        key = f"{model.cache_key()}|seed={seed}|max_tokens={limit}"
        records = cache.get_generations(key, unique) if cache else {}
        again = [p for p, r in records.items() if _unusable(r, n) and r["attempts"] < ATTEMPTS]
        first = [p for p in unique if p not in records]
        counts = Counter(prompts=len(unique), from_cache=len(records) - len(again))
        ctx.check_costs([_estimate(model, first, again, len(unique), len(records) - len(again), limit,
                                   ctx.run.price_per_mtok)])
        _round(model, first, 1, seed, limit, (cache, key), records, ctx)
        again += [p for p in first if _unusable(records[p], n)]
        _round(model, again, 2, seed + 1, limit, (cache, key), records, ctx)
        counts.update(asked=len(first), asked_again=len(again))
    finally:
        if cache is not None:
            cache.close()
    asked = Asked({}, {}, counts)
    for prompt in unique:
        queries, problem = parse_queries(records[prompt]["text"], n)
        if queries:
            asked.queries[prompt] = queries
        else:
            asked.failed[prompt] = "cut at the token limit" if records[prompt].get("truncated") else problem
        asked.counts["prompt_tokens"] += records[prompt].get("prompt_tokens", 0)
        asked.counts["completion_tokens"] += records[prompt].get("completion_tokens", 0)
    return asked


def _unusable(record: dict, n: int) -> bool:
    return not parse_queries(record["text"], n)[0]


def _round(model: ChatModel, todo: list[str], attempt: int, seed: int, limit: int,
           cache: tuple[EmbeddingCache | None, str], records: dict[str, dict], ctx: RunContext) -> None:
    """Ask each prompt of `todo` once; each answer recorded and committed to the cache as it arrives."""
    store, key = cache
    label = f"asking {model.name} for queries" + (" again (unusable answers)" if attempt > 1 else "")
    with progress(ctx.run.progress, len(todo), label) as advance:
        for start, stop, answers in model.complete_batches(todo, seed=seed, max_tokens=limit):
            for prompt, answer in zip(todo[start:stop], answers):
                records[prompt] = _record(answer, attempt, records.get(prompt))
                if store is not None:
                    store.put_generations(key, [prompt], [records[prompt]])
            advance(stop - start, model.status())


def _record(answer: Answer, attempt: int, before: dict | None) -> dict:
    """What the cache keeps of an answer: its text, the attempt it came from, the tokens of every attempt."""
    paid = before or {}
    return {"text": answer.text, "truncated": answer.truncated, "attempts": attempt,
            "prompt_tokens": paid.get("prompt_tokens", 0) + answer.prompt_tokens,
            "completion_tokens": paid.get("completion_tokens", 0) + answer.completion_tokens}


def _estimate(model: ChatModel, first: list[str], again: list[str], unique: int, cached: int, limit: int,
              price_per_mtok: float | None) -> dict:
    todo = first + again
    row = {"model": model.name, "unit": "passages", "unique_texts": unique, "cached": cached, "to_embed": len(todo),
           "requests": len(todo), "tokens": sum(estimated_tokens(p) + limit for p in todo),
           "token_count": "estimated from characters"}
    priced(row, model, price_per_mtok)
    return row
