"""What `fix` reports: the log of every change (one JSON line each) and the counts per action."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedlab.data.output import dump_jsonl

ACTIONS = (
    "removed_malformed_row", "removed_row_with_empty_query", "stripped_whitespace", "removed_empty_text",
    "removed_duplicate_passage_in_row", "removed_negative_equal_to_positive", "removed_row_without_positive",
    "removed_duplicate_row",
    # retrieval folders (fix_retrieval)
    "removed_duplicate_id", "removed_duplicate_judgment", "removed_conflicting_judgment",
    "removed_judgment_of_unknown_query", "removed_judgment_of_unknown_document",
    "removed_judgment_of_removed_query", "removed_judgment_of_removed_document",
)
VALUE_CHARS = 200  # of a changed value, in the log


@dataclass
class FixResult:
    out: str
    log: str
    rows_read: int
    rows_written: int
    actions: dict[str, int] = field(default_factory=dict)  # action -> changes made
    unit: str = "rows"  # what rows_read / rows_written count ("records" of a retrieval folder)


@dataclass
class At:
    """Where a change was made: a file and a line (a record's number in a parquet file)."""

    file: Path
    line: int


class ChangeLog:
    """One entry per change, written as JSON lines in file and line order."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.files: dict[str, int] = {}  # file name -> reading order

    def at(self, file: Path, line: int) -> At:
        self.files.setdefault(file.name, len(self.files))
        return At(file, line)

    def add(self, at: At, field_name: str | None, action: str, value: str,
            duplicate_of: At | None = None) -> None:
        entry: dict[str, Any] = {"file": at.file.name, "line": at.line, "field": field_name, "action": action,
                                 "value": value[:VALUE_CHARS]}
        if duplicate_of is not None:
            entry["duplicate_of"] = duplicate_of.line
            if duplicate_of.file != at.file:
                entry["duplicate_of_file"] = duplicate_of.file.name
        self.entries.append(entry)

    def in_file_order(self) -> list[dict[str, Any]]:
        """By file, then line; a line's own fixes before those that compare it with other rows."""
        return sorted(self.entries, key=lambda entry: (self.files[entry["file"]], entry["line"]))

    def counts(self) -> dict[str, int]:
        return {a: n for a in ACTIONS if (n := sum(e["action"] == a for e in self.entries))}

    def write(self, path: Path) -> None:
        """Into `path` as it is: the partial file of the caller's atomic block."""
        dump_jsonl(path, self.in_file_order())


def default_log_path(out: Path) -> Path:
    """clean.jsonl -> clean.changes.jsonl"""
    return out.with_name(f"{out.stem}.changes.jsonl")


def plain_json(value: Any) -> Any:
    """JSON for what parquet / arrow rows may hold: numpy arrays as lists, dates and the like as text."""
    return value.tolist() if hasattr(value, "tolist") else str(value)
