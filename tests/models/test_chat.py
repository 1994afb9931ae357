"""Chat models (`openai-chat:`) against the stub OpenAI-compatible chat server: answers, every fault handled as
named, JSON mode, endpoints that are not chat endpoints, secrets."""

from __future__ import annotations

import json
import logging
import time

import pytest

from embedlab.errors import ModelError
from embedlab.models import ModelOptions
from embedlab.models.chat import Answer, chat_base
from embedlab.models.registry import load_chat
from tests.models.chat_server import ChatServer, stub_questions

KEY = "sk-chat-SECRET-0123456789"
PROMPTS = [f"Write exactly 1 question.\n<passage>\nTea number {i} is brewed at {70 + i} degrees.\n</passage>"
           for i in range(6)]


@pytest.fixture
def server():
    server = ChatServer()
    yield server
    server.close()


def chat(url: str, **extra):
    settings = {"api_key_env": "EMBEDLAB_CHAT_KEY", "max_retries": 4, **extra}
    return load_chat("openai-chat:stub-7b", ModelOptions(base_url=url, **settings), temperature=0.3)


def complete(model, prompts, seed=1):
    answers: dict[int, Answer] = {}
    for start, stop, batch in model.complete_batches(prompts, seed=seed, max_tokens=96):
        answers.update(zip(range(start, stop), batch))
    return [answers[i] for i in range(len(prompts))]


def test_answers_in_order_with_the_request_as_sent(server, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_CHAT_KEY", KEY)
    model = chat(server.url, concurrency=3)
    answers = complete(model, PROMPTS)
    assert [json.loads(a.text)["queries"] for a in answers] == [stub_questions(p) for p in PROMPTS]
    body = server.requests[0]
    assert body["messages"] == [{"role": "user", "content": PROMPTS[0]}]
    assert (body["model"], body["temperature"], body["seed"], body["max_tokens"]) == ("stub-7b", 0.3, 1, 96)
    assert body["response_format"] == {"type": "json_object"}
    assert model.usage["requests"] == 6 and model.usage["prompt_tokens"] == sum(a.prompt_tokens for a in answers) > 0
    assert model.usage["completion_tokens"] > 0 and "written" in model.status()
    assert model.name == "openai-chat:stub-7b" and KEY not in repr(model) + json.dumps(model.info())
    assert model.cache_key() == f"openai-chat|{server.url}|stub-7b|temperature=0.3"
    model.close()


def test_requests_are_in_flight_at_once(monkeypatch):
    server = ChatServer(latency=0.3)
    try:
        model = chat(server.url, concurrency=6, api_key_env="none")
        started = time.perf_counter()
        complete(model, PROMPTS * 2)
        # the first request goes alone, then 6 at once: 12 answers of 0.3 s take ~3 rounds, not 12
        assert time.perf_counter() - started < 0.3 * 6
    finally:
        server.close()


def test_each_fault_is_handled_as_named(server, quick_backoff):
    server.faults = [("status", 429, {"Retry-After": "0"}, {"error": {"message": "slow down"}}),
                     ("status", 503, {}, {"error": "overloaded"}), ("truncated",), ("malformed",)]
    model = chat(server.url, api_key_env="none", concurrency=1)
    answers = complete(model, PROMPTS[:4])
    # 429, 503, a body cut short and a body that is not JSON were all asked again: four usable answers
    assert all(json.loads(a.text)["queries"] for a in answers)
    assert model.usage["retries"] == 4 and len(server.requests) == 8
    # what the model wrote is handed back as it is: reading it strictly is the caller's job (synth.parse)
    server.faults = [("text", "Sure! Here are some questions: who brews tea?"), ("empty",), ("length",)]
    odd = complete(model, PROMPTS[:3])
    assert odd[0].text.startswith("Sure!") and odd[1].text == "" and odd[2].truncated and not odd[0].truncated


def test_a_malformed_body_twice_stops_with_one_line(server, quick_backoff):
    server.faults = [("malformed",), ("malformed",)]
    with pytest.raises(ModelError, match=r"openai-chat:stub-7b at http://127.0.0.1:\d+/v1: gave up .*not JSON"):
        complete(chat(server.url, api_key_env="none"), PROMPTS[:1])


def test_a_slow_answer_is_asked_again_then_named(monkeypatch, quick_backoff):
    server = ChatServer()
    try:
        server.faults = [("slow", 1.0)]
        model = chat(server.url, api_key_env="none", timeout=0.4)
        assert json.loads(complete(model, PROMPTS[:1])[0].text)
        assert model.usage["timeouts"] == 1 and len(server.requests) == 2
        server.faults = [("slow", 1.0), ("slow", 1.0)]
        with pytest.raises(ModelError, match=r"timed out after 0.4 s, 2 times; raise --timeout"):
            complete(model, PROMPTS[:1])
    finally:
        server.close()


def test_a_server_without_json_mode_is_asked_without_it(caplog):
    server = ChatServer(refuse_json_mode=True)
    try:
        model = chat(server.url, api_key_env="none")
        with caplog.at_level(logging.WARNING):
            answers = complete(model, PROMPTS[:3])
        assert all(json.loads(a.text)["queries"] for a in answers)
        assert [("response_format" in r) for r in server.requests] == [True, False, False, False]
        assert not model.json_mode and "does not take JSON mode" in caplog.text and caplog.text.count("JSON mode") == 1
    finally:
        server.close()


def test_an_endpoint_that_is_not_a_chat_endpoint_is_one_line(server):
    with pytest.raises(ModelError, match=r"at http://127.0.0.1:\d+/other is not a chat endpoint \(HTTP 404 on "
                                         r"/chat/completions\)"):
        complete(chat(server.url.replace("/v1", "/other"), api_key_env="none"), PROMPTS[:1])
    server.faults = [("embeddings",)]
    with pytest.raises(ModelError, match="answers as an embeddings endpoint, not a chat endpoint"):
        complete(chat(server.url, api_key_env="none"), PROMPTS[:1])


def test_the_key_is_sent_and_never_shown(server, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_CHAT_KEY", KEY)
    server.faults = [("status", 401, {}, {"error": {"message": f"bad key {KEY}"}})]
    with pytest.raises(ModelError) as caught:
        complete(chat(server.url), PROMPTS[:1])
    assert KEY not in str(caught.value) and "HTTP 401" in str(caught.value)
    monkeypatch.delenv("EMBEDLAB_CHAT_KEY")
    with pytest.raises(ModelError, match="no API key for https://llm.example.com/v1"):
        chat("https://llm.example.com/v1")


def test_the_base_url_may_be_the_endpoint_itself():
    assert chat_base("http://h:8000/v1/chat/completions/") == "http://h:8000/v1"
    assert chat_base("http://h:8000/v1") == "http://h:8000/v1"
    assert chat_base("https://h/v1/chat/completions?api-version=2") == "https://h/v1?api-version=2"
