"""A cleaned copy of reranking / training rows, and a log of every change. The input is never modified.

The copy is JSONL in the input's key style (`positive`/`negative` or `pos`/`neg`); every other field of a
row is kept as it is. Passages are compared as `embedlab inspect` compares them (after normalisation).
A retrieval folder is cleaned into a folder (`fix_retrieval`). Both outputs are checked before the work
starts and written as one at the end (`data.output`): a killed fix leaves neither under its final name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab.data.output import atomic_files, check_output, dump_jsonl
from embedlab.data.records import read_records
from embedlab.data.reranking import NEGATIVE_KEYS, POSITIVE_KEYS, RowIds, row_texts
from embedlab.data.retrieval import is_retrieval_folder
from embedlab.data.text import text_key
from embedlab.errors import DataError
from embedlab.quality.changes import At, ChangeLog, FixResult, default_log_path, plain_json
from embedlab.quality.fix_retrieval import fix_retrieval


@dataclass
class Row(At):
    record: dict[str, Any]
    query: str
    positives: list[str]
    negatives: list[str]


def fix(path: str | Path, out: str | Path, log_path: str | Path | None = None, *,
        split: str | None = None, overwrite: bool = False) -> FixResult:
    """Write a cleaned copy of `path` to `out` (JSONL) and one JSON line per change to `log_path`.

    Texts are stripped of surrounding whitespace; empty texts, passages repeated within a row and
    negatives equal to a positive of the same (normalised) query are removed; then rows without a
    positive and rows identical to an earlier row are removed. Rows with an empty query or that cannot
    be read are removed too. An existing output or log is replaced only with `overwrite`.
    """
    path, out = Path(path), Path(out)
    log_path = Path(log_path) if log_path is not None else default_log_path(out)
    retrieval = is_retrieval_folder(path)
    check_fix_output(path, out, log_path, folder=retrieval, overwrite=overwrite)
    if retrieval:
        return fix_retrieval(path, out, log_path, split=split)
    log = ChangeLog()
    rows, read = _clean_rows(path, split, log)
    kept = _clean_across_rows(rows, log)
    with atomic_files([log_path, out]) as (log_partial, out_partial):  # the copy appears last
        dump_jsonl(out_partial, (row.record for row in kept), default=plain_json)
        log.write(log_partial)
    return FixResult(str(out), str(log_path), read, len(kept), log.counts())


def check_fix_output(path: Path, out: Path, log_path: Path, *, folder: bool, overwrite: bool) -> None:
    """Refuse a copy or log over (or inside) the input, an existing one without `overwrite`, a log that is
    the copy or inside it, and replacing a folder that is not a retrieval folder."""
    if not folder and out.is_dir():
        raise DataError("the cleaned copy of rows is a JSONL file, not a folder", path=out,
                        hint="give a file name such as clean.jsonl")
    check_output(out, inputs=[path], overwrite=overwrite, folder=folder)
    check_output(log_path, inputs=[path], overwrite=overwrite, role="log")
    if log_path.resolve() == out.resolve():
        raise DataError("the output and the log are the same file", path=out, hint="give another --fix-log")
    if folder and log_path.resolve().is_relative_to(out.resolve()):
        raise DataError("the log would be inside the cleaned folder", path=log_path,
                        hint="give a --fix-log outside it")
    if folder and out.is_dir() and not is_retrieval_folder(out):
        raise DataError("exists and is not a retrieval folder, so it is not replaced", path=out,
                        hint="give a new folder name")


def _clean_rows(path: Path, split: str | None, log: ChangeLog) -> tuple[list[Row], int]:
    """Rows cleaned one by one (whitespace, empty texts, repeats within the row); and rows read."""
    rows: list[Row] = []
    read = 0
    first_error: DataError | None = None
    ids = RowIds()
    for file, line, record in read_records(path, split=split):
        read += 1
        log.at(file, line)
        try:
            query, positives, negatives = row_texts(record, file, line, positives_required=False)
            first = ids.repeated(record, file, line)
        except DataError as exc:
            first_error = first_error or exc
            row = Row(file, line, record, "", [], [])
            log.add(row, None, "removed_malformed_row", str(exc).removeprefix(f"{file}:{line}: "))
            continue
        row = Row(file, line, dict(record), query, positives, negatives)
        if first is not None:  # the first row with the id is kept, as for corpus and queries records
            log.add(row, "_id", "removed_duplicate_id", str(record.get("_id", record.get("id"))))
            continue
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


def _clean_texts(row: Row, keys: tuple[str, ...], texts: list[str], log: ChangeLog) -> list[str]:
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


def _clean_across_rows(rows: list[Row], log: ChangeLog) -> list[Row]:
    positive_in: dict[tuple[str, str], Row] = {}  # (query, passage), normalised -> first row listing it
    for row in rows:
        for text in row.positives:
            positive_in.setdefault((text_key(row.query), text_key(text)), row)
    kept: list[Row] = []
    first: dict[tuple, Row] = {}
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
