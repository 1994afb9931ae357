"""Read JSON-object records from JSONL, parquet or a local Hugging Face dataset, keeping their line numbers.

Every record comes with its location (1-based line of a JSONL file, 1-based row of a table), so that
validation errors can point at it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from embedlab.data.output import is_saved_dataset
from embedlab.errors import DataError, require

Record = tuple[Path, int, dict[str, Any]]  # (file, 1-based line or row, record)
MAX_NESTING = 100  # arrays / objects inside each other: records and results files need fewer than 10
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
TABLE_SUFFIXES = (".parquet", ".arrow")
_SPLIT_PREFERENCE = ("test", "dev", "validation")  # evaluation splits, never train by default


def read_records(path: str | Path, *, split: str | None = None) -> Iterator[Record]:
    """Records of a .jsonl / .json-lines / .parquet file or a Hugging Face dataset directory."""
    path = Path(path)
    if not path.exists():
        raise DataError("no such file or directory", path=path)
    if path.is_dir():
        yield from _read_dataset_dir(path, split)
    elif path.suffix in TABLE_SUFFIXES:
        yield from _read_table(path)
    else:
        yield from read_jsonl(path)


def read_jsonl(path: Path) -> Iterator[Record]:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"not valid UTF-8 (byte {exc.start})", path=path, line=number,
                    hint="re-save the file as UTF-8",
                ) from None
            if number == 1:
                line = line.lstrip("\ufeff")
            if not line.strip():
                continue
            try:
                record = parse_json(line.rstrip("\r\n"), path, number)
            except json.JSONDecodeError as exc:
                raise DataError(f"malformed JSON: {exc.msg} at character {exc.pos + 1}", path=path,
                                line=number, hint="each line must hold one JSON object") from None
            if not isinstance(record, dict):
                raise DataError(f"expected a JSON object, got {type(record).__name__}", path=path,
                                line=number)
            if b"\\u" in raw:  # an escape might be half a surrogate pair: not text
                _check_unicode(record, path, number)
            yield path, number, record


def parse_json(text: str, path: Path, line: int | None = None) -> Any:
    """`json.loads`, refusing JSON nested deeper than any data or results file is (Python's parser stops with a
    RecursionError at about 1,000 levels, and so would any writer asked to write such a record back)."""
    try:
        value = json.loads(text)
    except RecursionError:
        value = None
    else:
        if text.count("[") + text.count("{") <= MAX_NESTING or _depth(value) <= MAX_NESTING:
            return value
    raise DataError(f"nested {nesting(text):,} levels deep (at most {MAX_NESTING} are read)", path=path, line=line,
                    hint="not a file embedlab wrote or reads: arrays and objects nest a few levels")


def _depth(value: Any) -> int:
    """How deep arrays and objects nest in a parsed value (level by level, never recursive), up to MAX_NESTING + 1."""
    level, current = 0, [value] if type(value) in (list, dict) else []
    while current and level <= MAX_NESTING:
        level += 1
        current = [child for node in current for child in (node.values() if type(node) is dict else node)
                   if type(child) in (list, dict)]
    return level


def nesting(text: str) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside strings do not count)."""
    import numpy as np  # only here: `--help` imports this module and never numpy

    codes = np.frombuffer(_STRING.sub("", text).encode("utf-8", "surrogatepass"), dtype=np.uint8)
    steps = np.isin(codes, np.frombuffer(b"[{", np.uint8)).astype(np.int64) - np.isin(codes, np.frombuffer(b"]}", np.uint8))
    return int(np.cumsum(steps).max(initial=0))


def _check_unicode(record: dict[str, Any], path: Path, line: int) -> None:
    """Refuse a lone surrogate (e.g. `"\\ud800"`): valid JSON, but not Unicode text."""
    for key, value in record.items():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise DataError(f"invalid text: a lone surrogate \\u{ord(text[exc.start]):04x} at character "
                                    f"{exc.start + 1}", path=path, line=line, field=key,
                                    hint="fix the escape (a surrogate must come in a pair) or remove it") from None


def _read_table(path: Path) -> Iterator[Record]:
    pa = require("pyarrow", "reading parquet files")
    try:
        if path.suffix == ".arrow":
            datasets = require("datasets", "reading .arrow dataset files")
            table = datasets.Dataset.from_file(str(path)).data.table
        else:
            table = require("pyarrow.parquet", "reading parquet files").read_table(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        kind = "an .arrow dataset file" if path.suffix == ".arrow" else "a parquet file"
        raise DataError(f"cannot be read as {kind} ({str(exc).splitlines()[0][:200]})", path=path,
                        hint="check the file is complete and really that format") from None
    for number, record in enumerate(table.to_pylist(), start=1):
        yield path, number, record


def read_json(path: str | Path, *, what: str, hint: str) -> Any:
    """A whole JSON file (a results file, a curve), or a DataError naming it: unreadable, not UTF-8, not JSON."""
    path = Path(path)
    try:
        return parse_json(path.read_text(encoding="utf-8"), path)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"not a readable {what} (invalid JSON: {exc})", path=path, hint=hint) from None
    except OSError as exc:
        raise DataError(f"cannot be read ({exc.strerror})", path=path, hint=hint) from None


def plain(record: dict[str, Any]) -> dict[str, Any]:
    """A JSON-writable copy of a record (parquet/arrow rows may hold numpy arrays)."""
    return {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in record.items()}


def _read_dataset_dir(path: Path, split: str | None) -> Iterator[Record]:
    if is_saved_dataset(path):
        yield from _read_saved_dataset(path, split)
        return
    _refuse_partial_retrieval_folder(path)
    files = find_split_files(path)
    if not files:
        raise DataError("no .jsonl or .parquet data files in this directory", path=path,
                        hint="point at a JSONL/parquet file or a Hugging Face dataset directory")
    chosen = choose_split(files, split, path)
    for file in files[chosen]:
        if file.suffix in TABLE_SUFFIXES:
            yield from _read_table(file)
        else:
            yield from read_jsonl(file)


RETRIEVAL_STEMS = ("corpus", "queries", "qrels")


def _refuse_partial_retrieval_folder(path: Path) -> None:
    """A folder with some of corpus, queries and qrels is a retrieval folder missing a file, not rows."""
    names = [p.name for p in path.iterdir()]
    present = [stem for stem in RETRIEVAL_STEMS if any(n.startswith(stem) for n in names)]
    if present:
        missing = [stem for stem in RETRIEVAL_STEMS if stem not in present]
        raise DataError(f"a retrieval folder needs corpus, queries and qrels; {', '.join(missing)} "
                        f"{'is' if len(missing) == 1 else 'are'} missing (found {', '.join(present)})", path=path,
                        hint=f"add {missing[0]}.jsonl" + ("" if missing[0] != "qrels" else " or qrels.tsv"))


def find_split_files(path: Path, stem: str = "") -> dict[str, list[Path]]:
    """Data files of a hub snapshot grouped by split, e.g. data/dev-00000-of-00001.parquet -> 'dev'."""
    groups: dict[str, list[Path]] = {}
    for file in sorted(path.rglob("*")):
        if file.suffix not in (".jsonl", ".parquet") or any(p.startswith(".") for p in file.relative_to(path).parts):
            continue
        name = re.sub(r"-\d{5}-of-\d{5}$", "", file.stem)  # shard suffix of hub parquet files
        if stem:
            if not name.startswith(stem):
                continue
            name = name[len(stem):].lstrip("-_")
        split = name.split("-")[0] or "default"
        groups.setdefault(split, []).append(file)
    return groups


def choose_split(groups: dict[str, list[Path]], split: str | None, path: Path) -> str:
    if split is not None:
        if split not in groups:
            raise DataError(f"no split '{split}' here; found: {', '.join(sorted(groups))}", path=path,
                            hint="pass --split with one of those")
        return split
    if len(groups) == 1:
        return next(iter(groups))
    for preferred in _SPLIT_PREFERENCE:
        if preferred in groups:
            return preferred
    raise DataError(f"several splits and none is the default: {', '.join(sorted(groups))}", path=path,
                    hint="pass --split")


def _read_saved_dataset(path: Path, split: str | None) -> Iterator[Record]:
    datasets = require("datasets", "reading a saved Hugging Face dataset")
    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        name = choose_split({k: [] for k in loaded}, split, path)
        loaded = loaded[name]
    for number, record in enumerate(loaded, start=1):
        yield path, number, record


_GENERIC_NAMES = {"test", "dev", "train", "validation", "data", "retrieval", "reranking", "corpus"}


def task_name(path: Path) -> str:
    """A readable default task name, from the dataset: the folder above a `reranking*` / `retrieval*` folder or
    file, down to the data (`xquad_r_zh/reranking/test.jsonl` -> `xquad_r_zh/reranking/test`,
    `cranfield_en/retrieval` -> `cranfield_en/retrieval`); else the file or folder name, with its parent
    when that name is generic (`splits/test.jsonl` -> `splits/test`)."""
    path = path.resolve()
    parts = [*path.parent.parts[1:], path.stem if path.is_file() else path.name]
    for back in (1, 2):  # the data itself, or its parent, named after a task type
        if len(parts) > back and parts[-back].lower().startswith(("reranking", "retrieval")):
            return "/".join(parts[-back - 1:])
    name = parts[-1]
    return f"{path.parent.name}/{name}" if name.lower() in _GENERIC_NAMES else name


def text_field(record: dict[str, Any], keys: tuple[str, ...], *, path: Path | str, line: int,
               required: bool = True) -> str | None:
    """The first of `keys` present in `record`, checked to be a string."""
    for key in keys:
        if key in record and record[key] is not None:
            value = record[key]
            if not isinstance(value, str):
                raise DataError(f"expected a string, got {type(value).__name__}", path=path,
                                line=line, field=key)
            return value
    if required:
        raise DataError("missing", path=path, line=line, field=" or ".join(keys),
                        hint=f"keys found: {', '.join(record) or 'none'}")
    return None


def id_field(record: dict[str, Any], keys: tuple[str, ...], *, path: Path | str, line: int) -> str:
    """An id: strings as they are, integers as their decimal text (as BEIR and mteb read them)."""
    for key in keys:
        if key in record and record[key] is not None:
            value = record[key]
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise DataError(f"expected a string id, got {type(value).__name__}", path=path,
                                line=line, field=key)
            return str(value)
    raise DataError("missing", path=path, line=line, field=" or ".join(keys))
