"""`gridboard api` over raw sockets: a request head past the limit is refused with 431 before
it is parsed whole, and a connection that does not send a complete head in time is answered
408 and closed, while other clients are answered all along."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.cli.http_limits import HEAD_BYTES, HEAD_SECONDS
from tests.api.conftest import COOKIE_KEY
from tests.api.test_server import ROOT, _free_port, _wait_for


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder: Path = tmp_path_factory.mktemp("server")
    number = _free_port()
    environment = os.environ | {"GRIDBOARD_COOKIE_KEY": COOKIE_KEY, "GRIDBOARD_LOG_FORMAT": "text"}
    environment.pop("GRIDBOARD_DEMO", None)
    url = f"sqlite:///{folder / 'api.db'}"
    command = [
        sys.executable,
        "-m",
        "core.cli",
        "--database-url",
        url,
        "api",
        "--port",
        str(number),
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_for(number, process)
        yield number
    finally:
        process.kill()
        process.wait()


def _answer(raw: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := raw.recv(65536):
        received += chunk
    return received


def _ordinary_request_is_answered(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
        raw.sendall(b"GET /components HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert _answer(raw).startswith(b"HTTP/1.1 401 ")


def _head(size: int) -> bytes:
    start = b"GET /components HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Padding: "
    return start + b"a" * (size - len(start) - 4) + b"\r\n\r\n"


def test_a_head_at_the_limit_is_answered(port):
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
        raw.sendall(_head(HEAD_BYTES))
        assert _answer(raw).startswith(b"HTTP/1.1 401 ")


def test_a_head_one_byte_past_the_limit_gets_431(port):
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
        raw.sendall(_head(HEAD_BYTES + 1))
        answer = _answer(raw)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert f"larger than {HEAD_BYTES} bytes".encode() in answer
    _ordinary_request_is_answered(port)


def test_a_huge_head_is_refused_before_it_is_sent_whole(port):
    """The first megabyte of an endless header is answered 431 at once: the server does not
    wait for (or parse) the rest of it."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
        raw.sendall(_head(64 << 20)[: 1 << 20])
        answer = _answer(raw)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    _ordinary_request_is_answered(port)


def test_connections_that_never_finish_their_head_are_closed(port):
    stalled = []
    for index in range(50):
        raw = socket.create_connection(("127.0.0.1", port), timeout=HEAD_SECONDS * 6)
        if index % 2:
            raw.sendall(b"GET /components HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and no more
        stalled.append(raw)
    _ordinary_request_is_answered(port)  # others are answered meanwhile
    for raw in stalled:
        with raw:
            answer = _answer(raw)  # returns once the server closes the connection
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
