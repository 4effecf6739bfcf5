"""A webhook receiver for the tests: a local HTTP server on a thread that checks each request's
signature as docs/reference.md tells receivers to, and answers as the test scripts it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "a-receiver-secret-of-some-length"


def verified(secret: str, headers: Any, body: bytes) -> bool:
    """The recipe of docs/reference.md#webhooks, as a receiver would write it."""
    timestamp = headers["X-GridBoard-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    if not hmac.compare_digest("sha256=" + expected.hexdigest(), headers["X-GridBoard-Signature"]):
        return False
    return abs(time.time() - int(timestamp)) < 300


@dataclass
class Received:
    key: str
    event: str
    body: dict[str, Any]
    signed: bool
    answered: int


@dataclass
class Receiver:
    port: int
    secret: str = SECRET
    answers: list[int] = field(default_factory=list)  # answered in turn; then 200
    hold: threading.Event | None = None  # set: requests wait for it before answering
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def keys(self) -> list[str]:
        return [r.key for r in self.received]

    def delivered(self) -> list[Received]:
        return [r for r in self.received if r.answered == 200]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receiver.arrived.set()
            if receiver.hold is not None:
                receiver.hold.wait(60)
            status = receiver.answers.pop(0) if receiver.answers else 200
            receiver.received.append(
                Received(
                    key=self.headers["Idempotency-Key"],
                    event=self.headers["X-GridBoard-Event"],
                    body=json.loads(body),
                    signed=verified(receiver.secret, self.headers, body),
                    answered=status,
                )
            )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    return Handler


@contextmanager
def serving(receiver: Receiver) -> Iterator[Receiver]:
    """Serve ``receiver`` on its port (0: any free one, then stored in it) until the end."""
    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        server.shutdown()
        server.server_close()
