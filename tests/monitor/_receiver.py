"""A tiny HTTP receiver on 127.0.0.1 that records POSTs (webhooks, OTLP/HTTP)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    url: str
    posts: list[tuple[str, bytes]] = field(default_factory=list)
    status: int = 200
    delay_s: float = 0.0

    def json_bodies(self, path: str = "/") -> list[Any]:
        return [json.loads(body) for p, body in self.posts if p == path]

    def count(self, path: str) -> int:
        return sum(p == path for p, _ in self.posts)

    def wait_for(self, path: str, n: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count(path) >= n:
                return True
            time.sleep(0.02)
        return False


@contextmanager
def receiver(status: int = 200, delay_s: float = 0.0) -> Iterator[Receiver]:
    state = Receiver(url="", status=status, delay_s=delay_s)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.posts.append((self.path, body))
            if state.delay_s:
                time.sleep(state.delay_s)
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def closed_port_url() -> str:
    """A loopback URL nothing listens on."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/hook"
