"""Data-quality diagnostics of reranking / training rows, retrieval folders, and leakage between two files.

Each finding has a code, a severity, a count and example locations; see `embedlab.quality.findings`.
Reading problems of single rows are findings too (`malformed_row`), so that one bad row does not hide
the rest; only a file that cannot be read at all raises a DataError.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab.data.records import read_records
from embedlab.data.reranking import RowIds, row_texts
from embedlab.data.retrieval import is_retrieval_folder
from embedlab.data.text import text_key
from embedlab.errors import DataError
from embedlab.quality.findings import (
    Finding,
    Findings,
    Inspection,
    TextIndex,
    by_severity,
    normalised_duplicates,
    repeated_texts,
    snippet,
    spread,
    where,
)
from embedlab.quality.inspect_retrieval import inspect_retrieval
from embedlab.quality.lengths import measure

__all__ = ["Finding", "Inspection", "against", "inspect_path", "inspect_retrieval", "inspect_rows"]

SHARED_THRESHOLD = 5


@dataclass
class Row:
    at: str
    query: str
    positives: list[str]
    negatives: list[str]


def inspect_path(path: str | Path, *, split: str | None = None, tokenizer: Any = None,
                 max_length: int | None = None, shared_threshold: int = SHARED_THRESHOLD) -> Inspection:
    """Inspect a retrieval folder (corpus, queries, qrels) or a file / dataset directory of rows."""
    path = Path(path)
    if is_retrieval_folder(path):
        return inspect_retrieval(path, split=split, tokenizer=tokenizer, max_length=max_length)
    return inspect_rows(path, split=split, tokenizer=tokenizer, max_length=max_length,
                        shared_threshold=shared_threshold)


def inspect_rows(path: str | Path, *, split: str | None = None, tokenizer: Any = None,
                 max_length: int | None = None, shared_threshold: int = SHARED_THRESHOLD) -> Inspection:
    """Inspect reranking / training rows: `{query, positive, negative}` or `{query, pos, neg}`.

    `tokenizer` (a Hugging Face tokenizer) adds token lengths; `max_length` (tokens) reports longer texts.
    """
    path = Path(path)
    found = Findings()
    rows, styles = _read_rows(path, split, found)
    index = TextIndex()
    for row in rows:
        if row.query.strip():
            index.add_query(row.query, row.at)
        for text in row.positives + row.negatives:
            if text.strip():
                index.add_passage(text, row.at, positive=text in row.positives)
    _check_rows(rows, found)
    queries = [(row.query, row.at) for row in rows]
    repeated_texts(queries, "duplicate_query", "warning", found)
    normalised_duplicates(queries, "normalised_duplicate_query", "warning", found)
    _check_passages(rows, found, shared_threshold)
    texts = {"query": [(r.query, r.at) for r in rows],
             "positive": [(t, r.at) for r in rows for t in r.positives],
             "negative": [(t, r.at) for r in rows for t in r.negatives]}
    lengths = measure(texts, found, tokenizer=tokenizer, max_length=max_length)
    counts = {
        "rows": len(rows),
        "distinct_queries": sum(len(variants) for variants in index.queries.values()),
        "distinct_normalised_queries": len(index.queries),
        "distinct_passages": len(index.passages),  # after normalisation, as every passage check
        "distinct_positives": len(index.positives),
        "positives": len(texts["positive"]),
        "negatives": len(texts["negative"]),
    }
    return Inspection(
        source=str(path), layout="rows", counts=counts,
        per_row={"positives": spread([len(r.positives) for r in rows]),
                 "negatives": spread([len(r.negatives) for r in rows])},
        lengths=lengths.chars, tokens=lengths.tokens, max_length=max_length if tokenizer else None,
        tokenizer=getattr(tokenizer, "name_or_path", None), key_styles=dict(styles),
        findings=found.done(), values=lengths.values, index=index)


def against(inspection: Inspection | str | Path, other: str | Path, *, split: str | None = None,
            other_split: str | None = None) -> Inspection:
    """Add leakage findings: queries and passages of `inspection` (or of a path) that are also in `other`.

    Queries count as leaked when equal or equal after normalisation; passages when equal after
    normalisation, and those that are positives in `other` are counted apart.
    """
    if not isinstance(inspection, Inspection):
        inspection = inspect_path(inspection, split=split)
    other = Path(other)
    theirs = inspect_path(other, split=other_split)
    ours_index, theirs_index = inspection.index, theirs.index
    found = Findings()
    leaked_rows = {"leak_query": 0, "leak_normalised_query": 0}
    for key, texts in ours_index.queries.items():
        other_texts = theirs_index.queries.get(key)
        if not other_texts:
            continue
        same = next((text for text in texts if text in other_texts), None)
        if same is not None:
            code, at, text = "leak_query", f"{texts[same]} = {other_texts[same]}", same
        else:
            mine, their = next(iter(texts)), next(iter(other_texts))
            code, at = "leak_normalised_query", f"{texts[mine]} ~ {other_texts[their]}"
            text = f"{snippet(mine)} ~ {their}"
        found.add(code, "error", at, text)
        leaked_rows[code] += ours_index.query_rows[key]
    for code, rows in leaked_rows.items():
        found.detail(code, other=other.name, rows=rows)
    shared_positives = 0
    for key, (text, at) in ours_index.passages.items():
        if key in theirs_index.passages:
            positive = key in theirs_index.positives
            shared_positives += positive
            role = "positive" if positive else "passage"
            found.add("leak_passage", "warning", f"{at} = {theirs_index.passages[key][1]}", f"{role} there: {text}")
    found.detail("leak_passage", other=other.name, positives_in_other=shared_positives)
    inspection.findings = by_severity(inspection.findings + found.done())
    inspection.against = {"source": str(other), "layout": theirs.layout, "counts": theirs.counts}
    return inspection


def _read_rows(path: Path, split: str | None, found: Findings) -> tuple[list[Row], Counter]:
    rows: list[Row] = []
    styles: Counter = Counter()
    first_error: DataError | None = None
    ids = RowIds()
    for file, line, record in read_records(path, split=split):
        try:
            query, positives, negatives = row_texts(record, file, line, positives_required=False)
            first = ids.repeated(record, file, line)
        except DataError as exc:
            first_error = first_error or exc
            found.add("malformed_row", "error", where(file, line), str(exc).removeprefix(f"{file}:{line}: "))
            continue
        if first is not None:  # eval refuses the file: an error, and the row is left out of other checks
            found.add("duplicate_id", "error", where(file, line), f"id already at {Path(first).name}")
            continue
        styles[key_style(record)] += 1
        rows.append(Row(where(file, line), query, positives, negatives))
    if first_error is not None and not rows:
        raise first_error  # not reranking rows at all: one clear error beats a finding on every line
    if not rows:
        raise DataError("no rows", path=path)
    return rows, styles


def key_style(record: dict) -> str:
    """'positive/negative' (C-MTEB) or 'pos/neg' (FlagEmbedding): the keys a cleaned copy keeps."""
    return "pos/neg" if "pos" in record and "positive" not in record else "positive/negative"


def _check_rows(rows: list[Row], found: Findings) -> None:
    first: dict[tuple, str] = {}
    for row in rows:
        for kind, texts in (("query", [row.query]), ("positive", row.positives), ("negative", row.negatives)):
            for text in texts:
                if not text.strip():
                    found.add("empty_text", "error", row.at, f"{kind}: {text!r}")
        identity = (row.query, tuple(row.positives), tuple(row.negatives))
        if identity in first:
            found.add("duplicate_row", "warning", row.at, f"same as {first[identity]}: {row.query}")
        first.setdefault(identity, row.at)
        if not row.positives:
            found.add("no_positive", "warning", row.at, row.query)
        if not row.negatives:
            found.add("no_negative", "info", row.at, row.query)
        positive_keys = _in_row_duplicates(row.positives, row.at, found)
        for key, text in _in_row_duplicates(row.negatives, row.at, found).items():
            if key in positive_keys:
                found.add("positive_also_negative", "error", row.at, text)


def _in_row_duplicates(texts: list[str], at: str, found: Findings) -> dict[str, str]:
    keys: dict[str, str] = {}
    for text in texts:
        if not text.strip():
            continue
        key = text_key(text)
        if key in keys:  # say how they are the same: equal, or equal after normalisation (show both)
            found.add("duplicate_passage_in_row", "warning", at,
                      text if text == keys[key] else f"{text} ~ {snippet(keys[key])} (same after normalisation)")
        keys.setdefault(key, text)
    return keys


def _check_passages(rows: list[Row], found: Findings, shared_threshold: int) -> None:
    positive_of: dict[str, dict[str, str]] = defaultdict(dict)  # passage -> {query: row where positive}
    rows_with: dict[str, list[str]] = defaultdict(list)
    first_text: dict[str, str] = {}
    for row in rows:
        query = text_key(row.query)
        for text in row.positives:
            if text.strip():
                positive_of[text_key(text)].setdefault(query, row.at)
        for key in dict.fromkeys(text_key(t) for t in row.positives + row.negatives if t.strip()):
            rows_with[key].append(row.at)  # once per row, however often the row lists it
        for text in row.positives + row.negatives:
            if text.strip():
                first_text.setdefault(text, row.at)
    other_query: set[str] = set()
    for row in rows:
        query = text_key(row.query)
        own = {text_key(t) for t in row.positives}
        negatives: dict[str, str] = {}
        for text in row.negatives:
            if text.strip():
                negatives.setdefault(text_key(text), text)
        for key, text in negatives.items():
            if key in own or key not in positive_of:
                continue
            elsewhere = positive_of[key]
            if query in elsewhere:
                found.add("positive_negative_same_query", "error", row.at,
                          f"positive at {elsewhere[query]}: {text}")
            if set(elsewhere) - {query} and key not in other_query:
                other_query.add(key)
                first = next(at for q, at in elsewhere.items() if q != query)
                found.add("positive_negative_other_query", "info", row.at, f"positive at {first}: {text}")
    shared = sorted(((len(ats), key) for key, ats in rows_with.items() if len(ats) > shared_threshold),
                    key=lambda item: -item[0])
    texts = {text_key(text): text for text in reversed(first_text)}
    for number, key in shared:
        found.add("shared_passage", "info", rows_with[key][0], f"in {number} rows: {texts[key]}")
    found.detail("shared_passage", threshold=shared_threshold, max_rows=shared[0][0] if shared else 0)
    normalised_duplicates(list(first_text.items()), "normalised_duplicate_passage", "info", found)
