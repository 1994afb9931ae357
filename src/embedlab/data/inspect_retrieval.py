"""Diagnostics of a retrieval folder (corpus, queries, qrels).

Unlike `load_retrieval`, which refuses an inconsistent collection, this reports every inconsistency
(judgments of unknown ids, duplicate ids, queries without judgments) with counts and locations.
"""

from __future__ import annotations

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


def _read_texts(paths: list[Path], found: Findings, *, with_title: bool) -> Texts:
    texts: Texts = {}
    for path in paths:
        for file, line, record in read_records(path):
            at = where(file, line)
            try:
                key = id_field(record, ("_id", "id"), path=file, line=line)
                text = text_field(record, ("text",), path=file, line=line)
                title = text_field(record, ("title",), path=file, line=line, required=False) if with_title else None
            except DataError as exc:
                found.add("malformed_row", "error", at, str(exc).removeprefix(f"{file}:{line}: "))
                continue
            if key in texts:
                found.add("duplicate_id", "error", at, f"id {key!r} already at {texts[key][1]}")
                continue
            texts[key] = (f"{title} {text}".strip() if title else text, at)
    return texts


def _read_judgments(paths: list[Path], docs: Texts, queries: Texts, found: Findings
                    ) -> tuple[dict[str, dict[str, int]], int]:
    """Grades of the judgments whose ids are known, and the number of judgment lines read."""
    grades: dict[str, dict[str, int]] = {}
    first: dict[tuple[str, str], tuple[int, str]] = {}
    lines = 0
    rows = (row for path in paths for row in (
        _qrels_rows_tsv(path) if path.suffix in (".tsv", ".txt", ".qrels") else _qrels_rows_table(path)))
    for file, line, qid, did, raw in rows:
        at = where(file, line)
        lines += 1
        try:
            grade = _grade(raw, file, line)
        except DataError as exc:
            found.add("malformed_row", "error", at, str(exc).removeprefix(f"{file}:{line}: "))
            continue
        if (qid, did) in first:
            earlier, earlier_at = first[(qid, did)]
            if earlier != grade:
                found.add("conflicting_judgment", "error", at, f"{qid} {did}: {grade} here, {earlier} at {earlier_at}")
            else:
                found.add("duplicate_judgment", "info", at, f"{qid} {did}: also at {earlier_at}")
            continue
        first[(qid, did)] = (grade, at)
        known = True
        if qid not in queries:
            found.add("qrels_unknown_query", "error", at, f"query-id {qid!r}")
            known = False
        if did not in docs:
            found.add("qrels_unknown_doc", "error", at, f"corpus-id {did!r}")
            known = False
        if known:
            grades.setdefault(qid, {})[did] = grade
    return grades, lines
