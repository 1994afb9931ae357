"""Length distributions of texts per kind, in characters and (with a tokenizer) in model tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from embedlab.quality.findings import Findings, stats


@dataclass
class Lengths:
    chars: dict[str, dict[str, float]] = field(default_factory=dict)  # kind -> statistics
    tokens: dict[str, dict[str, float]] = field(default_factory=dict)  # kind -> statistics + over_max
    values: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # unit -> kind -> every length


def measure(texts: dict[str, list[tuple[str, str]]], found: Findings, *, tokenizer: Any = None,
            max_length: int | None = None) -> Lengths:
    """`texts` maps a kind (query, positive, ...) to its (text, location) occurrences.

    Every occurrence counts (a passage in ten rows is encoded ten times); texts over `max_length`
    tokens are reported as `too_long`.
    """
    lengths = Lengths()
    lengths.values["chars"] = {kind: [len(text) for text, _ in items] for kind, items in texts.items()}
    lengths.chars = {kind: stats(values) for kind, values in lengths.values["chars"].items()}
    if tokenizer is None:
        return lengths
    from embedlab.models.tokenizer import token_counts

    counts = token_counts(tokenizer, (text for items in texts.values() for text, _ in items))
    lengths.values["tokens"] = {kind: [counts[text] for text, _ in items] for kind, items in texts.items()}
    over: dict[str, int] = {}
    for kind, items in texts.items():
        lengths.tokens[kind] = stats(lengths.values["tokens"][kind])
        if max_length is None:
            continue
        over[kind] = 0
        for text, at in items:
            if counts[text] > max_length:
                over[kind] += 1
                found.add("too_long", "warning", at, f"{kind}, {counts[text]} tokens: {text}")
        lengths.tokens[kind]["over_max"] = over[kind]
    found.detail("too_long", max_length=max_length, by_kind=over)
    return lengths
