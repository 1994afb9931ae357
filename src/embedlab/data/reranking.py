"""Load reranking rows: C-MTEB `{query, positive, negative}` or FlagEmbedding `{query, pos, neg}`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embedlab.data.records import id_field, read_records, task_name, text_field
from embedlab.errors import DataError
from embedlab.tasks.reranking import RerankingTask, RerankRow

POSITIVE_KEYS = ("positive", "pos")
NEGATIVE_KEYS = ("negative", "neg")


def load_reranking(path: str | Path, *, name: str | None = None, split: str | None = None,
                   ) -> RerankingTask:
    """Read and validate a reranking file (JSONL / parquet / HF dataset dir).

    Rows without a positive or without a negative are skipped and counted, as mteb does.
    """
    path = Path(path)
    rows: list[RerankRow] = []
    skipped = {"no_positive": 0, "no_negative": 0}
    ids = RowIds()
    for file, line, record in read_records(path, split=split):
        query, positives, negatives = row_texts(record, file, line, negatives_required=True)
        row_id = ids.check(record, file, line) or f"row{len(rows) + sum(skipped.values()) + 1}"
        if not positives:
            skipped["no_positive"] += 1
        elif not negatives:
            skipped["no_negative"] += 1
        else:
            rows.append(RerankRow(row_id, query, tuple(positives), tuple(negatives)))
    if not rows:
        raise DataError("no usable rows (each row needs a query, a positive and a negative)",
                        path=path)
    return RerankingTask(name or task_name(path), rows, str(path),
                         {k: v for k, v in skipped.items() if v})


class RowIds:
    """Row ids are unique in a file (a repeated one makes results ambiguous): the one check every reader of
    rows applies, whether it refuses the row (eval, split, convert, mine) or reports it (inspect, fix)."""

    def __init__(self) -> None:
        self.first: dict[str, str] = {}

    def repeated(self, record: dict[str, Any], file: Path, line: int) -> str | None:
        """Where this row's id was first seen, if it was; else None (and the id is remembered)."""
        if record.get("_id") is None and record.get("id") is None:
            return None
        row_id = id_field(record, ("_id", "id"), path=file, line=line)
        if row_id in self.first:
            return self.first[row_id]
        self.first[row_id] = f"{file}:{line}"
        return None

    def check(self, record: dict[str, Any], file: Path, line: int) -> str | None:
        """The row's id (None without one), or a DataError when the id was used before."""
        first = self.repeated(record, file, line)
        if first is not None:
            row_id = id_field(record, ("_id", "id"), path=file, line=line)
            raise DataError(f"duplicate id '{row_id}' (first seen at {first})", path=file, line=line, field="_id",
                            hint="ids must be unique (embedlab inspect --fix keeps the first)")
        return None if record.get("_id") is None and record.get("id") is None else \
            id_field(record, ("_id", "id"), path=file, line=line)


def row_texts(record: dict[str, Any], file: Path, line: int, *, positives_required: bool = True,
              negatives_required: bool = False) -> tuple[str, list[str], list[str]]:
    """(query, positives, negatives) of a reranking or training record, in either key style."""
    query = text_field(record, ("query",), path=file, line=line)
    positives = text_list(record, POSITIVE_KEYS, file, line, required=positives_required)
    negatives = text_list(record, NEGATIVE_KEYS, file, line, required=negatives_required)
    return query, positives, negatives


def check_passages(positives: list[str], negatives: list[str], file: Path, line: int) -> None:
    """Training data: an empty passage would train on nothing, so it is an error naming the field."""
    for key, texts in (("positive", positives), ("negative", negatives)):
        if any(not t.strip() for t in texts):
            raise DataError("empty passage", path=file, line=line, field=key,
                            hint="remove empty strings from the list (embedlab inspect --fix does it)")


def text_list(record: dict[str, Any], keys: tuple[str, ...], file: Path, line: int, *,
              required: bool = True) -> list[str]:
    """The list of strings under the first of `keys`; a missing field is an error, or [] if not required."""
    key = next((k for k in keys if k in record), None)
    if key is None and not required:
        return []
    if key is None:
        raise DataError("missing", path=file, line=line, field=" or ".join(keys),
                        hint=f"keys found: {', '.join(record) or 'none'}")
    value = record[key]
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise DataError(f"expected a list of strings, got {type(value).__name__}", path=file,
                        line=line, field=key, hint='write ["text"] even for one passage')
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise DataError(f"item {index} is {type(item).__name__}, not a string", path=file,
                            line=line, field=key)
    return list(value)
