"""What `embedlab inspect` reports: findings (code, severity, count, examples) and summary statistics.

Passages and queries are compared by their normalised form (`data.text.text_key`: NFKC, case, no whitespace
or punctuation) wherever the spec says "same text", so "Tea is green." and "tea is green" are one passage.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from embedlab.data.text import text_key

SEVERITIES = ("error", "warning", "info")
MAX_EXAMPLES = 5
SNIPPET = 80

# code -> what it means and what to do; formatted with the finding's details.
MESSAGES = {
    "malformed_row": "rows that cannot be read (missing or mistyped fields); left out of every other check",
    "empty_text": "empty or whitespace-only texts: fill them in or remove them (--fix does it)",
    "duplicate_row": "rows identical to an earlier row (query, positives, negatives): they count twice",
    "positive_also_negative": "passages that are both a positive and a negative of the same row",
    "positive_negative_same_query": "negatives that are a positive of another row with the same (normalised) "
                                    "query: false negatives (--fix removes them)",
    "positive_negative_other_query": "passages that are a positive of one query and a negative of another "
                                     "(usual when rows reuse passages)",
    "duplicate_passage_in_row": "passages listed twice in the same row's positives or negatives (or the same "
                                "after normalisation: case, whitespace, punctuation, Unicode form)",
    "no_positive": "rows without a positive: skipped by eval and by training",
    "no_negative": "rows without a negative: skipped by eval (training uses in-batch negatives)",
    "duplicate_query": "queries that occur in more than one row ({rows} rows)",
    "normalised_duplicate_query": "queries equal to another one up to case, whitespace, punctuation or "
                                  "Unicode form",
    "duplicate_document": "document texts that occur under more than one id ({rows} documents)",
    "normalised_duplicate_passage": "passages equal to another one up to case, whitespace, punctuation or "
                                    "Unicode form",
    "normalised_duplicate_document": "documents equal to another one up to case, whitespace, punctuation or "
                                     "Unicode form",
    "shared_passage": "passages in more than {threshold} rows (at most {max_rows})",
    "too_long": "texts longer than the model's {max_length} tokens, truncated when encoded ({by_kind})",
    "duplicate_id": "ids already used earlier in the same file (the first one is kept)",
    "qrels_unknown_query": "judgments whose query-id is not in the queries file",
    "qrels_unknown_doc": "judgments whose corpus-id is not in the corpus",
    "conflicting_judgment": "(query, document) pairs judged again with a different grade (the first is kept)",
    "duplicate_judgment": "(query, document) pairs judged twice with the same grade",
    "query_without_judgment": "queries without any judgment: skipped by eval",
    "query_without_relevant": "queries whose judgments are all 0: no relevant document, every model scores 0",
    "leak_query": "queries also in {other} ({rows} rows here)",
    "leak_normalised_query": "queries equal up to case, whitespace or punctuation to one in {other} "
                             "({rows} rows here)",
    "leak_passage": "passages also in {other}, {positives_in_other} of them positives there",
}


@dataclass
class Example:
    at: str  # "file:line", or "file:line = other:line" for leakage
    text: str = ""


@dataclass
class Finding:
    code: str
    severity: str  # "error" | "warning" | "info"
    count: int
    message: str = ""
    examples: list[Example] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def locations(self) -> list[str]:
        return [example.at for example in self.examples]


@dataclass
class TextIndex:
    """Where each query and passage occurs: what `against` compares between two files."""

    queries: dict[str, dict[str, str]] = field(default_factory=dict)  # normalised -> {text: first at}
    query_rows: dict[str, int] = field(default_factory=dict)  # normalised -> rows (or queries) with it
    passages: dict[str, tuple[str, str]] = field(default_factory=dict)  # normalised -> (text, first at)
    positives: set[str] = field(default_factory=set)  # normalised passages that are a positive somewhere

    def add_query(self, text: str, at: str) -> None:
        key = text_key(text)
        self.queries.setdefault(key, {}).setdefault(text, at)
        self.query_rows[key] = self.query_rows.get(key, 0) + 1

    def add_passage(self, text: str, at: str, *, positive: bool) -> None:
        key = text_key(text)
        self.passages.setdefault(key, (text, at))
        if positive:
            self.positives.add(key)


@dataclass
class Inspection:
    source: str
    layout: str  # "rows" (reranking / training) or "retrieval"
    counts: dict[str, int]
    per_row: dict[str, dict[str, float]]  # positives / negatives per row, or judgments per query
    lengths: dict[str, dict[str, float]]  # kind -> character statistics
    tokens: dict[str, dict[str, float]] = field(default_factory=dict)  # kind -> token statistics
    max_length: int | None = None
    tokenizer: str | None = None
    key_styles: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    against: dict[str, Any] | None = None
    values: dict[str, dict[str, list[int]]] = field(default_factory=dict, repr=False)  # unit -> kind -> lengths
    index: TextIndex = field(default_factory=TextIndex, repr=False)

    def finding(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)

    def severity_counts(self) -> dict[str, int]:
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}

    def as_dict(self) -> dict[str, Any]:
        data = asdict(replace(self, values={}, index=TextIndex()))  # the bulky parts stay out of JSON
        del data["values"], data["index"]
        return data


class Findings:
    """Collects findings as the checks go: a count per code and the first few examples."""

    def __init__(self) -> None:
        self._found: dict[str, Finding] = {}

    def add(self, code: str, severity: str, at: str, text: str = "", *, count: int = 1) -> None:
        found = self._found.setdefault(code, Finding(code, severity, 0))
        found.count += count
        if len(found.examples) < MAX_EXAMPLES:
            found.examples.append(Example(at, snippet(text)))

    def detail(self, code: str, **details: Any) -> None:
        if code in self._found:
            self._found[code].details.update(details)

    def done(self) -> list[Finding]:
        """The findings, errors first, each with its message."""
        for found in self._found.values():
            found.message = MESSAGES[found.code].format(**{k: _render(v) for k, v in found.details.items()})
        return by_severity(list(self._found.values()))


def by_severity(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then info; in the order found within each."""
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))



def snippet(text: str) -> str:
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")  # one table line per example
    return text if len(text) <= SNIPPET else text[:SNIPPET - 1] + "…"


def where(file: Path, line: int) -> str:
    return f"{file.name}:{line}"


def stats(values: list[int]) -> dict[str, float]:
    """min / p50 / p95 / max (nearest rank) and mean."""
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {"count": len(ordered), "min": ordered[0], "p50": _rank(ordered, 50), "p95": _rank(ordered, 95),
            "max": ordered[-1], "mean": round(sum(ordered) / len(ordered), 2)}


def spread(values: list[int]) -> dict[str, float]:
    if not values:
        return {"min": 0, "mean": 0.0, "max": 0}
    return {"min": min(values), "mean": round(sum(values) / len(values), 2), "max": max(values)}


def _render(value: Any) -> Any:
    if isinstance(value, dict):
        return ", ".join(f"{key} {count}" for key, count in value.items())
    return value


def _rank(ordered: list[int], percent: int) -> int:
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def repeated_texts(occurrences: list[tuple[str, str]], code: str, severity: str, found: Findings) -> None:
    """Texts (exactly equal) at more than one location: one finding per text, `rows` in the details."""
    by_text: dict[str, list[str]] = {}
    for text, at in occurrences:
        if text.strip():
            by_text.setdefault(text, []).append(at)
    repeated = {text: ats for text, ats in by_text.items() if len(ats) > 1}
    for text, ats in repeated.items():
        found.add(code, severity, ats[1], f"also at {ats[0]}: {text}")
    found.detail(code, rows=sum(len(ats) for ats in repeated.values()))


def normalised_duplicates(occurrences: list[tuple[str, str]], code: str, severity: str,
                          found: Findings) -> None:
    """Distinct texts equal to an earlier, different text after normalisation."""
    first_at: dict[str, str] = {}
    for text, at in occurrences:
        if text.strip():
            first_at.setdefault(text, at)
    seen: dict[str, tuple[str, str]] = {}
    for text, at in first_at.items():
        key = text_key(text)
        if key in seen and seen[key][0] != text:
            earlier, earlier_at = seen[key]
            found.add(code, severity, at, f"{text} ~ {snippet(earlier)} ({earlier_at})")
        seen.setdefault(key, (text, at))
