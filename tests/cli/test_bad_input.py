"""Every reading command, fed a corpus of bad files generated here: exit 2, one line naming the file, no
traceback, and no file changed or created. The model named is never reached (`/no/such/model`): data is
validated before any model loads."""

from __future__ import annotations

import functools
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
    # issue 24, item 20: RecursionError tracebacks in eval, inspect, split, convert, estimate
    "deeply_nested": lambda d: _write(d / "rows.jsonl", _jsonl(GOOD, '{"query": "q", "positive": ["p"], "x": '
                                                                     + "[" * 100_000 + "]" * 100_000 + "}")),
    "nested_beyond_what_a_writer_writes": lambda d: _write(d / "rows.jsonl", _jsonl(
        GOOD, '{"_id": "b", "query": "q", "positive": ["p"], "negative": ["n"], "x": ' + "[" * 900 + "]" * 900 + "}")),
}
RETRIEVAL = {
    **{f"grade_{name}": (lambda grade: lambda d: _beir(d / "beir", f"q1\td1\t{grade}\n".encode()))(grade)
       for name, grade in (("nan", "nan"), ("inf", "inf"), ("1e400", "1e400"), ("huge", "99999999999999999999"),
                           ("negative", "-1"), ("fraction", "0.5"))},
    "qrels_a_directory": lambda d: _qrels_dir(d),
    "qrels_ambiguous_4_columns": lambda d: _beir(d / "beir", b"q1\td1\tx\ty\nq2\td2\tz\tw\n"),
    "missing_queries": lambda d: _beir(d / "beir", queries=False),
    "all_grades_zero": lambda d: _beir(d / "beir", b"query-id\tcorpus-id\tscore\nq1\td1\t0\n"),
    "corpus_deeply_nested": lambda d: _deep_corpus(d),
}
RESULTS = {
    "truncated": lambda d: _write(d / "r.json", b'{"runs": [{"model": '),
    "foreign": lambda d: _write(d / "r.json", b'{"hello": "world"}'),
    "a_list": lambda d: _write(d / "r.json", b"[]"),
    "null": lambda d: _write(d / "r.json", b"null"),
    "damaged": lambda d: _write(d / "r.json", b'{"runs": [{"model": {"name": "m"}}]}'),
    # issue 24, items 10 and 20: tracebacks in compare, report, leaderboard, export-mteb; an edited score taken
    **{name: (lambda where, value: lambda d: _edited(d, where, value))(where, value) for name, where, value in (
        ("per_query_a_string", ("tasks", 1, "per_query", "ndcg@10"), "0.5"),
        ("per_query_short", ("tasks", 1, "per_query", "ndcg@10"), [0.5]),
        ("scores_null", ("tasks", 1, "scores"), None),
        ("kind_unknown", ("kind",), "ensemble"),
        ("main_score_edited_to_42", ("tasks", 0, "scores", "v1.map"), 42),
        ("score_nan", ("tasks", 1, "scores", "ndcg@10"), float("nan")),
        ("score_1e400", ("tasks", 1, "per_query", "ndcg@10", 0), float("inf")),
        ("mean_edited_in_range", ("tasks", 1, "scores", "ndcg@10"), 0.999),
        ("sample_a_string", ("tasks", 0, "sample"), "all"),
        ("deeply_nested", ("embedding",), "DEEP"),
    )},
}


@functools.lru_cache(maxsize=1)
def _results_text() -> str:
    from embedlab import evaluate
    from embedlab.demo import RERANKING, RETRIEVAL
    from tests.conftest import FakeEncoder

    other = FakeEncoder("query: ")
    other.name = "other"
    return evaluate([FakeEncoder(), other], [RERANKING, RETRIEVAL]).to_json()


def _edited(d: Path, where: tuple, value) -> Path:
    """A results file written by embedlab with the first run's value at `where` replaced."""
    data = json.loads(_results_text())
    node = data["runs"][0]
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    text = json.dumps(data).replace('"DEEP"', "[" * 5000 + "]" * 5000)
    return _write(d / "r.json", text.encode())


def _deep_corpus(d: Path) -> Path:
    folder = _beir(d / "beir")
    (folder / "corpus.jsonl").write_text('{"_id": "d1", "text": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    return folder

RUNS = {  # TREC run files given as a model (`-m run:FILE`): refused before any model loads
    "five_columns": b"q1 Q0 d1 1 0.5\n",
    "score_nan": b"q1 Q0 d1 1 nan t\n",
    "score_1e400": b"q1 Q0 d1 1 1e400 t\n",
    "score_a_word": b"q1 Q0 d1 1 high t\n",
    "ranked_twice": b"q1 Q0 d1 1 0.5 t\nq1 Q0 d1 2 0.4 t\n",
    "not_utf8": b"q1 Q0 caf\xe9 1 0.5 t\n",
    "columns_change": b"q1 Q0 d1 1 0.5 t\nq1 d2 0.4\n",
    "empty": b"",
    "a_folder": None,
}


def _run_file(d: Path, content: bytes | None) -> Path:
    _beir(d / "beir")
    if content is None:
        (d / "run.trec").mkdir(parents=True)
        return d / "run.trec"
    return _write(d / "run.trec", content)


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
    "export-mteb": lambda p, o: ["export-mteb", str(p), "-o", str(o / "mteb")],
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


@pytest.mark.parametrize("bad", sorted(RESULTS))
def test_leaderboard_skips_a_bad_results_file_and_says_so(tmp_path, bad):
    RESULTS[bad](tmp_path / "in")
    result = CliRunner().invoke(cli, ["leaderboard", str(tmp_path / "in"), "--format", "json"])
    assert result.exit_code == 0 and "Traceback" not in result.output, (result.output, result.exception)
    assert json.loads(result.stdout)["rows"] == [] and "note: skipped" in result.stderr


@pytest.mark.parametrize("bad", sorted(RUNS))
def test_bad_run_files(tmp_path, bad):
    def command(path, out):
        return ["eval", "-m", f"run:{path}", "-m", "/no/such/model", "--retrieval", str(tmp_path / "in" / "beir"),
                "-o", str(out / "out.json"), "-q"]

    _check(tmp_path, lambda d: _run_file(d, RUNS[bad]), command)


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
