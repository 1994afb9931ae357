"""`embedlab mine` in a subprocess, as a user runs it (tiny random BERT as the model)."""

from __future__ import annotations

import json

from embedlab.demo import RERANKING
from tests.cli.test_main import run
from tests.conftest import write_jsonl


def test_mine_writes_rows_and_a_report(tmp_path, tiny_model):
    out = tmp_path / "mined.jsonl"
    result = run("mine", str(RERANKING), "-m", str(tiny_model), "-o", str(out), "-n", "3",
                 "--range-min", "1", "--format", "reranking", "--with-scores", "-q")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    source = [json.loads(line) for line in RERANKING.read_text(encoding="utf-8").splitlines()]
    with_positive = [r for r in source if r["positive"]]
    assert [r["_id"] for r in rows] == [r["_id"] for r in with_positive]
    assert all(len(r["negative"]) == len(r["neg_scores"]) <= 3 for r in rows)
    assert all(not set(r["negative"]) & set(r["positive"]) for r in rows)
    report = json.loads(out.with_suffix(".report.json").read_text())
    assert report["rows"] == len(with_positive) and report["config"]["range_min"] == 1
    assert report["negatives_written"] == sum(len(r["negative"]) for r in rows)
    assert "note: skipped 1 rows: no positive" in result.stderr
    assert f"{report['candidates']:,}" in result.stdout and "dropped as likely false negative" in result.stdout


def test_mine_bad_input_is_one_line_and_exit_2(tmp_path, tiny_model):
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"query": "q", "pos": ["p", ""], "neg": []}])
    result = run("mine", str(bad), "-m", str(tiny_model), "-o", str(tmp_path / "o.jsonl"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {bad}:1: field 'positive': empty passage (remove empty strings from the list (embedlab inspect --fix does it))")
    same = run("mine", str(bad), "-m", str(tiny_model), "-o", str(bad))
    assert same.returncode == 2 and "must not be the input file" in same.stderr
