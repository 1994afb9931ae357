"""Load a retrieval collection: BEIR/MTEB folder (corpus.jsonl, queries.jsonl, qrels) or C-MTEB parquet."""

from __future__ import annotations

import csv
from pathlib import Path

from embedlab.data.records import (
    choose_split,
    find_split_files,
    id_field,
    is_saved_dataset,
    read_records,
    task_name,
    text_field,
)
from embedlab.errors import DataError
from embedlab.tasks.retrieval import RetrievalTask

QUERY_ID_KEYS = ("query-id", "query_id", "qid")
CORPUS_ID_KEYS = ("corpus-id", "corpus_id", "pid", "doc-id", "docid")


def load_retrieval(path: str | Path | None = None, *, corpus: str | Path | None = None,
                   queries: str | Path | None = None, qrels: str | Path | None = None,
                   split: str | None = None, name: str | None = None) -> RetrievalTask:
    """Read and validate a retrieval collection.

    `path` is a folder holding `corpus*`, `queries*` and `qrels*` (`.jsonl`/`.parquet`/`.tsv`, or a
    `qrels/<split>.tsv` folder); any of the three can be given explicitly instead. Queries without any
    judgment are skipped and counted, as mteb does.
    """
    folder = Path(path) if path is not None else None
    corpus_files = [Path(corpus)] if corpus else _find(folder, "corpus", split)
    queries_files = [Path(queries)] if queries else _find(folder, "queries", split)
    qrels_files = [Path(qrels)] if qrels else _find(folder, "qrels", split)
    corpus_path, queries_path, qrels_path = corpus_files[0], queries_files[0], qrels_files[0]

    docs = _read_texts(corpus_files, with_title=True)
    all_queries = _read_texts(queries_files, with_title=False)
    judgments = read_qrels(qrels_files)
    for (qid, did), (file, line) in judgments.locations.items():
        if qid not in all_queries:
            raise DataError(f"query-id '{qid}' is not in {queries_path.name}", path=file, line=line,
                            field="query-id", hint="fix the id or remove the judgment")
        if did not in docs:
            raise DataError(f"corpus-id '{did}' is not in {corpus_path.name}", path=file, line=line,
                            field="corpus-id", hint="fix the id or remove the judgment")
    kept = {qid: text for qid, text in all_queries.items() if judgments.grades.get(qid)}
    skipped = {"no_judgments": len(all_queries) - len(kept)}
    if not kept:
        raise DataError("no query has a judgment", path=qrels_path)
    return RetrievalTask(
        name or task_name(folder or corpus_path.parent), docs, kept,
        {qid: judgments.grades[qid] for qid in kept}, str(folder or corpus_path.parent),
        {k: v for k, v in skipped.items() if v},
    )


def is_retrieval_folder(path: str | Path) -> bool:
    """A folder with corpus, queries and qrels entries (files, a qrels/ folder, or hub-snapshot shards),
    and not a saved Hugging Face dataset."""
    path = Path(path)
    if not path.is_dir() or is_saved_dataset(path):
        return False
    names = [p.name for p in path.iterdir()]
    return all(any(n.startswith(stem) for n in names) or find_split_files(path, stem)
               for stem in ("corpus", "queries", "qrels"))


def _find(folder: Path | None, stem: str, split: str | None) -> list[Path]:
    """The file(s) holding `stem` (several when a hub snapshot shards it)."""
    if folder is None:
        raise DataError(f"no {stem} given", hint=f"pass a folder or {stem}=PATH")
    if not folder.is_dir():
        raise DataError("expected a folder with corpus, queries and qrels", path=folder)
    for candidate in (folder / f"{stem}.jsonl", folder / f"{stem}.tsv", folder / f"{stem}.parquet"):
        if candidate.exists():
            return [candidate]
    sub = folder / stem
    if stem == "qrels" and sub.is_dir():
        groups = {p.stem: [p] for p in sorted(sub.iterdir()) if p.suffix in (".tsv", ".parquet", ".jsonl")}
        if groups:
            return groups[choose_split(groups, split, sub)]
    groups = find_split_files(folder, stem)
    if groups:
        return groups[choose_split(groups, split, folder)]
    raise DataError(f"no {stem} file (looked for {stem}.jsonl, {stem}.tsv, {stem}.parquet, "
                    f"{stem}/<split>.tsv, {stem}-*.parquet)", path=folder)


def _read_texts(paths: list[Path], *, with_title: bool) -> dict[str, str]:
    texts: dict[str, str] = {}
    where: dict[str, str] = {}
    records = (item for path in paths for item in read_records(path))
    for file, line, record in records:
        key = id_field(record, ("_id", "id"), path=file, line=line)
        text = text_field(record, ("text",), path=file, line=line)
        if with_title:
            title = text_field(record, ("title",), path=file, line=line, required=False) or ""
            text = f"{title} {text}".strip() if title else text.strip()
        if key in texts:
            raise DataError(f"duplicate id '{key}' (first at {where[key]})", path=file,
                            line=line, field="_id", hint="ids must be unique")
        texts[key], where[key] = text, f"{file.name}:{line}"
    if not texts:
        raise DataError("empty", path=paths[0])
    return texts


class Qrels:
    def __init__(self) -> None:
        self.grades: dict[str, dict[str, int]] = {}
        self.locations: dict[tuple[str, str], tuple[Path, int]] = {}


def read_qrels(paths: list[Path]) -> Qrels:
    """qrels as TSV (`query-id corpus-id score`, header optional, TREC 4-column accepted) or a table."""
    qrels = Qrels()
    rows = (row for path in paths for row in (
        _qrels_rows_tsv(path) if path.suffix in (".tsv", ".txt", ".qrels") else _qrels_rows_table(path)))
    for file, line, qid, did, raw in rows:
        grade = _grade(raw, file, line)
        previous = qrels.grades.setdefault(qid, {}).get(did)
        if previous is not None and previous != grade:
            first = qrels.locations[(qid, did)][1]
            raise DataError(f"({qid}, {did}) is graded {previous} at line {first} and {grade} here",
                            path=file, line=line, field="score", hint="keep one grade per pair")
        qrels.grades[qid][did] = grade
        qrels.locations.setdefault((qid, did), (file, line))
    if not qrels.grades:
        raise DataError("no judgments", path=paths[0])
    return qrels


def _qrels_rows_tsv(path: Path):
    with open(path, encoding="utf-8", newline="") as handle:
        try:
            lines = list(csv.reader(handle, delimiter="\t"))
        except UnicodeDecodeError:
            raise DataError("not valid UTF-8", path=path, hint="re-save the file as UTF-8") from None
    for number, cells in enumerate(lines, start=1):
        if not cells or not "".join(cells).strip():
            continue
        if number == 1 and cells[-1].strip().lower() in ("score", "relevance", "rel", "label"):
            continue
        if len(cells) == 4:  # TREC qrels: qid iteration docid rel
            cells = [cells[0], cells[2], cells[3]]
        if len(cells) != 3:
            raise DataError(f"expected 3 tab-separated columns (query-id, corpus-id, score), got {len(cells)}",
                            path=path, line=number)
        yield path, number, cells[0].strip(), cells[1].strip(), cells[2].strip()


def _qrels_rows_table(path: Path):
    for file, line, record in read_records(path):
        qid = id_field(record, QUERY_ID_KEYS, path=file, line=line)
        did = id_field(record, CORPUS_ID_KEYS, path=file, line=line)
        if "score" not in record:
            raise DataError("missing", path=file, line=line, field="score")
        yield file, line, qid, did, record["score"]


def _grade(raw: object, file: Path, line: int) -> int:
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataError(f"score {raw!r} is not a number", path=file, line=line, field="score") from None
    if value != int(value) or value < 0:
        raise DataError(f"score {raw!r} must be a whole number >= 0 (0 = judged not relevant)",
                        path=file, line=line, field="score")
    return int(value)
