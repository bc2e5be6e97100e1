"""A fault-injecting HTTP proxy on 127.0.0.1, in front of the real Label Studio server.

Real TCP, real server: the client under test talks to the proxy exactly as it would to Label
Studio, and every request the proxy lets through reaches the real server. Chosen requests fail
instead, in the ways networks and servers fail:

- ``500``: answer HTTP 500 without forwarding (the server never saw the request);
- ``drop``: close the connection without forwarding and without an answer;
- ``drop-after``: forward, let the server finish, then close without passing the answer on (the
  dangerous one: the server did the work, the client cannot know);
- ``truncate``: forward and pass on the headers and half of the body, then close.

One request per connection (``Connection: close`` towards the server, and towards the client in
every answer passed on, so that no client reuses a connection the proxy closed), accept loop with
a short timeout and a stop flag, socket timeouts everywhere: it stops by itself when the test ends.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urlsplit

HOST = "127.0.0.1"
_MAX_HEAD = 1 << 20


@dataclass
class Fault:
    method: str
    path: str  # a regex, matched against the request path without the query string
    action: str  # 500, drop, drop-after, truncate
    times: int = 1  # how many matching requests fail (the first ones)
    seen: int = 0


@dataclass
class FaultProxy:
    upstream: str
    faults: list[Fault] = field(default_factory=list)
    log: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, what happened

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        self._up = (parts.hostname or HOST, parts.port or 80)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((HOST, 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.url = f"http://{HOST}:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def injected(self) -> list[tuple[str, str, str]]:
        return [entry for entry in self.log if entry[2] != "forwarded"]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _decide(self, method: str, path: str) -> str | None:
        with self._lock:
            for fault in self.faults:
                if (
                    fault.method == method
                    and re.fullmatch(fault.path, path)
                    and fault.seen < fault.times
                ):
                    fault.seen += 1
                    return fault.action
        return None

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            head, body = _read_request(conn)
            if head is None:
                return
            first, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, version = first.split(" ", 2)
            path = target.split("?", 1)[0]
            action = self._decide(method, path)
            with self._lock:
                self.log.append((method, path, action or "forwarded"))
            if action == "500":
                payload = b'{"detail": "injected fault"}'
                conn.sendall(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: "
                    b"application/json\r\nConnection: close\r\nContent-Length: "
                    + str(len(payload)).encode()
                    + b"\r\n\r\n"
                    + payload
                )
                return
            if action == "drop":
                return
            headers = [h for h in header_lines if h and not h.lower().startswith("connection:")]
            request = "\r\n".join([first, *headers, "Connection: close", "", ""]).encode("latin-1")
            response = _closing(_exchange(self._up, request + body))
            if action == "drop-after":
                return
            if action == "truncate":
                split = response.find(b"\r\n\r\n") + 4
                conn.sendall(response[: split + max(1, (len(response) - split) // 2)])
                return
            conn.sendall(response)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()


def _read_request(conn: socket.socket) -> tuple[bytes | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk or len(data) > _MAX_HEAD:
            return None, b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    length = int(m.group(1)) if m else 0
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


def _closing(response: bytes) -> bytes:
    """``response`` saying ``Connection: close``: the proxy closes every connection after one
    answer, and must say so. The server answers HTTP/1.1 without the header (keep-alive), and a
    client that kept the connection could send its next request into a socket the proxy has
    just closed: that request would fail without ever reaching the proxy (a failed attempt the
    proxy does not see), at random."""
    head, sep, body = response.partition(b"\r\n\r\n")
    if not sep:
        return response
    first, *lines = head.split(b"\r\n")
    kept = [h for h in lines if not h.lower().startswith(b"connection:")]
    return b"\r\n".join([first, *kept, b"Connection: close"]) + sep + body


def _exchange(upstream: tuple[str, int], request: bytes) -> bytes:
    with socket.create_connection(upstream, timeout=60) as up:
        up.sendall(request)
        parts = []
        while True:
            chunk = up.recv(65536)
            if not chunk:
                break
            parts.append(chunk)
    return b"".join(parts)
