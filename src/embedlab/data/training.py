"""Training rows: reranking `{query, positive, negative}` or FlagEmbedding `{query, pos, neg, prompt?}`.

Unlike evaluation, a row with no negative is kept (in-batch negatives still teach it); a row with no
positive teaches nothing and is skipped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from embedlab.data.records import read_records, text_field
from embedlab.data.reranking import check_passages, row_texts
from embedlab.errors import DataError


@dataclass(frozen=True)
class TrainRow:
    line: int
    query: str
    positives: tuple[str, ...]
    negatives: tuple[str, ...]
    prompt: str | None = None  # FlagEmbedding's per-row query instruction


@dataclass
class TrainingData:
    rows: list[TrainRow]
    source: str
    skipped: dict[str, int] = field(default_factory=dict)

    def passages(self) -> list[str]:
        """Every distinct passage, in first-seen order."""
        return list(dict.fromkeys(p for row in self.rows for p in row.positives + row.negatives))


def load_training(path: str | Path, *, split: str | None = None) -> TrainingData:
    """Read and validate training rows; empty texts are errors (they would train on nothing)."""
    path = Path(path)
    rows: list[TrainRow] = []
    skipped = {"no_positive": 0}
    for file, line, record in read_records(path, split=split):
        query, positives, negatives = row_texts(record, file, line)
        if not query.strip():
            raise DataError("empty query", path=file, line=line, field="query",
                            hint="remove the row or give it a query")
        check_passages(positives, negatives, file, line)
        prompt = text_field(record, ("prompt",), path=file, line=line, required=False)
        if not positives:
            skipped["no_positive"] += 1
            continue
        rows.append(TrainRow(line, query, tuple(positives), tuple(negatives), prompt or None))
    if not rows:
        raise DataError("no usable training rows (each row needs a query and a positive)", path=path)
    return TrainingData(rows, str(path), {k: v for k, v in skipped.items() if v})

