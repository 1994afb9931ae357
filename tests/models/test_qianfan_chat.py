"""Qianfan chat models (legacy API Key / Secret Key) against a local server speaking Qianfan's shapes."""

from __future__ import annotations

import json

import pytest

from embedlab.errors import ModelError
from embedlab.models import ModelOptions
from embedlab.models.registry import load_chat
from tests.models.servers import JsonHandler, LocalServer, qianfan_gate

AK, SK = "qf-ak-SECRET-333", "qf-sk-SECRET-444"


class QianfanChatServer(LocalServer):
    """POST /oauth/2.0/token and .../wenxinworkshop/chat/<route>?access_token=...: {result, usage, is_truncated};
    errors as HTTP 200 with error_code. `faults`: ("code", n, msg) | ("expire",) | ("cut",)."""

    AK, SK = AK, SK

    def __init__(self) -> None:
        self.faults: list[tuple] = []
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        self.token_requests, self.token = 0, None
        server = self

        class Handler(JsonHandler):
            def do_POST(self):
                from urllib.parse import parse_qs, urlparse

                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                with server.lock:
                    refusal, fault = qianfan_gate(server, url.path, query)
                    if refusal is not None:
                        return self._send(refusal)
                    server.bodies.append(body)
                    server.paths.append(url.path)
                text = json.dumps({"queries": ["黑豹队丢了多少分？"]}, ensure_ascii=False)
                cut = bool(fault and fault[0] == "cut")
                self._send({"id": "as-1", "object": "chat.completion", "result": text[:10] if cut else text,
                            "is_truncated": cut, "usage": {"prompt_tokens": 30, "completion_tokens": 12,
                                                           "total_tokens": 42}})

            def _send(self, obj):
                self.send_json(200, json.dumps(obj).encode())

        self._start(Handler)


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("QIANFAN_AK", AK)
    monkeypatch.setenv("QIANFAN_SK", SK)
    server = QianfanChatServer()
    yield server
    server.close()


def ask(model, prompt="写出恰好 1 个问题。<passage>黑豹队的防守只丢了 308 分。</passage>"):
    (answers,) = [batch for _, _, batch in model.complete_batches([prompt], seed=5, max_tokens=64)]
    return answers[0]


def test_the_legacy_chat_api(server, quick_backoff):
    model = load_chat("qianfan-chat:ERNIE-3.5-8K", ModelOptions(base_url=server.url), temperature=0.0)
    answer = ask(model)
    assert json.loads(answer.text) == {"queries": ["黑豹队丢了多少分？"]}
    assert (answer.prompt_tokens, answer.completion_tokens, answer.truncated) == (30, 12, False)
    assert server.paths == ["/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions"]
    body = server.bodies[0]
    assert body["temperature"] == 0.01  # Qianfan's range is (0, 1]
    assert body["response_format"] == "json_object" and body["max_output_tokens"] == 64 and "seed" not in body
    assert model.name == "qianfan-chat:ernie-3.5-8k" and model.usage["completion_tokens"] == 12
    server.faults = [("expire",), ("code", 18, "QPS limit reached"), ("cut",)]
    cut = ask(model)
    assert cut.truncated and server.token_requests == 2 and model.usage["retries"] == 2
    info = json.dumps(model.info()) + model.cache_key() + repr(model)
    assert AK not in info and SK not in info and "24.token" not in info


def test_other_models_are_their_own_route_without_json_mode(server):
    model = load_chat("qianfan-chat:my-service", ModelOptions(base_url=server.url), temperature=0.5)
    ask(model)
    assert server.paths == ["/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/my-service"]
    assert "response_format" not in server.bodies[0] and server.bodies[0]["temperature"] == 0.5


def test_errors_are_one_line_without_secrets(server, monkeypatch):
    model = load_chat("qianfan-chat:ernie-speed-128k", ModelOptions(base_url=server.url), temperature=0.5)
    server.faults = [("code", 336003, f"bad request {AK}")]
    with pytest.raises(ModelError, match="Qianfan error 336003") as caught:
        ask(model)
    assert AK not in str(caught.value)
    with pytest.raises(ModelError, match="temperature is between 0 and 1"):
        load_chat("qianfan-chat:ernie-speed-128k", ModelOptions(base_url=server.url), temperature=1.5)
    monkeypatch.delenv("QIANFAN_SK")
    with pytest.raises(ModelError, match="no Qianfan credentials"):
        load_chat("qianfan-chat:ernie-speed-128k", ModelOptions(base_url=server.url), temperature=0.5)
