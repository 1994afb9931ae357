"""A cleaned copy of reranking / training rows, and a log of every change. The input is never modified.

The copy is JSONL in the input's key style (`positive`/`negative` or `pos`/`neg`); every other field of a
row is kept as it is. Passages are compared as `embedlab inspect` compares them (after normalisation).
A retrieval folder is cleaned into a folder by `embedlab.data.fix_retrieval`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedlab.data.text import text_key
from embedlab.data.records import read_records
from embedlab.data.reranking import NEGATIVE_KEYS, POSITIVE_KEYS, row_texts
from embedlab.data.retrieval import is_retrieval_folder
from embedlab.errors import DataError

ACTIONS = (
    "removed_malformed_row", "removed_row_with_empty_query", "stripped_whitespace", "removed_empty_text",
    "removed_duplicate_passage_in_row", "removed_negative_equal_to_positive", "removed_row_without_positive",
    "removed_duplicate_row",
    # retrieval folders (fix_retrieval)
    "removed_duplicate_id", "removed_duplicate_judgment", "removed_conflicting_judgment",
    "removed_judgment_of_unknown_query", "removed_judgment_of_unknown_document",
    "removed_judgment_of_removed_query", "removed_judgment_of_removed_document",
)
_VALUE_CHARS = 200


@dataclass
class FixResult:
    out: str
    log: str
    rows_read: int
    rows_written: int
    actions: dict[str, int] = field(default_factory=dict)  # action -> changes made
    unit: str = "rows"  # what rows_read / rows_written count ("records" of a retrieval folder)


@dataclass
class At:
    """Where a change was made: a file and a line (a record's number in a parquet file)."""

    file: Path
    line: int


@dataclass
class _Row(At):
    record: dict[str, Any]
    query: str
    positives: list[str]
    negatives: list[str]


class ChangeLog:
    """One entry per change, written as JSON lines in file and line order."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.files: dict[str, int] = {}  # file name -> reading order

    def at(self, file: Path, line: int) -> At:
        self.files.setdefault(file.name, len(self.files))
        return At(file, line)

    def add(self, at: At, field_name: str | None, action: str, value: str,
            duplicate_of: At | None = None) -> None:
        entry: dict[str, Any] = {"file": at.file.name, "line": at.line, "field": field_name, "action": action,
                                 "value": value[:_VALUE_CHARS]}
        if duplicate_of is not None:
            entry["duplicate_of"] = duplicate_of.line
            if duplicate_of.file != at.file:
                entry["duplicate_of_file"] = duplicate_of.file.name
        self.entries.append(entry)

    def in_file_order(self) -> list[dict[str, Any]]:
        """By file, then line; a line's own fixes before those that compare it with other rows."""
        return sorted(self.entries, key=lambda entry: (self.files[entry["file"]], entry["line"]))

    def counts(self) -> dict[str, int]:
        return {a: n for a in ACTIONS if (n := sum(e["action"] == a for e in self.entries))}

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(entry, ensure_ascii=False) + "\n" for entry in self.in_file_order())


def default_log_path(out: Path) -> Path:
    """clean.jsonl -> clean.changes.jsonl"""
    return out.with_name(f"{out.stem}.changes.jsonl")


def fix(path: str | Path, out: str | Path, log_path: str | Path | None = None, *,
        split: str | None = None) -> FixResult:
    """Write a cleaned copy of `path` to `out` (JSONL) and one JSON line per change to `log_path`.

    Texts are stripped of surrounding whitespace; empty texts, passages repeated within a row and
    negatives equal to a positive of the same (normalised) query are removed; then rows without a
    positive and rows identical to an earlier row are removed. Rows with an empty query or that cannot
    be read are removed too.
    """
    path, out = Path(path), Path(out)
    log_path = Path(log_path) if log_path is not None else default_log_path(out)
    _refuse_overwrite(path, out, log_path)
    if is_retrieval_folder(path):
        from embedlab.data.fix_retrieval import fix_retrieval

        return fix_retrieval(path, out, log_path, split=split)
    if out.is_dir():
        raise DataError("the cleaned copy of rows is a JSONL file, not a folder", path=out,
                        hint="give a file name such as clean.jsonl")
    log = ChangeLog()
    rows, read = _clean_rows(path, split, log)
    kept = _clean_across_rows(rows, log)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row.record, ensure_ascii=False, default=plain_json) + "\n" for row in kept)
    log.write(log_path)
    return FixResult(str(out), str(log_path), read, len(kept), log.counts())


def _refuse_overwrite(path: Path, out: Path, log_path: Path) -> None:
    source, targets = path.resolve(), {"output": out.resolve(), "log": log_path.resolve()}
    for name, target in targets.items():
        if target == source or (path.is_dir() and source in target.parents):
            raise DataError(f"the {name} would overwrite or change the input", path=target,
                            hint="write the cleaned copy somewhere else; the input is never modified")
    if targets["output"] == targets["log"]:
        raise DataError("the output and the log are the same file", path=out, hint="give another --fix-log")


def _clean_rows(path: Path, split: str | None, log: ChangeLog) -> tuple[list[_Row], int]:
    """Rows cleaned one by one (whitespace, empty texts, repeats within the row); and rows read."""
    rows: list[_Row] = []
    read = 0
    first_error: DataError | None = None
    for file, line, record in read_records(path, split=split):
        read += 1
        log.at(file, line)
        try:
            query, positives, negatives = row_texts(record, file, line, positives_required=False)
        except DataError as exc:
            first_error = first_error or exc
            row = _Row(file, line, record, "", [], [])
            log.add(row, None, "removed_malformed_row", str(exc).removeprefix(f"{file}:{line}: "))
            continue
        row = _Row(file, line, dict(record), query, positives, negatives)
        if not query.strip():
            log.add(row, "query", "removed_row_with_empty_query", query)
            continue
        if query != query.strip():
            log.add(row, "query", "stripped_whitespace", query)
            row.query = row.record["query"] = query.strip()
        row.positives = _clean_texts(row, POSITIVE_KEYS, positives, log)
        row.negatives = _clean_texts(row, NEGATIVE_KEYS, negatives, log)
        rows.append(row)
    if first_error is not None and not rows:
        raise first_error
    return rows, read


def _clean_texts(row: _Row, keys: tuple[str, ...], texts: list[str], log: ChangeLog) -> list[str]:
    key = next((k for k in keys if k in row.record), keys[0])
    kept: list[str] = []
    seen: set[str] = set()
    for text in texts:
        if not text.strip():
            log.add(row, key, "removed_empty_text", text)
            continue
        if text != text.strip():
            log.add(row, key, "stripped_whitespace", text)
            text = text.strip()
        if text_key(text) in seen:
            log.add(row, key, "removed_duplicate_passage_in_row", text, duplicate_of=row)
            continue
        seen.add(text_key(text))
        kept.append(text)
    if kept != texts:
        row.record[key] = kept
    return kept


def _clean_across_rows(rows: list[_Row], log: ChangeLog) -> list[_Row]:
    positive_in: dict[tuple[str, str], _Row] = {}  # (query, passage), normalised -> first row listing it
    for row in rows:
        for text in row.positives:
            positive_in.setdefault((text_key(row.query), text_key(text)), row)
    kept: list[_Row] = []
    first: dict[tuple, _Row] = {}
    for row in rows:
        key = next((k for k in NEGATIVE_KEYS if k in row.record), NEGATIVE_KEYS[0])
        own = {text_key(t) for t in row.positives}
        negatives = []
        for text in row.negatives:
            source = row if text_key(text) in own else positive_in.get((text_key(row.query), text_key(text)))
            if source is None:
                negatives.append(text)
            else:
                log.add(row, key, "removed_negative_equal_to_positive", text, duplicate_of=source)
        if negatives != row.negatives:
            row.negatives = row.record[key] = negatives
        if not row.positives:
            log.add(row, None, "removed_row_without_positive", row.query)
            continue
        identity = (row.query, tuple(row.positives), tuple(row.negatives))
        if identity in first:
            log.add(row, None, "removed_duplicate_row", row.query, duplicate_of=first[identity])
            continue
        first[identity] = row
        kept.append(row)
    return kept


def plain_json(value: Any) -> Any:
    """JSON for what parquet / arrow rows may hold: numpy arrays as lists, dates and the like as text."""
    return value.tolist() if hasattr(value, "tolist") else str(value)
