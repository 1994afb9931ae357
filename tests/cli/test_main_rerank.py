"""`eval --reranker` as a user runs it (subprocess): the stack table, the results, report's stack section,
`estimate`'s reranker row, and bad input as one line with exit 2."""

from __future__ import annotations

import json

from tests.cli.test_main import run


def test_two_stage_eval_report_and_estimate(tiny_cross_encoder, tmp_path):
    out = tmp_path / "stack.json"
    result = run("eval", "--demo", "--reranker", str(tiny_cross_encoder), "--rerank-depth", "5,10", "-o", str(out),
                 "-q", "--batch-size", "64")
    assert result.returncode == 0, result.stderr
    assert "retrieval stacks" in result.stdout and ">> cross-encoder@10" in result.stdout
    names = [r["model"]["name"] for r in json.loads(out.read_text())["runs"]]
    assert names[1].endswith(f" >> {tiny_cross_encoder}@5") and names[3] == str(tiny_cross_encoder)
    report = run("report", str(out), "-o", "-")
    assert report.returncode == 0, report.stderr
    assert "## Retrieval stacks" in report.stdout
    estimate = run("estimate", "--demo", "--reranker", f"ce:{tiny_cross_encoder}", "--rerank-depth", "10")
    assert estimate.returncode == 0, estimate.stderr
    assert "cross-encoder (pairs, at most)" in estimate.stdout


def test_bad_two_stage_input_is_one_line(tiny_model, tmp_path):
    for args, message in [(["--reranker", str(tiny_model), "--rerank-depth", "5"], "is a SentenceTransformer model"),
                          (["--reranker", str(tiny_model), "--rerank-depth", "500"], "larger than the corpus"),
                          (["--reranker", str(tiny_model), "--rerank-depth", "5,x"], "not a list of depths"),
                          (["--rerank-depth", "5"], "--rerank-depth needs a --reranker")]:
        result = run("eval", "--demo", "-q", "-o", str(tmp_path / "r.json"), *args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
