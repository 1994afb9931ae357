"""TREC run files, the ranking format trec_eval, pyserini, ranx and Elasticsearch tooling share: one line per
ranked document, `qid Q0 docid rank score tag`, whitespace-separated. A 3-column `qid docid score` file (a
TSV export, an optional header line) is read too.

As trec_eval does, the rank column is ignored: a query's documents are ordered by score (descending), equal
scores by document id (descending, byte order). trec_eval holds a score as a C `float` (and so do pytrec_eval and
mteb, which hand it runs): scores equal in float32 are ties, whatever digits follow. Runs are written so that such a
reader gets the order written (`format_run`). Every read error is one line naming file:line.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedlab.data.output import write_text
from embedlab.errors import DataError

FORMATS = {6: "qid Q0 docid rank score tag", 3: "qid docid score"}
FLOAT32_MAX = float(np.finfo(np.float32).max)  # a larger score is inf as trec_eval holds it
_HINT = "a TREC run has 6 columns, qid Q0 docid rank score tag (or 3: qid docid score)"


@dataclass
class Run:
    """A run as read: each query's (document ids, scores) in trec_eval's order, queries in file order."""

    path: Path
    rankings: dict[str, tuple[list[str], np.ndarray]]
    columns: int  # 6 (TREC) or 3 (qid docid score)
    tags: list[str]
    sha256: str

    @property
    def documents(self) -> int:
        return sum(len(docs) for docs, _ in self.rankings.values())

    def line_of(self, qid: str) -> int | None:
        """The first line of a query in the file (read again: for error messages only)."""
        lines = _lines(self.path.read_bytes(), self.path)
        return next((n for n, line in enumerate(lines, start=1) if line.split()[:1] == [qid]), None)


def read_run(path: str | Path) -> Run:
    """Read and validate a run file (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file" if not path.exists() else "is a folder, not a run file", path=path,
                        hint=_HINT)
    raw = path.read_bytes()
    lines = _lines(raw, path)
    start, columns = _first(lines, path)
    docid_at, score_at = (2, 4) if columns == 6 else (1, 2)
    entries: dict[str, dict[str, float]] = {}
    tags: dict[str, None] = {}
    for number in range(start, len(lines)):
        fields = lines[number].split()
        if len(fields) != columns:
            if not fields:
                continue
            raise DataError(f"has {len(fields)} columns where the file's first line has {columns} "
                            f"({FORMATS[columns]})", path=path, line=number + 1)
        qid, docid, text = fields[0], fields[docid_at], fields[score_at]
        ranked = entries.get(qid)
        if ranked is None:
            ranked = entries[qid] = {}
        if docid in ranked:
            first = next(n for n in range(start, number) if _key(lines[n], docid_at) == (qid, docid))
            raise DataError(f"document '{docid}' is ranked twice for query '{qid}' (first at line {first + 1})",
                            path=path, line=number + 1, hint="keep one line per (query, document)")
        try:
            ranked[docid] = score = float(text)
        except ValueError:
            score = math.nan
        if not -FLOAT32_MAX <= score <= FLOAT32_MAX or "_" in text:  # nan, inf, 1_000 (C's atof reads 1), 1e300
            raise _bad_score(text, score, path, number + 1)
        if columns == 6:
            tags[fields[5]] = None
    if not entries:
        raise DataError("no ranked documents", path=path, hint=_HINT)
    return Run(path, {qid: _ordered(ranked) for qid, ranked in entries.items()}, columns, list(tags),
               hashlib.sha256(raw).hexdigest())


def _bad_score(text: str, score: float, path: Path, line: int) -> DataError:
    if score - score != 0 or "_" in text:
        return DataError(f"score '{text}' is not a finite number", path=path, line=line, field="score")
    return DataError(f"score '{text}' is not a finite number as trec_eval reads it (a C float: at most "
                     f"{FLOAT32_MAX:.7g})", path=path, line=line, field="score")


def _lines(raw: bytes, path: Path) -> list[str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DataError(f"not valid UTF-8 (byte {exc.start})", path=path, line=line,
                        hint="re-save the file as UTF-8") from None
    return text.lstrip("\ufeff").split("\n")


def _first(lines: list[str], path: Path) -> tuple[int, int]:
    """(index of the first line of data, the file's number of columns); a 3-column header line is skipped."""
    for index, line in enumerate(lines):
        fields = line.split()
        if not fields:
            continue
        if len(fields) not in FORMATS:
            raise DataError(f"has {len(fields)} columns", path=path, line=index + 1, hint=_HINT)
        header = len(fields) == 3 and not _parses(fields[2])  # query-id corpus-id score
        return index + header, len(fields)
    raise DataError("no ranked documents", path=path, hint=_HINT)


def _parses(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _key(line: str, docid_at: int) -> tuple[str, str] | None:
    fields = line.split()
    return (fields[0], fields[docid_at]) if len(fields) > docid_at else None


def _ordered(ranked: dict[str, float]) -> tuple[list[str], np.ndarray]:
    """trec_eval's order: score as a C float descending, then document id descending; the values as written."""
    docids = list(ranked)
    values = np.fromiter(ranked.values(), dtype=np.float64, count=len(docids))
    order = np.lexsort((np.array(docids), values.astype(np.float32)))[::-1]  # ascending by both keys, reversed
    return [docids[i] for i in order], values[order]


def file_safe(name: str) -> str:
    """A model or task name as one file name (letters of any script, digits, . _ - + = @ kept)."""
    return re.sub(r"[^\w.+=@-]+", "_", name).strip("._") or "_"


def run_file_name(name: str) -> str:
    """A model's name as the name of its run file, one per name: `file_safe(name)` when that is the name itself,
    else followed by a hash of the name (`alt x` and `alt_x` would otherwise share `alt_x`)."""
    safe = file_safe(name)
    return safe if safe == name else f"{safe}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"


def format_score(value: float | np.floating) -> str:
    """The shortest text that reads back as the same value: float32 scores as float32 (`0.8234`), others as
    float64 (reading them as float64 keeps every order and tie of the originals)."""
    if isinstance(value, np.float32):
        return str(value)
    return repr(float(value))


def format_run(rankings: Iterable[tuple[str, Sequence[str], Sequence[float]]], tag: str) -> str:
    """TREC lines of (query id, document ids best first, their scores) rankings; `tag` made one token. A reader
    that holds scores as C floats (trec_eval) gets the order given: a score that would tie the one above it as a
    float32 out of trec_eval's tie order (or differ from it only beyond float32) is written one float32 step below."""
    tag = re.sub(r"\s+", "_", tag.strip()) or "embedlab"
    lines = []
    for qid, docids, scores in rankings:
        for rank, (docid, score) in enumerate(zip(docids, _trec_ordered(docids, scores)), start=1):
            lines.append(f"{qid} Q0 {docid} {rank} {format_score(score)} {tag}\n")
            if len(lines[-1].split()) != 6:
                raise DataError(f"query '{qid}' or document '{docid}' has a space in its id, which a TREC run "
                                "cannot hold", hint="give ids without whitespace")
    return "".join(lines)


def _trec_ordered(docids: Sequence[str], scores: Sequence[float]) -> list:
    """`scores` (best first), each kept unless trec_eval, reading it as a C float, would put it above the one before
    (equal as float32 and a higher id, or rounded up to it): then the float32 just below that one's."""
    kept: list = []
    below = None  # the previous score as a C float
    for index, score in enumerate(scores):
        as_c = np.float32(score)
        if below is not None and (as_c > below or (as_c == below and docids[index] > docids[index - 1])):
            score = as_c = np.nextafter(below, np.float32(-np.inf))
        kept.append(score)
        below = as_c
    return kept


def write_run(path: str | Path, rankings: Iterable[tuple[str, Sequence[str], Sequence[float]]], tag: str) -> Path:
    """Write a run file atomically (a killed write leaves nothing under the final name)."""
    return write_text(path, format_run(rankings, tag))
