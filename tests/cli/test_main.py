"""The CLI as a user runs it, in a subprocess: real model, bundled demo data."""

from __future__ import annotations

import json
import os
import subprocess
import sys


from tests.conftest import write_jsonl


def run(*args, cwd=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "embedlab.cli.main", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


def test_help_is_fast_and_does_not_import_torch():
    code = ("import sys; from embedlab.cli.main import cli\n"
            "try:\n    cli(['eval', '--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'torch' not in sys.modules and 'numpy' not in sys.modules, 'heavy import'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "--reranking" in result.stdout and "--demo" in result.stdout


def test_demo_run_writes_results_and_prints_both_reranking_semantics(tmp_path):
    result = run("eval", "--demo", "--format", "json", "-o", str(tmp_path / "demo.json"), "-q")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    saved = json.loads((tmp_path / "demo.json").read_text())
    assert printed["runs"][0]["tasks"] == saved["runs"][0]["tasks"]
    rerank, retrieval = saved["runs"][0]["tasks"]
    assert rerank["counts"]["rows_skipped"] == 3 and retrieval["counts"]["queries_skipped"] == 2
    assert 0.3 < rerank["scores"]["v1.map"] <= 1 and 0.3 < retrieval["scores"]["ndcg@10"] <= 1
    assert "skipped" in result.stderr and "results written to" in result.stderr
    table = run("eval", "--demo", "-o", str(tmp_path / "t.json"), "-q", "--metric", "NDCG@10", "--metric", "v1.map")
    assert table.returncode == 0 and "MAP (C-MTEB v1)" in table.stdout and "ndcg@10" in table.stdout
    assert "recall@100" not in table.stdout
    estimated = run("estimate", "--demo", "--format", "json")
    assert estimated.returncode == 0, estimated.stderr
    row = json.loads(estimated.stdout)[0]
    assert row["unique_texts"] == row["to_embed"] == saved["runs"][0]["embedding"]["texts_encoded"]
    assert row["token_count"] == "tokenizer" and row["cost"] == 0.0 and row["requests"] == 0


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "q", "positive": ["p"], "negative": ["n"]}\n{"query": \n')
    result = run("eval", "--model", "unused", "--reranking", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {bad}:2: malformed JSON: Expecting value at character 11 " \
                                    "(each line must hold one JSON object)"
    unknown = run("eval", "--model", "nope:x", "--reranking", str(write_jsonl(tmp_path / "ok.jsonl", [
        {"query": "q", "positive": ["p"], "negative": ["n"]}])))
    assert unknown.returncode == 2 and "unknown model backend 'nope'" in unknown.stderr
    usage = run("eval", "--demo", "--metric", "ndgc@10")
    assert usage.returncode == 2 and "did you mean 'ndcg'" in usage.stderr


def test_api_model_from_the_command_line_then_cache_stats_and_clear(tmp_path):
    from tests.models.servers import FaultServer

    server = FaultServer()
    try:
        data = write_jsonl(tmp_path / "r.jsonl", [{"query": "q", "positive": ["p"], "negative": ["n", "m"]}])
        cache = tmp_path / "cache.sqlite"
        args = ("eval", "-m", "openai:m", "--base-url", server.url, "--api-key-env", "NO_SUCH_KEY_VAR",
                "--reranking", str(data), "--cache", str(cache), "--format", "json", "-q",
                "-o", str(tmp_path / "out.json"))
        first = run(*args)
        assert first.returncode == 0, first.stderr
        assert [r["input"] for r in server.requests] == [["q"], ["p", "n", "m"]]  # one request per kind
        assert "note: openai:m: 2 requests (0 retried), 4 tokens billed, 0 texts from the cache" in first.stderr
        assert "estimate: openai:m: 4 texts to embed (0 cached), 2 requests" in first.stderr
        requests_after_first = len(server.requests)
        second = run(*args)
        assert second.returncode == 0 and len(server.requests) == requests_after_first
        assert json.loads(second.stdout)["runs"][0]["embedding"]["cache_hits"] == 4
        refused = run("eval", "-m", "openai:m", "--base-url", server.url, "--reranking", str(data),
                      "--cache", str(tmp_path / "empty.sqlite"), "--max-cost", "0.01")  # price unknown
        assert refused.returncode == 2 and "nothing was sent" in refused.stderr
        assert len(server.requests) == requests_after_first
        stats = run("cache", "stats", "--cache", str(cache))
        assert "openai|" in stats.stdout and "vectors" in stats.stdout
        cleared = run("cache", "clear", "--cache", str(cache), "--yes")
        assert cleared.returncode == 0 and "removed 4 vectors" in cleared.stderr
        absent = tmp_path / "never-made.sqlite"
        looked = run("cache", "stats", "--cache", str(absent))
        assert looked.returncode == 0 and "no cache yet" in looked.stderr and not absent.exists()
    finally:
        server.close()


def test_kill_and_resume_pays_only_for_what_was_not_saved(tmp_path):
    import signal
    import time

    from tests.models.servers import FaultServer

    rows = [{"query": f"question {i}", "positive": [f"answer {i}"], "negative": [f"other {i}", f"noise {i}"]}
            for i in range(30)]
    data = write_jsonl(tmp_path / "r.jsonl", rows)
    server = FaultServer(latency=0.05)
    try:
        args = ["eval", "-m", "openai:m", "--base-url", server.url, "--api-key-env", "NO_SUCH_KEY_VAR",
                "--reranking", str(data), "--max-inputs", "2", "--concurrency", "1", "-q", "--format", "json"]
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        cache = str(tmp_path / "cache.sqlite")
        process = subprocess.Popen([sys.executable, "-m", "embedlab.cli.main", *args, "--cache", cache,
                                    "-o", str(tmp_path / "killed.json")], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while len(server.requests) < 20 and time.time() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert not (tmp_path / "killed.json").exists()
        first = [t for r in server.requests for t in r["input"]]
        server.requests.clear()
        resumed = run(*args, "--cache", cache, "-o", str(tmp_path / "resumed.json"))
        assert resumed.returncode == 0, resumed.stderr
        second = [t for r in server.requests for t in r["input"]]
        paid_twice = set(first) & set(second)
        assert len(paid_twice) <= 2  # at most the one batch in flight when the process died
        assert len(set(first) | set(second)) == 30 + 90
        server.requests.clear()
        fresh = run(*args, "--cache", str(tmp_path / "fresh.sqlite"), "-o", str(tmp_path / "fresh.json"))
        uninterrupted = json.loads(fresh.stdout)["runs"][0]["tasks"][0]
        assert json.loads(resumed.stdout)["runs"][0]["tasks"][0]["per_query"] == uninterrupted["per_query"]
    finally:
        server.close()
