"""The sentence-transformers triplet layout: one `{anchor, positive, negative}` row per (query, positive, negative).

Reranking rows expand into triplets, a row without negatives into `{anchor, positive}` pairs. Triplets
group back into reranking rows by anchor (first-seen order, distinct texts in order): every text is kept,
but not which negative was paired with which positive. `negative_1`, `negative_2`, ... columns (the
sentence-transformers n-tuple format) are read as negatives too. A triplet has no place for any other
field: expanding reports such fields as dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedlab.data.records import Record, text_field
from embedlab.data.reranking import NEGATIVE_KEYS, POSITIVE_KEYS, row_texts

ANCHOR = "anchor"
_NEGATIVE = re.compile(r"negative(_\d+)?")
_ROW_TEXT_KEYS = ("query", *POSITIVE_KEYS, *NEGATIVE_KEYS)


@dataclass
class Dropped:
    """Fields that could not be kept: rows per field, and where each was first seen."""

    rows: dict[str, int] = field(default_factory=dict)
    first: dict[str, tuple[Path, int]] = field(default_factory=dict)

    def add(self, name: str, file: Path, line: int) -> None:
        self.rows[name] = self.rows.get(name, 0) + 1
        self.first.setdefault(name, (file, line))


@dataclass
class Expanded:
    rows: list[Record]
    pair_rows: int = 0  # source rows without negatives, written as {anchor, positive} pairs
    no_positive: int = 0  # source rows skipped: nothing to pair the anchor with
    dropped: Dropped = field(default_factory=Dropped)


def is_triplet(record: dict[str, Any]) -> bool:
    return ANCHOR in record


def is_negative_key(name: str) -> bool:
    """`negative`, or `negative_1`, `negative_2`, ... of the n-tuple format."""
    return _NEGATIVE.fullmatch(name) is not None


def expand(rows: Iterable[Record]) -> Expanded:
    """One triplet per (query, positive, negative) of each reranking/FlagEmbedding row, in order."""
    out = Expanded([])
    for file, line, record in rows:
        query, positives, negatives = row_texts(record, file, line)
        for name in record:
            if name not in _ROW_TEXT_KEYS:
                out.dropped.add(name, file, line)
        if not positives:
            out.no_positive += 1
        elif not negatives:
            out.pair_rows += 1
            out.rows.extend((file, line, {ANCHOR: query, "positive": p}) for p in positives)
        else:
            out.rows.extend((file, line, {ANCHOR: query, "positive": p, "negative": n})
                            for p in positives for n in negatives)
    return out


@dataclass
class Grouped:
    rows: list[Record]
    dropped: Dropped = field(default_factory=Dropped)  # extra fields whose values differ within a group


def group(rows: Iterable[Record], positive_key: str, negative_key: str) -> Grouped:
    """Reranking rows `{query, <positive_key>, <negative_key>, extras}`, one per distinct anchor.

    A field other than the texts is kept when all rows of an anchor agree on it, and dropped (reported)
    for that anchor otherwise.
    """
    groups: dict[str, _Group] = {}
    dropped = Dropped()
    for file, line, record in rows:
        anchor = text_field(record, (ANCHOR,), path=file, line=line)
        positive = text_field(record, ("positive",), path=file, line=line)
        negatives = [text_field(record, (k,), path=file, line=line, required=False)
                     for k in record if is_negative_key(k)]
        entry = groups.setdefault(anchor, _Group(file, line))
        entry.positives[positive] = None
        entry.negatives.update(dict.fromkeys(n for n in negatives if n is not None))
        for name, value in record.items():
            if name in (ANCHOR, "positive") or is_negative_key(name) or name in entry.conflicts:
                continue
            if name in ("query", positive_key, negative_key) or (
                    name in entry.extras and entry.extras[name] != value):  # collides with the texts, or differs
                entry.conflicts.add(name)
                entry.extras.pop(name, None)
                dropped.add(name, file, line)
            else:
                entry.extras.setdefault(name, value)
    return Grouped([(g.file, g.line, {"query": anchor, positive_key: list(g.positives),
                                      negative_key: list(g.negatives), **g.extras})
                    for anchor, g in groups.items()], dropped)


@dataclass
class _Group:
    file: Path  # where the anchor is first seen
    line: int
    positives: dict[str, None] = field(default_factory=dict)  # an ordered set
    negatives: dict[str, None] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    conflicts: set[str] = field(default_factory=set)
