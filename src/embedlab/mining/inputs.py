"""What mining reads: the rows to mine for (a reranking / training file or a retrieval folder) and the
candidate passages (those of the rows, a corpus file, or a retrieval folder's corpus)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab.data.output import is_saved_dataset
from embedlab.data.records import plain, read_records, text_field
from embedlab.data.reranking import RowIds, check_passages, row_texts
from embedlab.data.retrieval import find_files, is_retrieval_folder, join_title, load_retrieval, read_texts
from embedlab.data.retrieval_rows import retrieval_rows
from embedlab.errors import DataError
from embedlab.mining.config import MiningConfig


@dataclass
class MiningRow:
    """A row to mine for: its query, positives, given negatives and the record it came from."""

    where: str  # file:line
    query: str
    positives: list[str]
    negatives: list[str]
    record: dict[str, Any]  # the original record (other fields are written back unchanged)


@dataclass
class MiningInput:
    rows: list[MiningRow]
    corpus: dict[str, str]  # a retrieval folder's corpus (the default candidates), else empty
    skipped: dict[str, int]  # rows that cannot be mined for, by reason (not written to the output)
    source: str = ""  # where the rows were read from

    def candidates(self) -> list[str]:
        """The default candidate passages: the retrieval folder's corpus, else every passage of the rows."""
        texts = self.corpus.values() if self.corpus else (t for r in self.rows for t in r.positives + r.negatives)
        return list(dict.fromkeys(texts))


def read_rows(path: str | Path, *, split: str | None = None) -> MiningInput:
    """Rows of a reranking/training file, or of a retrieval folder (positives = qrels grade > 0).

    Rows without a positive cannot be mined for: they are skipped and counted.
    """
    path = Path(path)
    if is_retrieval_folder(path):
        task = load_retrieval(path, split=split)
        converted = retrieval_rows(task, source=path)
        rows = [MiningRow(f"{path}:query {record['_id']}", record["query"], record["positive"],
                          record["negative"], {"_id": record["_id"]}) for _, _, record in converted.rows]
        skipped = {**task.skipped, **({"no_positive": converted.no_positive} if converted.no_positive else {})}
        return MiningInput(rows, task.corpus, skipped, str(path))
    rows = []
    skipped = {"no_positive": 0}
    ids = RowIds()
    for file, line, record in read_records(path, split=split):
        query, positives, negatives = row_texts(record, file, line)
        ids.check(record, file, line)
        if not positives:
            skipped["no_positive"] += 1
            continue
        check_passages(positives, negatives, file, line)
        rows.append(MiningRow(f"{file}:{line}", query, positives, negatives, plain(record)))
    if not rows:
        raise DataError("no row with a positive to mine negatives against", path=path)
    return MiningInput(rows, {}, {k: v for k, v in skipped.items() if v}, str(path))


def read_corpus(path: str | Path) -> list[str]:
    """Candidate passages from a corpus file (JSONL/parquet `{_id?, title?, text}`) or a retrieval folder."""
    path = Path(path)
    if path.is_dir() and not is_saved_dataset(path):
        return list(dict.fromkeys(read_texts(find_files(path, "corpus", None), with_title=True).values()))
    texts = []
    for file, line, record in read_records(path):
        text = text_field(record, ("text",), path=file, line=line)
        title = text_field(record, ("title",), path=file, line=line, required=False) or ""
        texts.append(join_title(title, text))
    return list(dict.fromkeys(t for t in texts if t))


def texts_to_embed(rows: list[MiningRow], corpus: list[str], config: MiningConfig, *,
                   second_model: bool = False) -> dict[str, list[str]]:
    """What mining embeds, per kind (for `estimate.estimate_texts`, before anything is paid for).

    The mining model: every candidate, every query, and the positives (and kept negatives) that are not
    candidates. The second model: the queries, the positives and the candidates it checks, which are
    at most every candidate.
    """
    documents = dict.fromkeys(corpus)
    for row in rows:
        documents.update(dict.fromkeys(row.positives))
        if config.keep_given and not second_model:
            documents.update(dict.fromkeys(row.negatives))
    return {"query": list(dict.fromkeys(row.query for row in rows)), "document": list(documents)}
