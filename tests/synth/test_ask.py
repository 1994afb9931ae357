"""Asking a chat model (the stub server) for queries: the estimate first, nothing paid twice, unusable answers
asked again once and never turned into queries."""

from __future__ import annotations

import json

import pytest

from embedlab.embedding.cache import EmbeddingCache
from embedlab.errors import EmbedlabError
from embedlab.models import ModelOptions
from embedlab.models.registry import load_chat
from embedlab.run.context import RunContext
from embedlab.run.options import RunOptions
from embedlab.synth.ask import ask_queries, token_limit
from embedlab.synth.prompts import builtin
from tests.models.chat_server import ChatServer, stub_questions

PASSAGES = [f"Tea number {i} is brewed at {70 + i} degrees. It steeps for {i + 1} minutes." for i in range(5)]


@pytest.fixture
def server():
    server = ChatServer()
    yield server
    server.close()


def prompts(n=1):
    return [builtin("en", "question").render(p, n) for p in PASSAGES]


def asked(server, cache, said=None, n=1, seed=7, **run):
    model = load_chat("openai-chat:stub", ModelOptions(base_url=server.url, api_key_env="none"), temperature=0.7)
    lines = said if said is not None else []
    try:
        with RunContext(RunOptions(cache=cache, announce=lambda line: lines.append((line, len(server.requests))),
                                   **run)) as ctx:
            return ask_queries(model, prompts(n), n, seed=seed, ctx=ctx)
    finally:
        model.close()


def test_the_estimate_comes_first_and_nothing_is_paid_twice(server, tmp_path):
    said = []
    first = asked(server, tmp_path / "c.sqlite", said, n=2)
    (line, requests_then), = said
    assert requests_then == 0 and line.startswith("estimate: openai-chat:stub: 5 passages to ask (0 cached), 5 requests")
    assert first.queries == {p: stub_questions(p) for p in prompts(2)} and not first.failed
    assert first.counts["asked"] == 5 and first.counts["prompt_tokens"] > 0
    assert [r["seed"] for r in server.requests] == [7] * 5
    assert all(r["max_tokens"] == token_limit(2) for r in server.requests)
    said.clear()
    again = asked(server, tmp_path / "c.sqlite", said, n=2)
    assert len(server.requests) == 5 and again.queries == first.queries and again.counts["from_cache"] == 5
    assert said[0][0].startswith("estimate: openai-chat:stub: 0 passages to ask (5 cached), 0 requests")
    asked(server, tmp_path / "c.sqlite", n=2, seed=8)  # another seed is another answer
    assert len(server.requests) == 10


def test_a_run_that_stopped_asks_only_what_is_missing(server, tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    model = load_chat("openai-chat:stub", ModelOptions(base_url=server.url, api_key_env="none"), temperature=0.7)
    key = f"{model.cache_key()}|seed=7|max_tokens={token_limit(1)}"
    done = prompts()[:2]  # what a killed run had committed
    cache.put_generations(key, done, [{"text": json.dumps({"queries": ["q"]}), "attempts": 1}] * 2)
    cache.close()
    found = asked(server, tmp_path / "c.sqlite")
    assert sorted(r["messages"][0]["content"] for r in server.requests) == sorted(prompts()[2:])  # in flight: any order
    assert found.counts["from_cache"] == 2 and found.queries[done[0]] == ["q"]


def test_an_unusable_answer_is_asked_again_once_with_the_next_seed_then_given_up(server, tmp_path):
    server.faults = [("text", "Sure! Who brews tea?"), ("empty",), ("length",)]  # the first three, in order
    server.every = []
    found = asked(server, tmp_path / "c.sqlite")
    assert len(server.requests) == 8 and [r["seed"] for r in server.requests[5:]] == [8, 8, 8]
    assert not found.failed and len(found.queries) == 5 and found.counts["asked_again"] == 3
    server.every = [(1, ("text", "no JSON here"))]  # every request from now on
    bad = asked(server, tmp_path / "other.sqlite")
    assert not bad.queries and set(bad.failed.values()) == {"not JSON"} and len(server.requests) == 8 + 10
    assert bad.as_dict()["unusable_by_reason"] == {"not JSON": 5}
    asked(server, tmp_path / "other.sqlite")  # given up for good: asked again 0 times
    assert len(server.requests) == 18


def test_a_first_answer_cached_unusable_is_asked_its_second_time_only(server, tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    model = load_chat("openai-chat:stub", ModelOptions(base_url=server.url, api_key_env="none"), temperature=0.7)
    key = f"{model.cache_key()}|seed=7|max_tokens={token_limit(1)}"
    cache.put_generations(key, prompts(), [{"text": "oops", "attempts": 1, "prompt_tokens": 3}] * 5)
    cache.close()
    found = asked(server, tmp_path / "c.sqlite")
    assert len(server.requests) == 5 and {r["seed"] for r in server.requests} == {8}
    assert len(found.queries) == 5 and found.counts["prompt_tokens"] > 15  # both attempts' tokens


def test_max_cost_refuses_before_any_request(server, tmp_path):
    with pytest.raises(EmbedlabError, match="not within --max-cost 1e-06; nothing was sent"):
        asked(server, tmp_path / "c.sqlite", price_per_mtok=5.0, max_cost=1e-6)
    with pytest.raises(EmbedlabError, match="unknown cost"):
        asked(server, tmp_path / "c.sqlite", max_cost=10.0)
    assert server.requests == []
