"""The filters a synthetic set goes through, in order, each counted with examples and each switchable (`--filters`):

- empty: a query without a word character (always removed: there is nothing to search for);
- `length`: a query over `max_chars` characters;
- `language`: a query an LLM wrote in another script than its passage's (or than `--language`); queries that are
  the passage's own text (ict, title, keywords) are not checked;
- `duplicates`: the same query after normalisation (`data.text.text_key`), then one whose embedding has a cosine of
  `duplicate_cosine` or more with a query kept before it (the first dense retriever's vectors; skipped without one);
- `too-easy`: more than `too_easy` of the query copied from its document (`synth.copying`); the distribution is
  reported whether or not this filter is on (it is off by default: the no-LLM baselines copy by construction);
- `round-trip`: the query's document must be in the top `round_trip_k` of at least one of the retrievers
  (Promptagator / InPars' consistency check), scored by `embedlab.evaluate` (`synth.retrievers`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from embedlab.data.text import text_key
from embedlab.errors import UnknownNameError
from embedlab.synth.copying import copied_share, distribution
from embedlab.synth.drafts import Draft
from embedlab.synth.passages import Passage
from embedlab.synth.prompts import language_of

FILTERS = ("length", "language", "duplicates", "too-easy", "round-trip")
DEFAULT_FILTERS = ("length", "language", "duplicates", "round-trip")
EXAMPLES = 5
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class FilterSettings:
    on: tuple[str, ...] = DEFAULT_FILTERS
    max_chars: int = 256
    language: str = "auto"  # zh | en | auto: each passage's script
    duplicate_cosine: float = 0.95
    too_easy: float = 0.8
    round_trip_k: int = 20


@dataclass
class Step:
    name: str
    on: bool
    removed: int = 0
    examples: list[dict] = field(default_factory=list)
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"filter": self.name, "on": self.on, "removed": self.removed, **self.detail, "examples": self.examples}


@dataclass
class Filtered:
    kept: list[Draft]
    removed: list[dict]  # {query, passage, filter, ...}: every query a filter took out, and why
    steps: list[Step]
    too_easy: dict  # the distribution of the copied share (synth.copying.distribution)


@dataclass
class Checks:
    """What the model-based filters need: query vectors (or None and why not: no dense retriever, one that does not
    read the language) and the round trip (each retriever's name -> whether each draft's document is in its top k)."""

    embed: Callable[[list[str]], tuple[np.ndarray | None, str]] = lambda texts: (None, "no embedding model")
    round_trip: Callable[[list[Draft], dict[str, Passage], int], dict[str, np.ndarray]] = lambda d, c, k: {}


def parse_filters(text: str) -> tuple[str, ...]:
    """`all`, `none`, or a comma-separated list of FILTERS."""
    if text == "all":
        return FILTERS
    if text == "none":
        return ()
    names = tuple(n for n in text.replace(" ", "").split(",") if n)
    for name in names:
        if name not in FILTERS:
            raise UnknownNameError("filter", name, FILTERS)
    return names


def apply_filters(drafts: list[Draft], corpus: dict[str, Passage], settings: FilterSettings, checks: Checks, *,
                  written: bool) -> Filtered:
    """`written`: the queries were written by an LLM (the language filter applies to them)."""
    out = Filtered(list(drafts), [], [], {})
    _step(out, "empty", True, lambda d: {} if _WORD.search(d.text) else {"why": "no word character"})
    _step(out, "length", "length" in settings.on,
          lambda d: {"chars": len(d.text)} if len(d.text) > settings.max_chars else {})
    _language(out, corpus, settings, written)
    _duplicates(out, settings, checks)
    shares = {id(d): copied_share(d.text, corpus[d.passage].content) for d in out.kept}
    out.too_easy = distribution(list(shares.values()), settings.too_easy)
    _step(out, "too-easy", "too-easy" in settings.on,
          lambda d: {"copied": round(shares[id(d)], 3)} if shares[id(d)] > settings.too_easy else {},
          {"threshold": settings.too_easy})
    _round_trip(out, corpus, settings, checks)
    return out


def _step(out: Filtered, name: str, on: bool, verdict: Callable[[Draft], dict], detail: dict | None = None) -> None:
    """Remove the kept drafts whose verdict is not empty (when the filter is on), recording them."""
    step = Step(name, on, detail=dict(detail or {}))
    out.steps.append(step)
    if not on:
        return
    kept = []
    for draft in out.kept:
        why = verdict(draft)
        if why:
            _remove(out, step, draft, why)
        else:
            kept.append(draft)
    out.kept = kept


def _remove(out: Filtered, step: Step, draft: Draft, why: dict) -> None:
    record = {"query": draft.text, "passage": draft.passage, "filter": step.name, **why}
    out.removed.append(record)
    step.removed += 1
    if len(step.examples) < EXAMPLES:
        step.examples.append(record)


def _language(out: Filtered, corpus: dict[str, Passage], settings: FilterSettings, written: bool) -> None:
    def verdict(draft: Draft) -> dict:
        expected = settings.language if settings.language != "auto" else language_of(corpus[draft.passage].text)
        found = language_of(draft.text)
        return {"expected": expected, "found": found} if found != expected else {}
    on = "language" in settings.on and written
    _step(out, "language", on, verdict, {} if written or "language" not in settings.on else
          {"not_applied": "the queries are the passages' own text"})


def _duplicates(out: Filtered, settings: FilterSettings, checks: Checks) -> None:
    """The same normalised text first, then near-duplicates by cosine among what is left (a query is compared with
    the queries kept before it)."""
    seen: dict[str, str] = {}

    def same(draft: Draft) -> dict:
        key = text_key(draft.text)
        if key in seen:
            return {"same_as": seen[key]}
        seen[key] = draft.text
        return {}
    on = "duplicates" in settings.on
    _step(out, "duplicates", on, same, {"cosine": settings.duplicate_cosine})
    step = out.steps[-1]
    vectors, why = checks.embed([d.text for d in out.kept]) if on and len(out.kept) > 1 else (None, "")
    step.detail["by_cosine"] = vectors is not None
    if vectors is None:
        step.detail.update({"not_by_cosine": why} if why else {})
        return
    near = near_duplicates(vectors, settings.duplicate_cosine)
    kept = []
    for i, draft in enumerate(out.kept):
        if i in near:
            j, cosine = near[i]
            _remove(out, step, draft, {"same_as": out.kept[j].text, "cosine": round(cosine, 4)})
        else:
            kept.append(draft)
    out.kept = kept


def near_duplicates(vectors: np.ndarray, threshold: float, block: int = 512) -> dict[int, tuple[int, float]]:
    """Greedy, in order: row i -> (the earlier kept row j, cosine) when cosine(i, j) >= threshold for a kept j.
    `vectors` are unit rows; compared a block of rows at a time (memory: block x rows)."""
    removed: dict[int, tuple[int, float]] = {}
    for start in range(0, len(vectors), block):
        sims = vectors[start:start + block] @ vectors[:start + block].T
        for offset, row in enumerate(sims):
            i = start + offset
            close = [j for j in np.flatnonzero(row[:i] >= threshold) if j not in removed]
            if close:
                j = max(close, key=lambda c: row[c])
                removed[i] = (int(j), float(row[j]))
    return removed


def _round_trip(out: Filtered, corpus: dict[str, Passage], settings: FilterSettings, checks: Checks) -> None:
    on = "round-trip" in settings.on
    hits = checks.round_trip(out.kept, corpus, settings.round_trip_k) if on and out.kept else {}
    found = np.zeros(len(out.kept), dtype=bool)
    for model_hits in hits.values():
        found |= model_hits
    index = {id(d): i for i, d in enumerate(out.kept)}
    detail = {"k": settings.round_trip_k, "found_by": {name: int(h.sum()) for name, h in hits.items()}}
    _step(out, "round-trip", on and bool(hits),
          lambda d: {} if found[index[id(d)]] else {"why": f"not in the top {settings.round_trip_k} of any retriever"},
          detail)
    out.steps[-1].on = on
