"""Diagnostics of a retrieval folder (corpus, queries, qrels).

Unlike `load_retrieval`, which refuses an inconsistent collection, this reports every inconsistency
(judgments of unknown ids, duplicate ids, queries without judgments) with counts and locations.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedlab.data.findings import (
    Findings,
    Inspection,
    TextIndex,
    normalised_duplicates,
    repeated_texts,
    spread,
    where,
)
from embedlab.data.lengths import measure
from embedlab.data.records import id_field, read_records, text_field
from embedlab.data.retrieval import _find, _grade, _qrels_rows_table, _qrels_rows_tsv
from embedlab.errors import DataError

STEMS = ("corpus", "queries", "qrels")
Texts = dict[str, tuple[str, str]]  # id -> (text, location)


def inspect_retrieval(folder: str | Path, *, split: str | None = None, tokenizer: Any = None,
                      max_length: int | None = None) -> Inspection:
    """Inspect a BEIR / MTEB / C-MTEB retrieval folder; `split` chooses the qrels split."""
    folder = Path(folder)
    files = {stem: _find(folder, stem, split) for stem in STEMS}
    found = Findings()
    docs = _read_texts(files["corpus"], found, with_title=True)
    queries = _read_texts(files["queries"], found, with_title=False)
    grades, judgments = _read_judgments(files["qrels"], docs, queries, found)
    for qid, (text, at) in queries.items():
        if qid not in grades:
            found.add("query_without_judgment", "warning", at, text)
        elif not any(grades[qid].values()):
            found.add("query_without_relevant", "warning", at, text)
    query_texts, doc_texts = list(queries.values()), list(docs.values())
    repeated_texts(query_texts, "duplicate_query", "warning", found)
    normalised_duplicates(query_texts, "normalised_duplicate_query", "warning", found)
    repeated_texts(doc_texts, "duplicate_document", "warning", found)
    normalised_duplicates(doc_texts, "normalised_duplicate_document", "info", found)
    for text, at in query_texts + doc_texts:
        if not text.strip():
            found.add("empty_text", "error", at, repr(text))

    relevant = {did for judged in grades.values() for did, grade in judged.items() if grade > 0}
    index = TextIndex()
    for text, at in query_texts:
        if text.strip():
            index.add_query(text, at)
    for did, (text, at) in docs.items():
        if text.strip():
            index.add_passage(text, at, positive=did in relevant)
    lengths = measure({"query": query_texts, "document": doc_texts}, found, tokenizer=tokenizer,
                      max_length=max_length)
    counts = {"documents": len(docs), "queries": len(queries), "judgments": judgments,
              "judged_queries": len(grades), "queries_with_relevant": sum(any(g.values()) for g in grades.values()),
              "relevant_documents": len(relevant)}
    return Inspection(
        source=str(folder), layout="retrieval", counts=counts,
        per_row={"judgments": spread([len(g) for g in grades.values()]),
                 "relevant": spread([sum(v > 0 for v in g.values()) for g in grades.values()])},
        lengths=lengths.chars, tokens=lengths.tokens, max_length=max_length if tokenizer else None,
        tokenizer=getattr(tokenizer, "name_or_path", None), findings=found.done(), values=lengths.values,
        index=index)


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


def read_text_records(paths: list[Path], *, with_title: bool) -> Iterator[TextRecord]:
    """Every record of corpus / queries files, each with the problem that makes it unusable (if any)."""
    first: dict[str, TextRecord] = {}
    for file, line, record in (item for path in paths for item in read_records(path)):
        item = TextRecord(file, line, record)
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


@dataclass(slots=True)
class Judgment:
    """A qrels line as read, with what is wrong with it: nothing, or the findings' codes."""

    file: Path
    line: int
    qid: str
    did: str
    grade: int | None = None
    problems: list[str] = field(default_factory=list)
    detail: str = ""  # what is malformed
    first: Judgment | None = None  # for a pair judged again: its first judgment


def read_judgments(paths: list[Path], docs: Container[str], queries: Container[str]) -> Iterator[Judgment]:
    """Every judgment of the qrels files; problems: malformed_row, duplicate_judgment or
    conflicting_judgment (the pair was judged before), qrels_unknown_query, qrels_unknown_doc."""
    first: dict[tuple[str, str], Judgment] = {}
    rows = (row for path in paths for row in (
        _qrels_rows_tsv(path) if path.suffix in (".tsv", ".txt", ".qrels") else _qrels_rows_table(path)))
    for file, line, qid, did, raw in rows:
        item = Judgment(file, line, qid, did)
        try:
            item.grade = _grade(raw, file, line)
        except DataError as exc:
            item.problems, item.detail = ["malformed_row"], str(exc).removeprefix(f"{file}:{line}: ")
            yield item
            continue
        if (qid, did) in first:
            item.first = first[(qid, did)]
            item.problems = ["duplicate_judgment" if item.first.grade == item.grade else "conflicting_judgment"]
            yield item
            continue
        first[(qid, did)] = item
        item.problems = ([] if qid in queries else ["qrels_unknown_query"]) + \
                        ([] if did in docs else ["qrels_unknown_doc"])
        yield item


def _read_texts(paths: list[Path], found: Findings, *, with_title: bool) -> Texts:
    texts: Texts = {}
    for item in read_text_records(paths, with_title=with_title):
        at = where(item.file, item.line)
        if item.problem == "malformed_row":
            found.add("malformed_row", "error", at, item.detail)
        elif item.problem == "duplicate_id":
            found.add("duplicate_id", "error", at,
                      f"id {item.key!r} already at {where(item.first.file, item.first.line)}")
        else:
            texts[item.key] = (f"{item.title} {item.text}".strip() if item.title else item.text, at)
    return texts


def _read_judgments(paths: list[Path], docs: Texts, queries: Texts, found: Findings
                    ) -> tuple[dict[str, dict[str, int]], int]:
    """Grades of the judgments whose ids are known, and the number of judgment lines read."""
    grades: dict[str, dict[str, int]] = {}
    lines = 0
    for item in read_judgments(paths, docs, queries):
        at = where(item.file, item.line)
        lines += 1
        for problem in item.problems:
            if problem == "malformed_row":
                found.add(problem, "error", at, item.detail)
            elif problem == "conflicting_judgment":
                found.add(problem, "error", at, f"{item.qid} {item.did}: {item.grade} here, "
                                                f"{item.first.grade} at {where(item.first.file, item.first.line)}")
            elif problem == "duplicate_judgment":
                found.add(problem, "info", at,
                          f"{item.qid} {item.did}: also at {where(item.first.file, item.first.line)}")
            elif problem == "qrels_unknown_query":
                found.add(problem, "error", at, f"query-id {item.qid!r}")
            else:
                found.add(problem, "error", at, f"corpus-id {item.did!r}")
        if not item.problems:
            grades.setdefault(item.qid, {})[item.did] = item.grade
    return grades, lines
