"""The HTTP machinery every API backend shares, on a minimal backend against a real local server: retries,
one-line permanent errors without the key, usage counts, answers in flight yielded as they arrive."""

from __future__ import annotations

import email.utils
import json
import math
import random
import time
from datetime import datetime, timedelta, timezone

import httpx
import numpy as np
import pytest

from embedlab.errors import ModelError
from embedlab.models.base import ModelOptions
from embedlab.models.http_api import HttpApi, Malformed, RetryableError, _retry_after
from tests.models.servers import FaultServer, expected

KEY = "sk-http-SECRET-987654321"


class Minimal(HttpApi):
    """Embeds through /embeddings with the shared machinery only."""

    def __init__(self, options: ModelOptions) -> None:
        self._connect(options, "http://unused", "tests")

    def embed(self, texts: list[str]):
        chunks = iter([(start, texts[start:start + 2]) for start in range(0, len(texts), 2)])
        return self._pipelined(chunks, lambda chunk: self._post(chunk, self._once, len))

    def _once(self, texts: list[str]) -> np.ndarray:
        body = self._json(self._send("/embeddings", {"model": "m", "input": texts}))
        return np.asarray([item["embedding"] for item in sorted(body["data"], key=lambda i: i["index"])], np.float32)


@pytest.fixture
def server():
    running = FaultServer()
    yield running
    running.close()


def test_requests_in_flight_retries_and_usage(server, monkeypatch):
    monkeypatch.setenv("HTTP_TEST_KEY", KEY)
    server.faults = [None, ("status", 503, {"Retry-After": "0"}, {"error": "busy"})]
    client = Minimal(ModelOptions(base_url=server.url, api_key_env="HTTP_TEST_KEY", concurrency=2, max_retries=2))
    texts = [f"text {i}" for i in range(7)]
    parts = {start: vectors for start, _, vectors in client.embed(texts)}
    np.testing.assert_allclose(np.concatenate([parts[s] for s in sorted(parts)]), expected(texts))
    assert client.usage["requests"] == 5 and client.usage["retries"] == 1
    assert server.headers_seen[0]["Authorization"] == f"Bearer {KEY}"
    assert client.usage_line(None) == "5 requests (1 retried), 0 tokens"
    client.close()


def test_a_permanent_error_is_one_line_without_the_key(server, monkeypatch):
    monkeypatch.setenv("HTTP_TEST_KEY", KEY)
    server.faults = [("status", 401, {}, {"error": {"message": f"bad key {KEY}"}})]
    client = Minimal(ModelOptions(base_url=server.url, api_key_env="HTTP_TEST_KEY"))
    with pytest.raises(ModelError, match="HTTP 401: bad key \\*\\*\\*") as caught:
        list(client.embed(["a"]))
    assert KEY not in str(caught.value) and len(server.requests) == 1


def test_a_malformed_answer_after_other_retries_is_still_asked_again_once(server, quick_backoff):
    """Issue 24 item 12: malformed answers are counted per request, not attempts: 429 -> 503 -> a truncated
    body is retried (the first release gave up: 'gave up after 2 retries'); a second malformed answer ends it."""
    client = Minimal(ModelOptions(base_url=server.url, api_key_env="none", concurrency=1))
    server.faults = [("status", 429, {"Retry-After": "0"}, {}), ("status", 503, {}, {}), ("malformed",)]
    parts = list(client.embed(["a", "b"]))
    np.testing.assert_array_equal(parts[0][2], expected(["a", "b"]))
    assert client.usage["retries"] == 3 and client.usage["requests"] == 4
    server.faults = [("malformed",), ("status", 503, {}, {}), ("malformed",)]
    with pytest.raises(ModelError, match="^API model at .*: gave up after 2 retries: malformed response"):
        list(client.embed(["c"]))


@pytest.mark.parametrize("value", ["soon-ish", "Wed, 99 Foo 2024 25:61:00 GMT", "nan", "inf", "1e999", "-5",
                                   "Mon, 01 Jan 2001 00:00:00 GMT", "0x10", "1,5", "Retry-After: 2"])
def test_a_retry_after_that_is_neither_seconds_nor_a_date_falls_back_to_backoff(server, value, quick_backoff):
    """Issue 24 item 13: `Retry-After: soon-ish` was a ValueError traceback."""
    client = Minimal(ModelOptions(base_url=server.url, api_key_env="none"))
    server.faults = [("status", 503, {"Retry-After": value}, {"error": "busy"})]
    started = time.monotonic()
    np.testing.assert_array_equal(list(client.embed(["a"]))[0][2], expected(["a"]))
    assert client.usage["retries"] == 1 and time.monotonic() - started < 2


def test_retry_after_values():
    assert _retry_after("2") == 2.0 and _retry_after("0.5") == 0.5 and _retry_after("-3") == 0.0
    assert _retry_after(None) is None and _retry_after("") is None and _retry_after("soon-ish") is None
    assert _retry_after("inf") is None and _retry_after("nan") is None and _retry_after("Foo, 99 Bar") is None
    assert _retry_after("Mon, 01 Jan 2001 00:00:00 GMT") == 0.0  # a date in the past: at once
    later = email.utils.format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 < _retry_after(later) <= 31


def test_fuzzed_retry_after_values_are_a_wait_or_none_never_an_exception():
    rng = random.Random(24)
    pieces = ["Mon, ", "Fri, ", "01 ", "31 ", "Jan ", "Feb ", "2001 ", "99999 ", "00:00:00 ", "25:61:99 ", "GMT", "+0800",
              "-", "+", ".", "e", "E", "9" * 400, "nan", "inf", "0x", " ", ",", "日", "é", "\t", "1", "0"]
    for _ in range(3000):
        value = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 9)))
        seconds = _retry_after(value)
        assert seconds is None or (math.isfinite(seconds) and seconds >= 0), value


def test_json_cut_short_is_told_from_json_that_is_wrong(server):
    """`{"data": [` (cut by a proxy) is a transport fault; `{"data": 1,}` or HTML is a malformed answer."""
    client = Minimal(ModelOptions(base_url=server.url, api_key_env="none"))
    for body, kind in [(b'{"data": [', RetryableError), (b'{"data": [1, 2', RetryableError), (b"[\n  ", RetryableError),
                       (b'{"data": 1,}', Malformed), (b"<html>502</html>", Malformed), (b"\xff\xfe{", Malformed),
                       (b"", Malformed)]:
        response = httpx.Response(200, content=body)
        with pytest.raises(kind) as caught:
            client._json(response)
        assert type(caught.value) is kind, body


def test_every_cut_of_an_answer_is_truncated_not_malformed():
    answer = json.dumps({"object": "list", "model": "m", "usage": {"prompt_tokens": 3}, "data": [
        {"object": "embedding", "index": 0, "embedding": [0.5, -1.25e-05, 3, 1e+20, True, False, None, 'a\\"b\u00e9']}]},
        ensure_ascii=False)
    for cut in range(1, len(answer)):
        with pytest.raises(RetryableError) as caught:
            HttpApi._json(httpx.Response(200, content=answer[:cut].encode()))
        assert type(caught.value) is RetryableError, answer[:cut]
    assert HttpApi._json(httpx.Response(200, content=answer.encode()))["model"] == "m"
    with pytest.raises(Malformed):
        HttpApi._json(httpx.Response(200, content=answer.encode() + b" 5"))
