"""Which candidates are likely false negatives, and so never become negatives.

Exclusions, whatever the score: a text equal to one of the row's positives or to its query (the same
text as `data.text` defines it: NFKC, case, whitespace and punctuation aside), or a positive of another
row with the same normalised query.

Filters, on the score against the row's "positive" score (the lowest among its positives: the cautious
choice, as sentence-transformers' `mine_hard_negatives`, whose definitions these follow):
- `absolute_margin`: drop a candidate scoring above `positive - margin`;
- `relative_margin`: drop a candidate scoring above `positive - |positive| * margin`;
- `max_score` / `min_score`: drop candidates above / below a fixed score;
- a second model (`second_model`): the margins are applied again with its scores; a candidate must pass both.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from embedlab.data.text import text_key

if TYPE_CHECKING:
    from embedlab.mining.config import MiningConfig
    from embedlab.mining.inputs import MiningRow

FILTERS = ("absolute_margin", "relative_margin", "max_score", "min_score", "second_model")


def filtered(score: float, positive: float, config: MiningConfig) -> str | None:
    """The first filter that marks `score` as a likely false negative against the `positive` score."""
    if config.absolute_margin is not None and score > positive - config.absolute_margin:
        return "absolute_margin"
    if config.relative_margin is not None and score > positive - abs(positive) * config.relative_margin:
        return "relative_margin"
    if config.max_score is not None and score > config.max_score:
        return "max_score"
    if config.min_score is not None and score < config.min_score:
        return "min_score"
    return None


@dataclass
class RowExclusions:
    """The texts (as `text_key`s) that are never a negative of one row."""

    positives: set[str]  # the row's own positives
    own: set[str]  # its positives and its query
    known: set[str]  # positives of the other rows with the same normalised query

    def reason(self, key: str) -> str | None:
        """"same_text", "known_positive", or None for a candidate that may be a negative."""
        if key in self.own:
            return "same_text"
        if key in self.known:
            return "known_positive"
        return None


class KnownPositives:
    """The positives of every normalised query that appears in several rows (only those need them)."""

    def __init__(self, rows: list[MiningRow]) -> None:
        repeated = {q for q, n in Counter(text_key(r.query) for r in rows).items() if n > 1}
        self.by_query: dict[str, set[str]] = {}
        for row in rows:
            if (query := text_key(row.query)) in repeated:
                self.by_query.setdefault(query, set()).update(text_key(p) for p in row.positives)

    def exclusions(self, row: MiningRow) -> RowExclusions:
        positives = {text_key(p) for p in row.positives}
        query = text_key(row.query)
        return RowExclusions(positives, positives | {query}, self.by_query.get(query, set()))
