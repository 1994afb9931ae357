"""`embedlab estimate`: what an eval would send and cost, nothing sent; with --max-cost, exit 2 where eval would
refuse to start."""

from __future__ import annotations

import json

from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.demo import RERANKING
from tests.models.servers import FaultServer


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_estimate_counts_what_eval_would_send_and_sends_nothing(tmp_path):
    server = FaultServer()
    try:
        shown = invoke("estimate", "-m", "openai:m", "--base-url", server.url, "--api-key-env", "none", "--reranking",
                       RERANKING, "--cache", tmp_path / "c.sqlite", "--price-per-mtok", "2", "--format", "json")
        assert shown.exit_code == 0, shown.output
        (row,) = json.loads(shown.stdout)
        assert row["model"] == "openai:m" and row["to_embed"] == row["unique_texts"] > 0 and row["cached"] == 0
        assert row["token_count"] == "estimated from characters" and row["cost"] == row["tokens"] / 1e6 * 2
        refused = invoke("estimate", "-m", "openai:m", "--base-url", server.url, "--api-key-env", "none",
                         "--reranking", RERANKING, "--no-cache", "--price-per-mtok", "2", "--max-cost", "1e-9")
        assert refused.exit_code == 2 and "is not within --max-cost 1e-09; nothing was sent" in refused.stderr
        assert "openai:m" in refused.stdout  # the table is shown first
        assert server.requests == []
    finally:
        server.close()


def test_a_local_model_is_never_refused_by_max_cost():
    shown = invoke("estimate", "--demo", "-m", "bm25", "--max-cost", "0", "--format", "json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)[0]["currency"] == "(local)"
