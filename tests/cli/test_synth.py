"""`embedlab synth` as a user runs it: a set every command reads, an LLM generator served by the stub chat server
(the estimate first, nothing paid twice, a killed run resumed paying only what is missing), bad input in one line
with nothing written, and `--validate`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.embedding.cache import EmbeddingCache
from tests.cli.test_bad_input import _snapshot
from tests.conftest import write_jsonl
from tests.models.chat_server import ChatServer

TEXTS = ["Green tea is brewed at eighty degrees. It steeps for two minutes. Milk is never added to it.",
         "Black tea needs boiling water. It steeps for four minutes. Many people add milk and sugar.",
         "Patch the inner tube of a flat tyre. Find the hole with soapy water. Let the glue dry first.",
         "A cactus needs very little water. Water it every few weeks in summer. Never in the winter months.",
         "Oil the bicycle chain every month. Wipe off the old grease first. Use a light oil for chains.",
         "Ferns like humid air and shade. Mist the leaves in the morning. Keep them out of the sun."]


@pytest.fixture
def corpus(tmp_path):
    """12 passages (the texts twice, each with a sentence of its own)."""
    return write_jsonl(tmp_path / "in" / "corpus.jsonl",
                       [{"_id": f"p{i}", "text": f"{t} Note {i}."} for i, t in enumerate(TEXTS * 2)])


@pytest.fixture
def server():
    server = ChatServer()
    yield server
    server.close()


def invoke(*args):
    return CliRunner().invoke(cli, ["synth", *map(str, args)], env={**os.environ, "HF_HUB_OFFLINE": "1"})


def llm(server, corpus, out, *extra):
    return invoke(corpus, "-o", out, "--generator", "openai-chat:stub", "--generator-base-url", server.url,
                  "--api-key-env", "none", "--filters", "length,language,duplicates", "-m", "bm25", "-q", *extra)


def test_an_ict_set_that_eval_reads(corpus, tmp_path):
    out = tmp_path / "synth"
    result = invoke(corpus, "-o", out, "--filters", "length,duplicates,round-trip", "-m", "bm25", "--seed", "3", "-q")
    assert result.exit_code == 0, result.output
    provenance = json.loads((out / "synth.json").read_text())
    removed = {step["filter"]: step["removed"] for step in provenance["filters"]["steps"]}
    assert removed["duplicates"] == 2  # the texts come twice: the same sentence is drawn twice
    written = 12 - sum(removed.values())
    assert result.stdout.startswith(f"{written} queries written to {out} (12 drafted by ict for 12 of 12 passages, "
                                    "seed 3)")
    assert "round-trip  yes" in result.stdout and "found by bm25 " in result.stdout
    assert "copied from the document (too-easy share): mean" in result.stdout
    evaluated = CliRunner().invoke(cli, ["eval", "-m", "bm25", "--retrieval", str(out), "-o", str(tmp_path / "r.json"),
                                         "-q", "--format", "json"])
    assert evaluated.exit_code == 0
    assert json.loads(evaluated.stdout)["runs"][0]["tasks"][0]["counts"]["queries"] == written


def test_the_stub_llm_run_estimates_first_caches_everything_and_handles_each_fault(server, corpus, tmp_path):
    server.faults = [("status", 429, {"Retry-After": "0"}, {"error": "slow"}), ("status", 502, {}, {}),
                     ("truncated",), ("text", "Sure! Who brews tea?"), ("empty",)]
    cache = tmp_path / "c.sqlite"
    result = llm(server, corpus, tmp_path / "a", "--cache", cache, "--per-passage", "2")
    assert result.exit_code == 0, result.output
    (estimate,) = [line for line in result.stderr.splitlines() if line.startswith("estimate:")]
    assert estimate.startswith("estimate: openai-chat:stub: 12 passages to ask (0 cached), 12 requests, ~")
    assert len(server.requests) == 12 + 3 + 2  # three transport faults retried, two unusable answers asked again
    assert "asked 12 prompts (2 again after an unusable answer), 0 answers from the cache" in result.stdout
    provenance = json.loads((tmp_path / "a" / "synth.json").read_text())
    assert provenance["generator"]["model"]["usage"]["retries"] == 3 and provenance["drafts"] == 24
    again = llm(server, corpus, tmp_path / "b", "--cache", cache, "--per-passage", "2")
    assert again.exit_code == 0 and len(server.requests) == 17  # a re-run: 0 requests
    assert "estimate: openai-chat:stub: 0 passages to ask (12 cached), 0 requests" in again.stderr
    assert (tmp_path / "a" / "queries.jsonl").read_text() == (tmp_path / "b" / "queries.jsonl").read_text()


def test_a_killed_run_is_resumed_paying_only_the_missing_passages(corpus, tmp_path):
    server = ChatServer(latency=0.4)
    cache, out = tmp_path / "c.sqlite", tmp_path / "synth"
    command = [sys.executable, "-m", "embedlab.cli.main", "synth", str(corpus), "-o", str(out), "--generator",
               "openai-chat:stub", "--generator-base-url", server.url, "--api-key-env", "none", "--concurrency", "2",
               "--filters", "none", "--cache", str(cache), "-q"]
    try:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
        deadline = time.monotonic() + 60
        while server.answered < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL and not out.exists()  # nothing under the final name
        kept = EmbeddingCache(cache)
        paid = sum(row.get("generations", 0) for row in kept.stats())
        kept.close()
        assert 3 <= paid < 12  # (the last answers composed may not have reached the client when it was killed)
        before = len(server.requests)
        finished = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        assert finished.returncode == 0, finished.stderr
        assert len(server.requests) - before == 12 - paid  # only the passages without an answer were asked
        assert f"{12 - paid} passages to ask ({paid} cached)" in finished.stderr
    finally:
        server.close()


def _one_line(result, *expected):
    # the cost estimate of a chat model is said before its first request, which is how a server shows what it is
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("estimate: ")]
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert all(text in lines[0] for text in expected), lines[0]
    assert "Traceback" not in result.output


def test_bad_input_is_one_line_and_nothing_is_written(server, tmp_path):
    root = tmp_path / "in"
    empty = write_jsonl(root / "empty.jsonl", [{"_id": "a", "text": "tea"}, {"_id": "b", "text": " "}])
    twice = write_jsonl(root / "twice.jsonl", [{"_id": "a", "text": "tea"}, {"_id": "a", "text": "coffee"}])
    prompt = root / "prompt.txt"
    prompt.write_text("Write questions about the text.", encoding="utf-8")
    good = write_jsonl(root / "good.jsonl", [{"_id": f"p{i}", "text": t} for i, t in enumerate(TEXTS)])
    before = _snapshot(tmp_path)
    out = tmp_path / "out"
    _one_line(invoke(empty, "-o", out, "--filters", "none"), "empty.jsonl:2: field 'text': passage 'b' has no text")
    _one_line(invoke(twice, "-o", out, "--filters", "none"), "twice.jsonl:2: field '_id': passage id 'a' occurs twice")
    _one_line(llm(server, good, out, "--prompt", prompt), "prompt.txt", "no {passage} placeholder")
    not_chat = server.url.replace("/v1", "/v1/embeddings")
    _one_line(invoke(good, "-o", out, "--generator", "openai-chat:stub", "--generator-base-url", not_chat,
                     "--api-key-env", "none", "--filters", "none", "-q"), "is not a chat endpoint (HTTP 404")
    _one_line(invoke(good, "-o", out, "--generator", "ict", "--prompt", prompt), "--prompt applies to a chat model")
    _one_line(invoke(good, "-o", out, "--generator", "gpt-4o"), "unknown generator")
    _one_line(invoke(good, "-o", out, "--filters", "roundtrip"), "unknown filter 'roundtrip'")
    _one_line(invoke(good, "-o", root, "--filters", "none"), "would overwrite or change the input")
    assert _snapshot(tmp_path) == before
    usage = invoke(good, "--filters", "none")
    assert usage.exit_code == 2 and "give DOCS and -o OUTPUT" in usage.output


def test_validate_prints_the_rankings_and_writes_both_results(corpus, tmp_path):
    synthetic = tmp_path / "synth"
    assert invoke(corpus, "-o", synthetic, "--filters", "none").exit_code == 0
    human = tmp_path / "human"
    write_jsonl(human / "corpus.jsonl", [{"_id": f"p{i}", "text": f"{t} Note {i}."} for i, t in enumerate(TEXTS * 2)])
    write_jsonl(human / "queries.jsonl", [{"_id": "h1", "text": "green tea temperature"},
                                          {"_id": "h2", "text": "flat tyre glue"}, {"_id": "h3", "text": "fern sun"}])
    (human / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nh1\tp0\t1\nh2\tp2\t1\nh3\tp5\t1\n")
    out = tmp_path / "validation"
    result = invoke("--validate", synthetic, "--against", human, "-m", "bm25:whitespace", "-m", "bm25:word",
                    "-m", "bm25:char", "-o", out, "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("synthetic synth (ndcg@10, 12 queries) against human human (ndcg@10, 3 queries), "
                                    "3 systems\nKendall tau ")
    assert "pairwise decisions that flip:" in result.stdout and "difficulty, human: mean over systems" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["human.json", "synthetic.json", "validation.json"]
    assert json.loads((out / "validation.json").read_text())["systems"] == ["bm25:whitespace", "bm25:word", "bm25:char"]
    _one_line(invoke("--validate", synthetic, "--against", human, "-m", "bm25", "-m", "bm25:char", "-o", out),
              "already exists")
    refused = invoke("--validate", synthetic, "--against", human, "-m", "bm25", "-m", "bm25:char", "--generator", "ict")
    assert refused.exit_code == 2 and "--generator writes a set" in refused.output
