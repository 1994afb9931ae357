"""Diagnostics of a retrieval folder (corpus, queries, qrels).

Unlike `load_retrieval`, which refuses an inconsistent collection, this reports every inconsistency
(judgments of unknown ids, duplicate ids, queries without judgments) with counts and locations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embedlab.data.qrels import read_judgments
from embedlab.data.retrieval import STEMS, find_files, read_text_records
from embedlab.quality.findings import (
    Findings,
    Inspection,
    TextIndex,
    normalised_duplicates,
    repeated_texts,
    spread,
    where,
)
from embedlab.quality.lengths import measure

Texts = dict[str, tuple[str, str]]  # id -> (text, location)


def inspect_retrieval(folder: str | Path, *, split: str | None = None, tokenizer: Any = None,
                      max_length: int | None = None) -> Inspection:
    """Inspect a BEIR / MTEB / C-MTEB retrieval folder; `split` chooses the qrels split."""
    folder = Path(folder)
    files = {stem: find_files(folder, stem, split) for stem in STEMS}
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
    for item in read_text_records(paths, with_title=with_title):
        at = where(item.file, item.line)
        if item.problem == "malformed_row":
            found.add("malformed_row", "error", at, item.detail)
        elif item.problem == "duplicate_id":
            found.add("duplicate_id", "error", at,
                      f"id {item.key!r} already at {where(item.first.file, item.first.line)}")
        else:
            texts[item.key] = (item.content, at)
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
