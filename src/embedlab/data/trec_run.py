"""TREC run files, the ranking format trec_eval, pyserini, ranx and Elasticsearch tooling share: one line per
ranked document, `qid Q0 docid rank score tag`, whitespace-separated. A 3-column `qid docid score` file (a
TSV export, an optional header line) is read too.

As trec_eval does, the rank column is ignored: a query's documents are ordered by score (descending), equal
scores by document id (descending, byte order). Every read error is one line naming file:line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedlab.data.output import write_text
from embedlab.errors import DataError

FORMATS = {6: "qid Q0 docid rank score tag", 3: "qid docid score"}
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_HINT = "a TREC run has 6 columns, qid Q0 docid rank score tag (or 3: qid docid score)"


@dataclass
class Run:
    """A run as read: each query's (document ids, scores) in trec_eval's order, and where it came from."""

    path: Path
    rankings: dict[str, tuple[list[str], np.ndarray]]
    columns: int  # 6 (TREC) or 3 (qid docid score)
    tags: list[str]
    sha256: str
    first_line: dict[str, int]  # query id -> its first line in the file

    @property
    def documents(self) -> int:
        return sum(len(docs) for docs, _ in self.rankings.values())


def read_run(path: str | Path) -> Run:
    """Read and validate a run file (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file" if not path.exists() else "is a folder, not a run file", path=path,
                        hint=_HINT)
    raw = path.read_bytes()
    entries: dict[str, dict[str, tuple[float, int]]] = {}
    columns, tags = 0, {}
    for number, line in enumerate(_lines(raw, path), start=1):
        fields = line.split()
        if not fields:
            continue
        if not columns:
            columns = _columns(fields, path, number)
            if columns == 3 and not _NUMBER.fullmatch(fields[2]):
                continue  # a header line: query-id corpus-id score
        elif len(fields) != columns:
            raise DataError(f"has {len(fields)} columns where the file's first line has {columns} "
                            f"({FORMATS[columns]})", path=path, line=number)
        qid, docid, text = (fields[0], fields[2], fields[4]) if columns == 6 else fields
        if not _NUMBER.fullmatch(text):
            raise DataError(f"score '{text}' is not a finite number", path=path, line=number, field="score")
        ranked = entries.setdefault(qid, {})
        if docid in ranked:
            raise DataError(f"document '{docid}' is ranked twice for query '{qid}' (first at line "
                            f"{ranked[docid][1]})", path=path, line=number, hint="keep one line per (query, document)")
        ranked[docid] = (float(text), number)
        if columns == 6:
            tags[fields[5]] = None
    if not entries:
        raise DataError("no ranked documents", path=path, hint=_HINT)
    return Run(path, {qid: _ordered(ranked) for qid, ranked in entries.items()}, columns, list(tags),
               hashlib.sha256(raw).hexdigest(), {qid: min(line for _, line in ranked.values())
                                                 for qid, ranked in entries.items()})


def _lines(raw: bytes, path: Path) -> list[str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DataError(f"not valid UTF-8 (byte {exc.start})", path=path, line=line,
                        hint="re-save the file as UTF-8") from None
    return text.lstrip("\ufeff").split("\n")


def _columns(fields: list[str], path: Path, number: int) -> int:
    if len(fields) not in FORMATS:
        raise DataError(f"has {len(fields)} columns", path=path, line=number, hint=_HINT)
    return len(fields)


def _ordered(ranked: dict[str, tuple[float, int]]) -> tuple[list[str], np.ndarray]:
    """trec_eval's order: score descending, then document id descending."""
    items = sorted(((score, docid) for docid, (score, _) in ranked.items()), reverse=True)
    return [docid for _, docid in items], np.array([score for score, _ in items], dtype=np.float64)


def file_safe(name: str) -> str:
    """A model or task name as one file name (letters of any script, digits, . _ - + = @ kept)."""
    return re.sub(r"[^\w.+=@-]+", "_", name).strip("._") or "_"


def format_score(value: float | np.floating) -> str:
    """The shortest text that reads back as the same value: float32 scores as float32 (`0.8234`), others as
    float64 (reading them as float64 keeps every order and tie of the originals)."""
    if isinstance(value, np.float32):
        return str(value)
    return repr(float(value))


def format_run(rankings: Iterable[tuple[str, Sequence[str], Sequence[float]]], tag: str) -> str:
    """TREC lines of (query id, document ids best first, their scores) rankings; `tag` made one token."""
    tag = re.sub(r"\s+", "_", tag.strip()) or "embedlab"
    lines = []
    for qid, docids, scores in rankings:
        for rank, (docid, score) in enumerate(zip(docids, scores), start=1):
            lines.append(f"{qid} Q0 {docid} {rank} {format_score(score)} {tag}\n")
            if len(lines[-1].split()) != 6:
                raise DataError(f"query '{qid}' or document '{docid}' has a space in its id, which a TREC run "
                                "cannot hold", hint="give ids without whitespace")
    return "".join(lines)


def write_run(path: str | Path, rankings: Iterable[tuple[str, Sequence[str], Sequence[float]]], tag: str) -> Path:
    """Write a run file atomically (a killed write leaves nothing under the final name)."""
    return write_text(path, format_run(rankings, tag))
