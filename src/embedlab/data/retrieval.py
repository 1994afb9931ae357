"""Load a retrieval collection: BEIR/MTEB folder (corpus.jsonl, queries.jsonl, qrels) or C-MTEB parquet."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab.data.output import is_saved_dataset
from embedlab.data.qrels import read_qrels
from embedlab.data.records import (
    choose_split,
    find_split_files,
    id_field,
    read_records,
    task_name,
    text_field,
)
from embedlab.errors import DataError
from embedlab.tasks.retrieval import RetrievalTask

STEMS = ("corpus", "queries", "qrels")
log = logging.getLogger(__name__)


Files = str | Path | list[Path]


def load_retrieval(path: str | Path | None = None, *, corpus: Files | None = None,
                   queries: Files | None = None, qrels: Files | None = None,
                   split: str | None = None, name: str | None = None) -> RetrievalTask:
    """Read and validate a retrieval collection.

    `path` is a folder holding `corpus*`, `queries*` and `qrels*` (`.jsonl`/`.parquet`/`.tsv`, or a
    `qrels/<split>.tsv` folder); any of the three can be given explicitly instead (a file, or the shards of
    one). Queries without any judgment are skipped and counted, as mteb does.
    """
    folder = Path(path) if path is not None else None
    corpus_files = _files(corpus) if corpus else find_files(folder, "corpus", split)
    queries_files = _files(queries) if queries else find_files(folder, "queries", split)
    qrels_files = _files(qrels) if qrels else find_files(folder, "qrels", split)
    corpus_path, queries_path, qrels_path = corpus_files[0], queries_files[0], qrels_files[0]

    docs = read_texts(corpus_files, with_title=True)
    all_queries = read_texts(queries_files, with_title=False)
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
    if not any(grade > 0 for qid in kept for grade in judgments.grades[qid].values()):
        raise DataError("every judgment has grade 0: no query has a relevant document, so every model would "
                        "score 0", path=qrels_path, hint="grades are 1 or more for relevant documents; check "
                        "the score column")
    return RetrievalTask(
        name or task_name(folder or corpus_path.parent), docs, kept,
        {qid: judgments.grades[qid] for qid in kept}, str(folder or corpus_path.parent),
        {k: v for k, v in skipped.items() if v},
    )


def _files(given: Files) -> list[Path]:
    return [Path(p) for p in given] if isinstance(given, list) else [Path(given)]


def is_retrieval_folder(path: str | Path) -> bool:
    """A folder with corpus, queries and qrels entries (files, a qrels/ folder, or hub-snapshot shards),
    and not a saved Hugging Face dataset."""
    path = Path(path)
    if not path.is_dir() or is_saved_dataset(path):
        return False
    names = [p.name for p in path.iterdir()]
    return all(any(n.startswith(stem) for n in names) or find_split_files(path, stem)
               for stem in ("corpus", "queries", "qrels"))


def find_files(folder: Path | None, stem: str, split: str | None) -> list[Path]:
    """The file(s) holding `stem` (several when a hub snapshot shards it)."""
    if folder is None:
        raise DataError(f"no {stem} given", hint=f"pass a folder or {stem}=PATH")
    if not folder.is_dir():
        raise DataError("expected a folder with corpus, queries and qrels", path=folder)
    sub = folder / stem
    splits = {p.stem: [p] for p in sorted(sub.iterdir()) if p.suffix in (".tsv", ".parquet", ".jsonl")} \
        if stem == "qrels" and sub.is_dir() else {}
    for candidate in (folder / f"{stem}.jsonl", folder / f"{stem}.tsv", folder / f"{stem}.parquet"):
        if candidate.exists():
            return _either(candidate, splits, split, folder) if splits else [candidate]
    if splits:
        return splits[choose_split(splits, split, sub)]
    groups = find_split_files(folder, stem)
    if groups:
        return groups[choose_split(groups, split, folder)]
    raise DataError(f"no {stem} file (looked for {stem}.jsonl, {stem}.tsv, {stem}.parquet, "
                    f"{stem}/<split>.tsv, {stem}-*.parquet)", path=folder)


def _either(file: Path, splits: dict[str, list[Path]], split: str | None, folder: Path) -> list[Path]:
    """A qrels file beside a qrels/ folder of splits: the split asked for from the folder, else the file; said."""
    if split is not None and split in splits:
        chosen = splits[split]
        log.warning("%s: read qrels/%s (--split %s), not %s", folder, chosen[0].name, split, file.name)
        return chosen
    preferred = next((name for name in (split, "test", *sorted(splits)) if name in splits), None)
    log.warning("%s: read %s; the folder qrels/ (%s) holds judgments too: --split %s reads qrels/%s", folder,
                file.name, ", ".join(splits), preferred, splits[preferred][0].name)
    return [file]


def join_title(title: str | None, text: str) -> str:
    """A corpus record's text as it is encoded: mteb joins title and text, `f"{title} {text}".strip()`."""
    return f"{title} {text}".strip() if title else text.strip()


def read_texts(paths: list[Path], *, with_title: bool) -> dict[str, str]:
    """id -> text of corpus / queries files; the first unusable record is an error naming it."""
    texts: dict[str, str] = {}
    for item in read_text_records(paths, with_title=with_title):
        if item.problem == "malformed_row":
            raise DataError(item.detail, path=item.file, line=item.line)
        if item.problem == "duplicate_id":
            raise DataError(f"duplicate id '{item.key}' (first at {item.first.file.name}:{item.first.line})",
                            path=item.file, line=item.line, field="_id", hint="ids must be unique")
        texts[item.key] = item.content
    if not texts:
        raise DataError("empty", path=paths[0])
    return texts


@dataclass(slots=True)
class TextRecord:
    """A corpus or queries record as read: its id and text, or why it cannot be used."""

    file: Path
    line: int
    record: dict[str, Any]
    key: str = ""
    text: str = ""
    title: str | None = None
    problem: str | None = None  # "malformed_row" | "duplicate_id" | None
    detail: str = ""  # what is malformed
    first: TextRecord | None = None  # for a duplicate id: the record that has it first
    corpus: bool = False  # a corpus record (title + text, stripped, as mteb joins them); a query is as written

    @property
    def content(self) -> str:
        """What gets encoded: a corpus record's title and text joined as mteb joins them; a query as it is."""
        return join_title(self.title, self.text) if self.corpus else self.text


def read_text_records(paths: list[Path], *, with_title: bool) -> Iterator[TextRecord]:
    """Every record of corpus / queries files, each with the problem that makes it unusable (if any)."""
    first: dict[str, TextRecord] = {}
    for file, line, record in (item for path in paths for item in read_records(path)):
        item = TextRecord(file, line, record, corpus=with_title)
        try:
            item.key = id_field(record, ("_id", "id"), path=file, line=line)
            item.text = text_field(record, ("text",), path=file, line=line)
            if with_title:
                item.title = text_field(record, ("title",), path=file, line=line, required=False)
        except DataError as exc:
            item.problem, item.detail = "malformed_row", str(exc).removeprefix(f"{file}:{line}: ")
        else:
            if item.key in first:
                item.problem, item.first = "duplicate_id", first[item.key]
            else:
                first[item.key] = item
        yield item
