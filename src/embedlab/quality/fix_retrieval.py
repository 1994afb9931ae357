"""A cleaned copy of a retrieval folder (corpus, queries, qrels), and a log of every change.

The copy is a BEIR folder that `eval` loads: `corpus.jsonl` and `queries.jsonl` with every field of each
record kept, and `qrels.tsv` for the split read. Removed, each with a line of the log: records that
cannot be read, ids used a second time (the first record is kept), empty texts (and their judgments),
judgments that cannot be read, judgments of ids that do not exist, and pairs judged a second time (the
first judgment is kept). Surrounding whitespace is stripped. Queries without judgments are kept: `eval` skips
and counts them. The input is never modified; `quality.fix` checks the output paths before calling this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embedlab.data.output import atomic_file, atomic_folder
from embedlab.data.qrels import read_judgments
from embedlab.data.retrieval import STEMS, find_files, read_text_records
from embedlab.data.writer import dump_beir
from embedlab.errors import DataError
from embedlab.quality.changes import At, ChangeLog, FixResult, plain_json


def fix_retrieval(folder: Path, out: Path, log_path: Path, *, split: str | None = None) -> FixResult:
    """Write the cleaned copy of retrieval `folder` into the folder `out` and the change log to `log_path`."""
    files = {stem: find_files(folder, stem, split) for stem in STEMS}
    log = ChangeLog()
    docs, docs_read, docs_removed = _clean_texts(files["corpus"], log, with_title=True)
    queries, queries_read, queries_removed = _clean_texts(files["queries"], log, with_title=False)
    judgments, judgments_read = _clean_judgments(files["qrels"], set(docs), set(queries), log,
                                                 removed={"query": queries_removed, "document": docs_removed})
    if not docs or not queries or not judgments:
        empty = "corpus" if not docs else "queries" if not queries else "qrels"
        raise DataError(f"nothing of the {empty} is left after cleaning", path=files[empty][0],
                        hint="see `embedlab inspect` for what is wrong with it")
    with atomic_folder(out) as folder_partial, atomic_file(log_path) as log_partial:  # the folder appears last
        dump_beir(folder_partial, docs.values(), queries.values(), judgments, default=plain_json)
        log.write(log_partial)
    return FixResult(str(out), str(log_path), docs_read + queries_read + judgments_read,
                     len(docs) + len(queries) + len(judgments), log.counts(), unit="records")


def _clean_texts(paths: list[Path], log: ChangeLog, *, with_title: bool
                 ) -> tuple[dict[str, dict], int, set[str]]:
    """id -> record (whitespace stripped) of the readable records with a text, first of each id; the
    number of records read; the ids removed for an empty text."""
    kept: dict[str, dict[str, Any]] = {}
    emptied: set[str] = set()
    read = 0
    for item in read_text_records(paths, with_title=with_title):
        read += 1
        at = log.at(item.file, item.line)
        if item.problem == "malformed_row":
            log.add(at, None, "removed_malformed_row", item.detail)
        elif item.problem == "duplicate_id":
            log.add(at, "_id", "removed_duplicate_id", item.key, duplicate_of=At(item.first.file, item.first.line))
        elif not f"{item.title or ''}{item.text}".strip():
            log.add(at, "text", "removed_empty_text", item.text)
            emptied.add(item.key)
        else:
            record = dict(item.record)
            for name, value in (("text", item.text), ("title", item.title)):
                if value is not None and value != value.strip():
                    log.add(at, name, "stripped_whitespace", value)
                    record[name] = value.strip()
            kept[item.key] = record
    return kept, read, emptied - set(kept)


# what inspect reports about a judgment -> what the cleaned copy does about it (the judgment is removed)
_ACTIONS = {"malformed_row": ("score", "removed_malformed_row"),
            "duplicate_judgment": ("score", "removed_duplicate_judgment"),
            "conflicting_judgment": ("score", "removed_conflicting_judgment"),
            "qrels_unknown_query": ("query-id", "removed_judgment_of_unknown_query"),
            "qrels_unknown_doc": ("corpus-id", "removed_judgment_of_unknown_document")}


def _clean_judgments(paths: list[Path], docs: set[str], queries: set[str], log: ChangeLog, *,
                     removed: dict[str, set[str]]) -> tuple[dict[tuple[str, str], int], int]:
    """(query-id, corpus-id) -> grade of the judgments kept, and the number of judgment lines read.

    `removed`: ids of queries / documents the copy leaves out for an empty text; their judgments are
    logged as such, not as judgments of unknown ids."""
    kept: dict[tuple[str, str], int] = {}
    read = 0
    for item in read_judgments(paths, docs, queries):
        read += 1
        if not item.problems:
            kept[(item.qid, item.did)] = item.grade
            continue
        problem = item.problems[0]  # one line of the log per judgment removed
        field_name, action = _ACTIONS[problem]
        unknown = {"qrels_unknown_query": ("query", item.qid), "qrels_unknown_doc": ("document", item.did)}
        kind, key = unknown.get(problem, ("", ""))
        if kind and key in removed[kind]:
            action = f"removed_judgment_of_removed_{kind}"
        value = item.detail if problem == "malformed_row" else f"{item.qid} {item.did} {item.grade}"
        first = At(item.first.file, item.first.line) if item.first is not None else None
        log.add(log.at(item.file, item.line), field_name, action, value, duplicate_of=first)
    return kept, read
