"""`embedlab cache stats | clear` after an API model's run, as a user runs them."""

from __future__ import annotations

import json

from tests.cli.test_main import run
from tests.conftest import write_jsonl


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


def test_cache_stats_as_json(tmp_path):
    from click.testing import CliRunner

    from embedlab.cli.main import cli
    from embedlab.embedding.cache import EmbeddingCache

    EmbeddingCache(tmp_path / "c.sqlite").close()
    shown = CliRunner().invoke(cli, ["cache", "stats", "--cache", str(tmp_path / "c.sqlite"), "--format", "json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout) == {"path": str(tmp_path / "c.sqlite"), "models": []}
