"""Write JSON-object records as JSONL, parquet or a Hugging Face dataset folder (the layouts `read_records` reads),
and retrieval collections as BEIR folders (`corpus.jsonl`, `queries.jsonl`, `qrels.tsv`).

The container follows the output path: `.jsonl` a JSON-lines file, `.parquet` a parquet file, a folder
(or a name without suffix) a dataset saved with `datasets.Dataset.save_to_disk`. A table holds one type per
column: values that disagree are an error naming the row and field, never a silent cast. A field missing
on some rows is stored as null (tables cannot tell "absent" from null). Output is written to a temporary
sibling first and moved into place (`data.output`), so a failed write leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from embedlab.data.output import atomic_file, atomic_folder, check_output, dump_jsonl, is_saved_dataset
from embedlab.data.records import Record
from embedlab.errors import DataError, require


def container_of(target: Path) -> str:
    """The container the output path asks for."""
    suffix = target.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".parquet":
        return "parquet"
    if target.is_dir() or not suffix:
        return "dataset"
    raise DataError(f"cannot tell the output format from '{suffix}'", path=target,
                    hint="name it .jsonl or .parquet, or give a folder for a Hugging Face dataset")


def check_target(source: Path, target: Path, *, overwrite: bool) -> None:
    """Refuse an output that is (inside) the input, or that exists without `overwrite`; a folder output
    replaces only a saved Hugging Face dataset."""
    check_output(target, inputs=[source], overwrite=overwrite, folder=container_of(target) == "dataset")
    if target.is_dir() and not is_saved_dataset(target):
        raise DataError("exists and is not a saved Hugging Face dataset, so it is not replaced", path=target,
                        hint="give a new folder name")


def write_records(rows: list[Record], target: Path, container: str) -> dict[str, int]:
    """Write the records; returns, for table containers, how many rows lacked each field (stored as null)."""
    missing: dict[str, int] = {}
    if container == "jsonl":
        with atomic_file(target) as partial:
            _write_jsonl(rows, partial)
    elif container == "parquet":
        table, missing = _table(rows)
        with atomic_file(target) as partial:
            require("pyarrow.parquet", "writing parquet files").write_table(table, partial)
    else:
        table, missing = _table(rows)
        with atomic_folder(target) as partial:
            _save_dataset(table, partial)
    return missing


def write_beir(target: Path, corpus: Iterable[dict[str, Any]], queries: Iterable[dict[str, Any]],
               judgments: Mapping[tuple[str, str], int]) -> None:
    """A BEIR folder at `target`, atomically (see `dump_beir`)."""
    with atomic_folder(target) as partial:
        dump_beir(partial, corpus, queries, judgments)


def dump_beir(folder: Path, corpus: Iterable[dict[str, Any]], queries: Iterable[dict[str, Any]],
              judgments: Mapping[tuple[str, str], int], *, default: Callable[[Any], Any] | None = None) -> None:
    """Fill `folder` (the partial folder of an `atomic_folder` block) with `corpus.jsonl` and `queries.jsonl`
    (the records as given, each with its `_id`) and `qrels.tsv` (a header, then query-id, corpus-id, grade)."""
    dump_jsonl(folder / "corpus.jsonl", corpus, default=default)
    dump_jsonl(folder / "queries.jsonl", queries, default=default)
    lines = ["query-id\tcorpus-id\tscore\n"]
    for (qid, did), grade in judgments.items():
        bad = next((i for i in (qid, did) if any(c in str(i) for c in "\t\r\n")), None)
        if bad is not None:
            raise DataError(f"the id {str(bad)!r} holds a tab or a line break, which qrels.tsv cannot hold",
                            hint="give the record another id")
        lines.append(f"{qid}\t{did}\t{grade}\n")
    (folder / "qrels.tsv").write_text("".join(lines), encoding="utf-8")


def _write_jsonl(rows: list[Record], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for file, line, record in rows:
            try:
                text = json.dumps(record, ensure_ascii=False)
            except (TypeError, ValueError):
                field = next(k for k, v in record.items() if not _json_ok(v))
                raise DataError(f"a {type(record[field]).__name__} cannot be written as JSON", path=file,
                                line=line, field=field, hint="write .parquet or a dataset folder instead") from None
            handle.write(text + "\n")


def _json_ok(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _table(rows: list[Record]):
    pa = require("pyarrow", "writing parquet files and datasets")
    names = list(dict.fromkeys(key for _, _, record in rows for key in record))
    columns, missing = {}, {}
    for name in names:
        values = [record.get(name) for _, _, record in rows]
        absent = sum(name not in record for _, _, record in rows)
        if absent:
            missing[name] = absent
        columns[name] = _column(pa, name, values, rows)
    return pa.table(columns), missing


def _column(pa, name: str, values: list[Any], rows: list[Record]):
    try:
        return pa.array(values)
    except (pa.ArrowException, OverflowError, TypeError) as exc:
        reason = str(exc)
    bad = _first_failing(pa, values)
    file, line, _ = rows[bad]
    first = next(i for i, v in enumerate(values) if v is not None)
    if first == bad or _fails(pa, [values[bad]]):
        message = f"cannot be stored in a table column: {reason}"
    else:
        first_file, first_line, _ = rows[first]
        where = f"line {first_line}" if first_file == file else f"{first_file}:{first_line}"
        message = f"is {describe(values[bad])} here but {describe(values[first])} at {where}"
    raise DataError(message, path=file, line=line, field=name,
                    hint="a parquet file or dataset holds one type per field: make the values agree, "
                         "or write .jsonl instead")


def _fails(pa, values: list[Any]) -> bool:
    try:
        pa.array(values)
    except (pa.ArrowException, OverflowError, TypeError):
        return True
    return False


def _first_failing(pa, values: list[Any]) -> int:
    """Index of the row whose value first makes the column impossible (bisection over prefixes)."""
    ok, failing = 0, len(values)  # values[:ok] converts, values[:failing] does not
    while ok + 1 < failing:
        middle = (ok + failing) // 2
        if _fails(pa, values[:middle]):
            failing = middle
        else:
            ok = middle
    return failing - 1


def describe(value: Any) -> str:
    """A value's JSON type in words, for error messages: "an integer", "a list of strings"."""
    if isinstance(value, (list, tuple)):
        item = next((v for v in value if v is not None), None)
        return "a list" if item is None else f"a list of {_kind(item)[1]}"
    return _kind(value)[0]


def _kind(value: Any) -> tuple[str, str]:
    for kind, names in _KINDS:
        if isinstance(value, kind):
            return names
    return ("null", "nulls") if value is None else (type(value).__name__, f"{type(value).__name__} values")


_KINDS = ((bool, ("true/false", "true/false values")), (int, ("an integer", "integers")),
          (float, ("a number", "numbers")), (str, ("a string", "strings")), (dict, ("an object", "objects")),
          ((list, tuple), ("a list", "lists")))


def _save_dataset(table, path: Path) -> None:
    datasets = require("datasets", "writing a Hugging Face dataset folder")
    quiet = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()  # the caller reports what was written
    try:
        datasets.Dataset(table).save_to_disk(str(path))
    finally:
        if not quiet:
            datasets.enable_progress_bars()
