"""quality/changes.py: the change log of `fix`, in file and line order, with counts per action."""

from __future__ import annotations

import json
from pathlib import Path

from embedlab.quality.changes import ACTIONS, VALUE_CHARS, ChangeLog, default_log_path, plain_json


def test_entries_in_file_then_line_order_with_duplicates_and_long_values_cut(tmp_path):
    log = ChangeLog()
    corpus, qrels = Path("/d/corpus.jsonl"), Path("/d/qrels.tsv")
    first = log.at(corpus, 2)
    log.add(log.at(qrels, 3), "score", "removed_duplicate_judgment", "q d 1", duplicate_of=log.at(qrels, 1))
    log.add(log.at(corpus, 5), "_id", "removed_duplicate_id", "x" * 500, duplicate_of=first)
    log.add(first, "text", "stripped_whitespace", " a ")
    log.add(log.at(corpus, 9), "_id", "removed_duplicate_id", "d1", duplicate_of=log.at(Path("/e/corpus2.jsonl"), 1))
    entries = log.in_file_order()
    assert [(e["file"], e["line"]) for e in entries] == [("corpus.jsonl", 2), ("corpus.jsonl", 5),
                                                         ("corpus.jsonl", 9), ("qrels.tsv", 3)]
    assert len(entries[1]["value"]) == VALUE_CHARS and entries[1]["duplicate_of"] == 2
    assert "duplicate_of_file" not in entries[1] and entries[2]["duplicate_of_file"] == "corpus2.jsonl"
    assert log.counts() == {"stripped_whitespace": 1, "removed_duplicate_id": 2, "removed_duplicate_judgment": 1}
    assert list(log.counts()) == [a for a in ACTIONS if a in log.counts()]
    log.write(tmp_path / "log.jsonl")
    assert [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()] == entries


def test_default_log_path_and_plain_json():
    import datetime as dt

    import numpy as np

    assert default_log_path(Path("out/clean.jsonl")) == Path("out/clean.changes.jsonl")
    assert default_log_path(Path("out/clean")) == Path("out/clean.changes.jsonl")
    assert plain_json(np.array([1, 2])) == [1, 2] and plain_json(dt.date(2024, 1, 2)) == "2024-01-02"
