"""The HTTP machinery every API backend shares, on a minimal backend against a real local server: retries,
one-line permanent errors without the key, usage counts, answers in flight yielded as they arrive."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.errors import ModelError
from embedlab.models.base import ModelOptions
from embedlab.models.http_api import HttpApi
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
