"""A stub OpenAI-compatible chat server on 127.0.0.1 (the chat counterpart of `servers.FaultServer`): POST
/v1/chat/completions answers deterministic questions about the passage between <passage> tags of the prompt, as
many as the prompt asks for ("exactly N" / "恰好 N 个"), as JSON {"queries": [...]} in the message content. It
counts requests and injects faults.

`faults` is a queue for the next requests: ("status", code, headers, body) | ("slow", seconds) | ("truncated",) (the
HTTP body cut short) | ("malformed",) (an HTTP body that is not JSON) | ("text", content) (the model's answer is
that text: free text, not JSON) | ("empty",) (an empty answer) | ("embeddings",) (an embeddings-shaped answer: not
a chat endpoint) | ("length",) (JSON cut at the token limit). `every`: [(n, fault)], the first whose n divides the
request's number applies when the queue is empty. `refuse_json_mode`: HTTP 400 to any request with
response_format, as servers without JSON mode answer. `latency`: seconds added to every answer."""

from __future__ import annotations

import hashlib
import json
import re
import time

from tests.models.servers import JsonHandler, LocalServer

_COUNT = re.compile(r"exactly (\d+)|恰好\s*(\d+)")
_PASSAGE = re.compile(r"<passage>\n?(.*?)\n?</passage>", re.S)
_SENTENCE = re.compile(r"[^。！？!?.\n]+")


def stub_questions(prompt: str) -> list[str]:
    """The questions the stub writes for a prompt: for each asked, a sentence of the passage (chosen by a hash of
    the passage) turned into a question."""
    match = _COUNT.search(prompt)
    n = int(next(g for g in match.groups() if g)) if match else 1
    found = _PASSAGE.search(prompt)
    passage = found.group(1) if found else prompt
    sentences = [s.strip() for s in _SENTENCE.findall(passage) if len(s.strip()) > 3] or [passage.strip()]
    start = int.from_bytes(hashlib.sha256(passage.encode()).digest()[:4], "little")
    chinese = bool(re.search(r"[\u4e00-\u9fff]", passage))
    out = []
    for i in range(n):
        sentence = sentences[(start + i) % len(sentences)]
        core = sentence[len(sentence) // 4:]  # the sentence's end: not a copy of it
        out.append(f"{core}是指什么？" if chinese else f"what is meant by {core.lower()}?")
    return out


class ChatServer(LocalServer):
    def __init__(self, latency: float = 0.0, refuse_json_mode: bool = False) -> None:
        self.latency, self.refuse_json_mode = latency, refuse_json_mode
        self.faults: list[tuple] = []
        self.every: list[tuple[int, tuple]] = []
        self.requests: list[dict] = []
        self.answered = 0  # requests answered with a usable 200
        server = self

        class Handler(JsonHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if not self.path.rstrip("/").endswith("/v1/chat/completions"):
                    return self.send_json(404, b'{"error": {"message": "Not Found"}}')
                with server.lock:
                    server.requests.append(body)
                    number = len(server.requests)
                    fault = server.faults.pop(0) if server.faults else server.scheduled(number)
                time.sleep(server.latency)
                if server.refuse_json_mode and "response_format" in body:
                    return self.send_json(400, json.dumps({"error": {"message": "response_format is not "
                                                                                "supported"}}).encode())
                code, payload = server.answer(body, fault)
                with server.lock:
                    server.answered += code == 200
                self.send_json(code, payload, fault[2] if fault and fault[0] == "status" else None)

        self._start(Handler, "/v1")

    def scheduled(self, number: int) -> tuple | None:
        return next((fault for n, fault in self.every if number % n == 0), None)

    def answer(self, body: dict, fault: tuple | None) -> tuple[int, bytes]:
        prompt = body["messages"][-1]["content"]
        content = json.dumps({"queries": stub_questions(prompt)}, ensure_ascii=False)
        kind = fault[0] if fault else None
        if kind == "status":
            return fault[1], json.dumps(fault[3]).encode()
        if kind == "slow":
            time.sleep(fault[1])
        if kind == "malformed":
            return 200, b"<html>502 Bad Gateway</html>"
        if kind == "embeddings":
            return 200, json.dumps({"object": "list", "data": [{"object": "embedding", "index": 0,
                                                                  "embedding": [0.1, 0.2]}]}).encode()
        content = {"text": fault[1] if fault and len(fault) > 1 else "", "empty": "",
                   "length": content[: len(content) // 2]}.get(kind, content)
        answer = {"id": "chatcmpl-stub", "object": "chat.completion", "model": body["model"],
                  "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                               "finish_reason": "length" if kind == "length" else "stop"}],
                  "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(content) // 4,
                            "total_tokens": (len(prompt) + len(content)) // 4}}
        payload = json.dumps(answer, ensure_ascii=False).encode()
        return 200, payload[: len(payload) // 3] if kind == "truncated" else payload
