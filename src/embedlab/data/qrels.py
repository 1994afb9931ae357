"""Relevance judgments (qrels): TSV with or without a header (BEIR `query-id corpus-id score`, TREC
`qid iter docid rel`, whitespace- or tab-separated), or a table (JSONL / parquet) with id and score fields.

A headerless 4-column file is TREC when its second column is one constant (the iteration, `0` or `Q0`);
`qid docid score extra` when the second column varies; anything else is refused with a hint to add a
header, never guessed: a wrong guess scores silently wrong.
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from embedlab.data.records import id_field, read_records
from embedlab.errors import DataError

QUERY_ID_KEYS = ("query-id", "query_id", "qid")
CORPUS_ID_KEYS = ("corpus-id", "corpus_id", "pid", "doc-id", "docid")
MAX_GRADE = 1000  # graded relevance is a small whole number (TREC: 0-4); anything larger is a typo
SCORE_NAMES = ("score", "relevance", "rel", "label", "grade")
_HEADER_NAMES = {**dict.fromkeys(QUERY_ID_KEYS + ("query", "topic"), "query"),
                 **dict.fromkeys(CORPUS_ID_KEYS + ("doc", "doc_id", "document", "corpus"), "doc"),
                 **dict.fromkeys(SCORE_NAMES, "score")}
_HEADERLESS = "query-id, corpus-id, score (BEIR) or qid, iteration, docid, relevance (TREC)"


class Qrels:
    def __init__(self) -> None:
        self.grades: dict[str, dict[str, int]] = {}
        self.locations: dict[tuple[str, str], tuple[Path, int]] = {}


def read_qrels(paths: list[Path]) -> Qrels:
    """qrels as TSV (`query-id corpus-id score`, header optional, TREC 4-column accepted) or a table."""
    qrels = Qrels()
    for file, line, qid, did, raw in (row for path in paths for row in qrels_rows(path)):
        grade = parse_grade(raw, file, line)
        previous = qrels.grades.setdefault(qid, {}).get(did)
        if previous is not None and previous != grade:
            first = qrels.locations[(qid, did)][1]
            raise DataError(f"({qid}, {did}) is graded {previous} at line {first} and {grade} here",
                            path=file, line=line, field="score", hint="keep one grade per pair")
        qrels.grades[qid][did] = grade
        qrels.locations.setdefault((qid, did), (file, line))
    if not qrels.grades:
        raise DataError("no judgments", path=paths[0])
    return qrels


def qrels_rows(path: Path) -> Iterator[tuple[Path, int, str, str, object]]:
    """(file, line, query-id, corpus-id, raw grade) of a qrels TSV or table file, as written."""
    return _qrels_rows_tsv(path) if path.suffix in (".tsv", ".txt", ".qrels") else _qrels_rows_table(path)


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
    for file, line, qid, did, raw in (row for path in paths for row in qrels_rows(path)):
        item = Judgment(file, line, qid, did)
        try:
            item.grade = parse_grade(raw, file, line)
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


def _qrels_rows_tsv(path: Path):
    rows = _split_lines(path)
    if not rows:
        return
    header = None if _is_number(rows[0][1][-1]) else rows.pop(0)
    width = len(header[1]) if header else len(rows[0][1]) if rows else 3
    q, d, s = _columns(path, header, rows, width)
    for number, cells in rows:
        if len(cells) != width:
            raise DataError(f"expected {width} tab-separated columns like the first line, got {len(cells)}", path=path,
                            line=number, hint="separate columns with tabs (or spaces, in TREC files)")
        yield path, number, cells[q], cells[d], cells[s]


def _split_lines(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of the non-empty lines: tab-separated, or whitespace-separated without tabs."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError("not valid UTF-8", path=path, hint="re-save the file as UTF-8") from None
    except OSError as exc:
        raise DataError(f"cannot be read ({exc.strerror})", path=path) from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            cells = line.split("\t") if "\t" in line else line.split()
            rows.append((number, [cell.strip() for cell in cells]))
    return rows


def _columns(path: Path, header, rows, width: int) -> tuple[int, int, int]:
    """Which columns hold the query id, document id and grade."""
    if header is not None:
        names = [_HEADER_NAMES.get(cell.lower()) for cell in header[1]]
        if all(role in names for role in ("query", "doc", "score")):
            return names.index("query"), names.index("doc"), names.index("score")
        if width == 3:
            return 0, 1, 2
        raise DataError(f"cannot tell which columns are the query id, document id and score from the header "
                        f"{' '.join(header[1])!r}", path=path, line=header[0],
                        hint=f"name them {QUERY_ID_KEYS[0]}, {CORPUS_ID_KEYS[0]}, score")
    if width == 3:
        return 0, 1, 2
    if width == 4 and len(rows) > 1:
        second = {cells[1] for _, cells in rows if len(cells) == 4}
        if len(second) == 1 and all(_is_number(cells[3]) for _, cells in rows if len(cells) == 4):
            return 0, 2, 3  # TREC: qid iteration docid relevance
        if len(second) > 1 and all(_is_number(cells[2]) for _, cells in rows if len(cells) == 4):
            return 0, 1, 2  # qid docid score, then an extra column (annotator, ...)
    raise DataError(f"{width} columns without a header: cannot tell which are the query id, document id and "
                    f"score", path=path, line=rows[0][0],
                    hint=f"add a header line naming them ({QUERY_ID_KEYS[0]}, {CORPUS_ID_KEYS[0]}, score); "
                         f"read without one: {_HEADERLESS}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _qrels_rows_table(path: Path):
    for file, line, record in read_records(path):
        qid = id_field(record, QUERY_ID_KEYS, path=file, line=line)
        did = id_field(record, CORPUS_ID_KEYS, path=file, line=line)
        if "score" not in record:
            raise DataError("missing", path=file, line=line, field="score")
        yield file, line, qid, did, record["score"]


def parse_grade(raw: object, file: Path, line: int) -> int:
    """A relevance grade: a whole number from 0 (judged not relevant) to MAX_GRADE."""
    try:
        value = float(raw) if not isinstance(raw, bool) else float("nan")  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"score {raw!r} is not a number", path=file, line=line, field="score") from None
    if not math.isfinite(value) or value != int(value) or not 0 <= value <= MAX_GRADE:
        raise DataError(f"score {raw!r} must be a whole number from 0 to {MAX_GRADE} (0 = judged not relevant)",
                        path=file, line=line, field="score")
    return int(value)
