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


def test_a_killed_two_stage_run_resumes_paying_only_what_was_not_saved(tiny_model, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import write_beir
    from tests.models.servers import RerankServer

    corpus = {f"d{i}": f"passage number {i} about topic {i % 7}" for i in range(20)}
    queries = {f"q{i}": f"question {i}: which passage is about topic {i % 7}" for i in range(30)}
    folder = write_beir(tmp_path / "beir", corpus, queries, [(f"q{i}", f"d{i % 20}", 1) for i in range(30)])
    server = RerankServer(latency=0.05)
    try:
        args = ["eval", "-m", str(tiny_model), "--retrieval", str(folder), "--reranker", "rerank:m",
                "--reranker-base-url", server.url, "--reranker-api-key-env", "none", "--rerank-depth", "5,10",
                "--max-inputs", "2", "--concurrency", "1", "-q", "--format", "json"]
        cache = str(tmp_path / "cache.sqlite")
        process = subprocess.Popen([sys.executable, "-m", "embedlab.cli.main", *args, "--cache", cache, "-o",
                                    str(tmp_path / "killed.json")], env={**os.environ, "HF_HUB_OFFLINE": "1"},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while len(server.requests) < 40 and time.time() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        first = [(r["query"], d) for r in server.requests for d in r["documents"]]
        server.requests.clear()
        resumed = run(*args, "--cache", cache, "-o", str(tmp_path / "resumed.json"))
        assert resumed.returncode == 0, resumed.stderr
        second = [(r["query"], d) for r in server.requests for d in r["documents"]]
        assert len(set(first) & set(second)) <= 2  # at most the request in flight when the process died
        assert len(set(first) | set(second)) == 30 * 10 and len(first) >= 40  # requests of 1-2 documents
        runs = json.loads(resumed.stdout)["runs"]
        assert [r["model"]["rerank_depth"] for r in runs[1:]] == [5, 10]
        assert runs[2]["tasks"][0]["counts"]["rerank_pairs"] == 30 * 10
    finally:
        server.close()
