"""The HTTP protocol ``gridboard api`` serves with: uvicorn's httptools protocol with limits on a
request's head (431 past ``HEAD_BYTES``, 408 when not complete within ``HEAD_SECONDS``).
See docs/architecture.md#request-heads."""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# The request line and headers of one request: a bearer token is under 1 KB.
HEAD_BYTES = 16_384
# How long a client may take to send a request's head, from its first byte (or connecting).
HEAD_SECONDS = 10.0
# After a refusal, what the client still sends is read and dropped this long, so that closing
# with its bytes unread (a reset) does not destroy the answer before the client reads it.
LINGER_SECONDS = 2.0


def _refusal(status: str, detail: str) -> bytes:
    # The shape of every refusal of the API (api.errors.refusal), written before it exists.
    body = json.dumps({"detail": detail, "problems": []}).encode()
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


TOO_LARGE = _refusal(
    "431 Request Header Fields Too Large",
    f"the request line and headers are larger than {HEAD_BYTES} bytes: send shorter headers",
)
TOO_SLOW = _refusal(
    "408 Request Timeout",
    f"the request line and headers did not arrive within {HEAD_SECONDS:g} seconds",
)


class LimitedHttpTools(HttpToolsProtocol):
    """Counts the bytes of a request's head before the parser sees them (httptools joins a
    header's pieces by copying, so a huge header costs time growing with its square) and
    refuses past ``HEAD_BYTES``; closes a connection whose head is not complete within
    ``HEAD_SECONDS``. A head is counted from its first byte in a read of its own; bytes that
    arrive in the same read as the previous request's end (pipelining) are not counted, at
    most one read (256 KB)."""

    head_bytes = HEAD_BYTES
    head_seconds = HEAD_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._in_head, self._head_size, self._refused = True, 0, False
        self._head_timer: asyncio.TimerHandle | None = self.loop.call_later(
            self.head_seconds, self._head_too_slow
        )

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        while data and self._in_head:
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(self.head_seconds, self._head_too_slow)
            room = self.head_bytes - self._head_size
            if room <= 0:
                self._refuse(TOO_LARGE)
                return
            part, data = data[:room], data[room:]
            self._head_size += len(part)
            super().data_received(part)
            if self.transport.is_closing() or self._refused:
                return
        if data:
            super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._stop_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_size = True, 0

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._in_head and not self._refused and not self.transport.is_closing():
            self._refuse(TOO_SLOW)

    def _refuse(self, answer: bytes) -> None:
        """The answer (unless an earlier request's answer is still being sent), then the end:
        when the client stops sending (asyncio closes on its end of file), at the latest after
        ``LINGER_SECONDS``."""
        self._refused = True
        self._stop_head_timer()
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()
            return
        self.transport.write(answer)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
