"""Every reading command, fed a corpus of bad files generated here: exit 2, one line naming the file, no
traceback, and no file changed or created. The model named is never reached (`/no/such/model`): data is
validated before any model loads."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli

GOOD = {"_id": "a", "query": "q", "positive": ["p"], "negative": ["n"]}


def _jsonl(*rows) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


def _beir(folder: Path, qrels: bytes | None = b"query-id\tcorpus-id\tscore\nq1\td1\t1\n", *, queries=True):
    folder.mkdir(parents=True)
    (folder / "corpus.jsonl").write_bytes(_jsonl({"_id": "d1", "text": "tea"}))
    if queries:
        (folder / "queries.jsonl").write_bytes(_jsonl({"_id": "q1", "text": "tea?"}))
    if qrels is not None:
        (folder / "qrels.tsv").write_bytes(qrels)
    return folder


# name -> how to make the bad data under a folder; returns the path to give
ROWS = {
    "malformed_json": lambda d: _write(d / "rows.jsonl", _jsonl(GOOD, '{"query": ')),
    "not_utf8": lambda d: _write(d / "rows.jsonl", _jsonl(GOOD) + b'{"query": "\xff\xfe"}\n'),
    "lone_surrogate": lambda d: _write(d / "rows.jsonl", _jsonl(GOOD, '{"query": "q\\ud800", "positive": ["p"], '
                                                                      '"negative": ["n"]}')),
    "positive_not_a_list": lambda d: _write(d / "rows.jsonl", _jsonl({"query": "q", "positive": "p", "negative": []})),
    "not_an_object": lambda d: _write(d / "rows.jsonl", _jsonl("[1, 2]")),
    "duplicate_id": lambda d: _write(d / "rows.jsonl", _jsonl(GOOD, GOOD)),
    "not_parquet": lambda d: _write(d / "rows.parquet", b"this is no parquet"),
    "truncated_parquet": lambda d: _write(d / "rows.parquet", b"PAR1\x15\x00\x15"),
    "empty": lambda d: _write(d / "rows.jsonl", b""),
}
RETRIEVAL = {
    **{f"grade_{name}": (lambda grade: lambda d: _beir(d / "beir", f"q1\td1\t{grade}\n".encode()))(grade)
       for name, grade in (("nan", "nan"), ("inf", "inf"), ("1e400", "1e400"), ("huge", "99999999999999999999"),
                           ("negative", "-1"), ("fraction", "0.5"))},
    "qrels_a_directory": lambda d: _qrels_dir(d),
    "qrels_ambiguous_4_columns": lambda d: _beir(d / "beir", b"q1\td1\tx\ty\nq2\td2\tz\tw\n"),
    "missing_queries": lambda d: _beir(d / "beir", queries=False),
    "all_grades_zero": lambda d: _beir(d / "beir", b"query-id\tcorpus-id\tscore\nq1\td1\t0\n"),
}
RESULTS = {
    "truncated": lambda d: _write(d / "r.json", b'{"runs": [{"model": '),
    "foreign": lambda d: _write(d / "r.json", b'{"hello": "world"}'),
    "a_list": lambda d: _write(d / "r.json", b"[]"),
    "null": lambda d: _write(d / "r.json", b"null"),
    "damaged": lambda d: _write(d / "r.json", b'{"runs": [{"model": {"name": "m"}}]}'),
}


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _qrels_dir(d: Path) -> Path:
    folder = _beir(d / "beir", None)
    (folder / "qrels.tsv").mkdir()
    return folder


M = ["-m", "/no/such/model"]
ROW_COMMANDS = {
    "eval": lambda p, o: ["eval", *M, "--reranking", str(p), "-o", str(o / "out.json"), "-q"],
    "estimate": lambda p, o: ["estimate", *M, "--reranking", str(p)],
    "inspect": lambda p, o: ["inspect", str(p)],
    "inspect --fix": lambda p, o: ["inspect", str(p), "--fix", "-o", str(o / "clean.jsonl")],
    "convert": lambda p, o: ["convert", str(p), "-o", str(o / "out.jsonl"), "--to", "flag"],
    "split": lambda p, o: ["split", str(p), "-o", str(o / "split")],
    "mine": lambda p, o: ["mine", str(p), *M, "-o", str(o / "mined.jsonl"), "-q"],
    "finetune": lambda p, o: ["finetune", *M, "--train", str(p), "--test", str(p), "-o", str(o / "run"), "-q"],
}
RETRIEVAL_COMMANDS = {
    "eval": lambda p, o: ["eval", *M, "--retrieval", str(p), "-o", str(o / "out.json"), "-q"],
    "estimate": lambda p, o: ["estimate", *M, "--retrieval", str(p)],
    "inspect --fix": lambda p, o: ["inspect", str(p), "--fix", "-o", str(o / "clean")],
    "convert": lambda p, o: ["convert", str(p), "-o", str(o / "rows.jsonl")],
    "mine": lambda p, o: ["mine", str(p), *M, "-o", str(o / "mined.jsonl"), "-q"],
}
RESULTS_COMMANDS = {
    "compare": lambda p, o: ["compare", str(p)],
    "report": lambda p, o: ["report", str(p), "-o", str(o / "report.html")],
}


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in root.rglob("*")}


def _check(tmp_path: Path, make, command) -> None:
    data = make(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    before = _snapshot(tmp_path)
    result = CliRunner().invoke(cli, command(data, out), env={**os.environ, "HF_HUB_OFFLINE": "1"})
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.exception)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output and "/no/such/model" not in lines[0]  # the data, not the model
    assert str(tmp_path / "in") in lines[0]  # names the file (or folder) at fault
    assert _snapshot(tmp_path) == before  # nothing changed, nothing created


@pytest.mark.parametrize("command", sorted(ROW_COMMANDS))
@pytest.mark.parametrize("bad", sorted(ROWS))
def test_bad_rows(tmp_path, bad, command):
    if bad == "duplicate_id" and command.startswith("inspect"):
        pytest.skip("a repeated id is an error finding for inspect, and --fix removes the repeat")
    if bad == "empty" and command.startswith("inspect"):
        pytest.skip("inspect reports an empty file as such")
    _check(tmp_path, ROWS[bad], ROW_COMMANDS[command])


@pytest.mark.parametrize("command", sorted(RETRIEVAL_COMMANDS))
@pytest.mark.parametrize("bad", sorted(RETRIEVAL))
def test_bad_retrieval_folders(tmp_path, bad, command):
    if command == "inspect --fix" and bad in ("all_grades_zero",):
        pytest.skip("grade 0 everywhere is a finding for inspect, not unreadable data")
    _check(tmp_path, RETRIEVAL[bad], RETRIEVAL_COMMANDS[command])


@pytest.mark.parametrize("command", sorted(RESULTS_COMMANDS))
@pytest.mark.parametrize("bad", sorted(RESULTS))
def test_bad_results_files(tmp_path, bad, command):
    _check(tmp_path, RESULTS[bad], RESULTS_COMMANDS[command])


@pytest.mark.parametrize("damage", [b"\x00garbage" * 500, b"SQLite format 3\x00" + b"\x01" * 100])
def test_an_unusable_cache_is_one_line_naming_it(tmp_path, damage):
    rows = _write(tmp_path / "in" / "rows.jsonl", _jsonl(GOOD))
    cache = _write(tmp_path / "in" / "cache.sqlite", damage)
    before = _snapshot(tmp_path)
    result = CliRunner().invoke(cli, ["estimate", "-m", "openai:m", "--base-url", "http://127.0.0.1:9/v1",
                                      "--api-key-env", "none", "--reranking", str(rows), "--cache", str(cache)])
    assert result.exit_code == 2 and result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert f"the embedding cache at {cache}" in result.stderr and "--no-cache" in result.stderr
    assert _snapshot(tmp_path) == before
