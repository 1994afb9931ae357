"""The gRPC probe against what an address may hold: a real gRPC server (Ray's GCS), an HTTP/2 server that
answers 404 (a proxy), an HTTP/1 server, a socket that never answers, a closed port."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from embedlab.embedding.engines.grpc_probe import frame, grpc_problem, integer, request
from tests.models.servers import FaultServer


class RawServer:
    """Accepts connections on 127.0.0.1 and answers each with `answer` bytes (nothing when None) once it has read
    the client's first bytes; keeps the connection open."""

    def __init__(self, answer: bytes | None) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.open: list[socket.socket] = []
        threading.Thread(target=self._serve, args=(answer,), daemon=True).start()

    def _serve(self, answer):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.open.append(conn)
            self.received += conn.recv(65536)
            if answer is not None:
                conn.sendall(answer)

    def close(self):
        for conn in self.open:
            conn.close()
        self.sock.close()


def answering(status_index: int, flags: int = 0x5, payload_prefix: bytes = b"") -> bytes:
    return frame(0x4, 0, 0) + frame(0x4, 0x1, 0) + frame(0x1, flags, 1, payload_prefix + bytes([0x80 | status_index]))


@pytest.mark.parametrize("answer,problem", [
    (answering(8), None),  # :status 200: a gRPC server
    (answering(8, flags=0x5 | 0x8, payload_prefix=b"\x00"), None),  # padded (no padding bytes)
    (answering(8, flags=0x5 | 0x20, payload_prefix=b"\x00" * 5), None),  # with a priority
    (answering(13), "something answered HTTP 404, not gRPC"),  # a proxy
    (frame(0x4, 0, 0) + frame(0x7, 0, 0, b"\x00" * 8), "refused the request"),
    (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "not gRPC (no HTTP/2)"),
    (b"", "nothing answered within 0.5 s"),  # listens, reads, never answers
])
def test_what_answers_is_told_apart(answer, problem):
    server = RawServer(answer if answer else None)
    try:
        started = time.monotonic()
        found = grpc_problem("127.0.0.1", server.port, 0.5)
        assert (found is None) if problem is None else problem in found, found
        assert time.monotonic() - started < 2
        assert server.received.startswith(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    finally:
        server.close()


def test_a_web_server_and_a_closed_port_are_no_grpc_server():
    web = FaultServer()
    try:
        port = int(web.url.rsplit(":", 1)[1].split("/")[0])
        assert "not gRPC" in grpc_problem("127.0.0.1", port, 2.0)
    finally:
        web.close()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert "refused" in grpc_problem("127.0.0.1", port, 2.0).lower()
    assert grpc_problem("no-such-host.invalid", 6379, 2.0)


def test_a_ray_cluster_answers(ray_cluster):
    host, _, port = ray_cluster.get_runtime_context().gcs_address.rpartition(":")
    assert grpc_problem(host, int(port), 5.0) is None


def test_hpack_integers_and_the_request_block():
    assert integer(10, 5, 0) == b"\x0a" and integer(1337, 5, 0) == b"\x1f\x9a\x0a"  # RFC 7541 C.1.1, C.1.2
    block = request("h" * 300 + ":6379")  # an authority longer than 127 bytes: a multi-byte length
    assert block.startswith(b"\x83\x86\x04") and b"h" * 300 + b":6379" in block and b"\x7f" in block
