"""A retrieval collection from reranking rows: the whole pool of passages as one corpus.

- corpus: the union of every row's passages (positives and negatives), one document per distinct text.
  "Distinct" is `data.text.text_key` (NFKC, case, whitespace, punctuation), as everywhere in embedlab: two
  passages that are the same text are one document, in the form first seen. Ids are `d1`..`dN` in
  first-seen order (each row's positives, then its negatives): readable and stable for the same input.
- queries: one per distinct query text (again `text_key`). Rows sharing a query text are the same
  question, so they become one query with the union of their judgments, under the first row's id; kept
  apart, each would count the other rows' positives, ranked high, as wrong. The id is the row's `_id`
  (or `id`) when present and `with_ids`, otherwise `q<row number>`.
- qrels: a query's positives graded 1, its listed negatives 0; a passage that is both for one query is a
  positive (graded 1) and counted. Queries left without a positive are not written (every model would
  score 0 on them); their passages stay in the corpus, which is the pool to search.
Empty passages and rows with an empty query are left out and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedlab.data.records import Record, id_field
from embedlab.data.reranking import NEGATIVE_KEYS, POSITIVE_KEYS, row_texts
from embedlab.data.text import text_key
from embedlab.data.triplets import Dropped
from embedlab.errors import DataError

ROW_KEYS = ("query", "_id", "id", *POSITIVE_KEYS, *NEGATIVE_KEYS)  # what the collection holds of a row


@dataclass
class Collection:
    corpus: dict[str, str] = field(default_factory=dict)  # document id -> text
    queries: dict[str, str] = field(default_factory=dict)  # query id -> text
    grades: dict[str, dict[str, int]] = field(default_factory=dict)  # query id -> document id -> grade
    rows_of: dict[str, int] = field(default_factory=dict)  # query id -> rows merged into it
    merged_rows: int = 0  # rows whose query text an earlier row already had
    merged_passages: int = 0  # passages written as an earlier document with the same text
    both: set[tuple[str, str]] = field(default_factory=set)  # (query, document) listed as both: graded 1
    empty_passages: int = 0
    empty_queries: int = 0  # rows left out
    no_positive: int = 0  # rows of queries left without a positive (not written)
    dropped: Dropped = field(default_factory=Dropped)  # row fields a retrieval folder has no place for

    @property
    def judgments(self) -> dict[tuple[str, str], int]:
        return {(qid, did): grade for qid, judged in self.grades.items() for did, grade in judged.items()}

    def corpus_records(self) -> list[dict[str, Any]]:
        return [{"_id": did, "text": text} for did, text in self.corpus.items()]

    def query_records(self) -> list[dict[str, Any]]:
        return [{"_id": qid, "text": text} for qid, text in self.queries.items()]


def rows_to_retrieval(rows: list[Record], *, with_ids: bool = True, dropped: Dropped | None = None
                      ) -> Collection:
    """The collection of reranking rows (`{query, positive, negative}` or `{query, pos, neg}`).

    `dropped` collects the row fields the collection cannot hold (every field but the query, the texts
    and the id), for the caller to refuse or report."""
    out = Collection(dropped=dropped or Dropped())
    documents: dict[str, str] = {}  # text_key -> document id
    exact: set[str] = set()
    query_ids: dict[str, str] = {}  # text_key of the query -> query id
    first_at: dict[str, tuple[Path, int]] = {}  # query id -> its first row
    for number, (file, line, record) in enumerate(rows, start=1):
        query, positives, negatives = row_texts(record, file, line, positives_required=False)
        for name in record:
            if name not in ROW_KEYS:
                out.dropped.add(name, file, line)
        if not query.strip():
            out.empty_queries += 1
            continue
        positive_ids = [_document(text, documents, exact, out) for text in positives]
        negative_ids = [_document(text, documents, exact, out) for text in negatives]
        qid = query_ids.get(text_key(query))
        if qid is None:
            qid = _query_id(record, number, with_ids, file, line)
            if qid in out.queries:
                earlier_file, earlier_line = first_at[qid]
                raise DataError(f"duplicate id '{qid}' (first at {earlier_file.name}:{earlier_line}, another "
                                f"query)", path=file, line=line, field="_id",
                                hint="ids must be unique; --drop-ids numbers the queries instead")
            query_ids[text_key(query)], first_at[qid], out.queries[qid] = qid, (file, line), query
        else:
            out.merged_rows += 1
        out.rows_of[qid] = out.rows_of.get(qid, 0) + 1
        _judge(qid, positive_ids, negative_ids, out)
    for qid, judged in list(out.grades.items()):
        if not any(judged.values()):
            out.no_positive += out.rows_of[qid]
            del out.grades[qid], out.queries[qid]
    return out


def _document(text: str, documents: dict[str, str], exact: set[str], out: Collection) -> str | None:
    """The id of the passage's document (a new one for a new text); None for an empty passage."""
    if not text.strip():
        out.empty_passages += 1
        return None
    key = text_key(text)
    if key not in documents:
        documents[key] = f"d{len(documents) + 1}"
        out.corpus[documents[key]] = text
    elif text not in exact:
        out.merged_passages += 1
    exact.add(text)
    return documents[key]


def _query_id(record: dict[str, Any], number: int, with_ids: bool, file: Path, line: int) -> str:
    if with_ids and any(record.get(key) is not None for key in ("_id", "id")):
        return id_field(record, ("_id", "id"), path=file, line=line)
    return f"q{number}"


def _judge(qid: str, positives: list[str | None], negatives: list[str | None], out: Collection) -> None:
    judged = out.grades.setdefault(qid, {})
    for did in filter(None, positives):
        if judged.get(did) == 0:
            out.both.add((qid, did))
        judged[did] = 1
    for did in filter(None, negatives):
        if judged.get(did) == 1:
            out.both.add((qid, did))
        judged.setdefault(did, 0)
