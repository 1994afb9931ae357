"""Does a gRPC server answer at host:port? A check bounded to a few seconds, made before Ray is asked to
connect: `ray.init` retries an address where nothing, or something else, answers for minutes (a firewall
that accepts every connection, a proxy, a web server).

One HTTP/2 request is sent by hand (the grpc package is not needed): the connection preface, an empty
SETTINGS frame and a HEADERS frame for `POST /grpc.health.v1.Health/Check`. A gRPC server answers
`:status 200` whatever the method (an unknown method is a gRPC error inside a 200); a proxy or a web server
answers another status or HTTP/1 text; where nothing listens the connection fails or stays silent. An
answer that cannot be read without a full HPACK decoder is taken as a yes: Ray then decides.
"""

from __future__ import annotations

import socket
import threading
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
HEADERS, RST_STREAM, SETTINGS, GOAWAY = 0x1, 0x3, 0x4, 0x7
END_STREAM, END_HEADERS, PADDED, PRIORITY = 0x1, 0x4, 0x8, 0x20
STATUS = {8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500}  # HPACK's static table


def grpc_problem(host: str, port: int, timeout: float) -> str | None:
    """None when a gRPC server answers at host:port within `timeout` seconds (or its answer does not say it
    is none); else what happened instead, in words for a message."""
    deadline = time.monotonic() + timeout
    try:
        family, address = resolve(host, port, timeout)
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(address)
            sock.sendall(PREFACE + frame(SETTINGS, 0, 0) + frame(HEADERS, END_STREAM | END_HEADERS, 1,
                                                                 request(f"{host}:{port}")))
            return read_answer(sock, deadline)
    except TimeoutError:
        return f"nothing answered within {timeout:g} s"
    except OSError as exc:
        return exc.strerror or str(exc)


def resolve(host: str, port: int, timeout: float) -> tuple[int, tuple]:
    """(family, address) of host:port; a name lookup that hangs counts against `timeout` (a daemon thread:
    getaddrinfo cannot be interrupted)."""
    found: list = []

    def lookup() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0])
        except OSError as exc:
            found.append(exc)
    thread = threading.Thread(target=lookup, daemon=True)
    thread.start()
    thread.join(timeout)
    if not found:
        raise TimeoutError
    if isinstance(found[0], OSError):
        raise found[0]
    family, _, _, _, address = found[0]
    return family, address


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def request(authority: str) -> bytes:
    """The HPACK block of a gRPC call, without Huffman coding or indexing: :method POST and :scheme http from
    the static table, the rest literal."""
    def literal(name: bytes | int, value: str) -> bytes:
        head = integer(name, 4, 0) if isinstance(name, int) else b"\x00" + string(name)
        return head + string(value.encode())
    return (b"\x83\x86" + literal(4, "/grpc.health.v1.Health/Check") + literal(1, authority)
            + literal(b"content-type", "application/grpc") + literal(b"te", "trailers"))


def integer(value: int, prefix: int, first: int) -> bytes:
    """An HPACK integer with a `prefix`-bit prefix, the first byte's other bits `first`."""
    limit = (1 << prefix) - 1
    if value < limit:
        return bytes([first | value])
    out, value = bytearray([first | limit]), value - limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    return bytes(out + bytes([value]))


def string(data: bytes) -> bytes:
    return integer(len(data), 7, 0) + data


def read_answer(sock: socket.socket, deadline: float) -> str | None:
    """What the server's first frames say: None for a gRPC answer (or one that cannot be told apart)."""
    buffer, first = b"", True
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            return "the connection was closed without an answer"
        buffer += chunk
        while len(buffer) >= 9:
            if first and (buffer.startswith(b"HTTP/") or buffer[3] != SETTINGS):
                return "something answered, but not gRPC (no HTTP/2)"
            first = False
            length = int.from_bytes(buffer[:3], "big")
            if len(buffer) < 9 + length:
                break
            kind, flags, stream = buffer[3], buffer[4], int.from_bytes(buffer[5:9], "big") & 0x7FFFFFFF
            payload, buffer = buffer[9:9 + length], buffer[9 + length:]
            if kind == GOAWAY or (kind == RST_STREAM and stream == 1):
                return "the server refused the request (not gRPC)"
            if kind == HEADERS and stream == 1:
                return status_problem(payload, flags)


def status_problem(payload: bytes, flags: int) -> str | None:
    """None for `:status 200` (or a status sent in a form this reader does not decode)."""
    block = payload[1:len(payload) - payload[0]] if flags & PADDED and payload else payload
    block = block[5:] if flags & PRIORITY else block
    if not block or not block[0] & 0x80:
        return None
    status = STATUS.get(block[0] & 0x7F)
    return None if status in (None, 200) else f"something answered HTTP {status}, not gRPC"
