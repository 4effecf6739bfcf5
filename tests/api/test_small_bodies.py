"""Every route of the API but the two imports takes a small body: a request carrying one is
refused for its token before a byte of the body is read, and for its size as soon as it is
known (declared) or passes the limit (chunked). The routes are listed from the app itself, so
a new route is covered the day it is added."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from api.app import create_app
from api.small_bodies import SMALL_BODY_BYTES
from core.db import Database
from tests.api.conftest import SETTINGS
from tests.api.test_permissions import _credential

CHUNK = 4096
OVERSIZED = 1 << 20  # a megabyte: far past the limit, small enough to send whole if it is read
IMPORTS = {"/measurements/import", "/components/import"}
SIGN_IN = {"/auth/token", "/token"}
UNAUTHENTICATED = ("none", "garbage", "tampered", "expired", "wrongly signed", "unsigned")
AUTHENTICATED = ("manager", "user", "read token", "write token")


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every API route the app serves, included routers' too."""
    found: list[tuple[str, str]] = []
    pending: list[Any] = list(app.routes)
    while pending:
        route = pending.pop(0)
        included = getattr(route, "original_router", None)  # FastAPI's included router
        if included is not None:
            pending.extend(included.routes)
        elif isinstance(route, APIRoute):
            found.extend((method, route.path) for method in sorted(route.methods))
    return found


def _concrete(path: str) -> str:
    for parameter in ("{component_id}", "{report_id}"):
        path = path.replace(parameter, "1")
    return path.replace("{name:path}", "x").replace("{name}", "x")


class Client:
    """One ASGI request whose body is produced on demand, counting the bytes the app took."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def send(
        self, method: str, path: str, headers: dict[str, str], *, declared: int | None
    ) -> tuple[int, dict[str, str], bytes, int]:
        """``declared``: a Content-Length; ``None``: a chunked body of ``OVERSIZED`` bytes.
        Answers the status, headers, body and how many body bytes the app received."""
        taken = 0
        total = OVERSIZED if declared is None else declared
        answer: dict[str, Any] = {"body": b""}

        async def receive() -> dict[str, Any]:
            nonlocal taken
            if taken >= total:
                return {"type": "http.disconnect"}
            chunk = b"x" * min(CHUNK, total - taken)
            taken += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": taken < total}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")

        raw = [(b"host", b"testserver"), (b"content-type", b"application/json")]
        raw += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        if declared is None:
            raw.append((b"transfer-encoding", b"chunked"))
        else:
            raw.append((b"content-length", str(declared).encode()))
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1),
            "server": ("testserver", 80), "state": {}, "headers": raw,
        }  # fmt: skip
        asyncio.run(self.app(scope, receive, send))
        return answer["status"], answer["headers"], answer["body"], taken


@pytest.fixture
def app(people: Database) -> FastAPI:
    return create_app(people, settings=SETTINGS, run_reports=False)


def test_the_routes_are_listed_from_the_app(app):
    routes = _routes(app)
    assert {path for _method, path in routes} >= IMPORTS | SIGN_IN | {"/components", "/reports"}
    assert ("PUT", "/components/{component_id}") in routes and len(routes) >= 15


@pytest.mark.parametrize("kind", UNAUTHENTICATED)
@pytest.mark.parametrize("declared", [OVERSIZED, 100, None], ids=["large", "small", "chunked"])
def test_a_body_without_a_good_token_is_refused_before_it_is_read(
    kind, declared, app, client, people, world
):
    headers = _credential(kind, client, people, world)
    requester = Client(app)
    for method, path in _routes(app):
        if path in IMPORTS:
            continue
        status, answered, body, taken = requester.send(
            method, _concrete(path), headers, declared=declared
        )
        if path in SIGN_IN:  # signing in needs no token: only the size is refused
            if declared == 100:
                continue
            assert status == 413, (method, path, body)
            assert taken <= SMALL_BODY_BYTES + CHUNK, (method, path)
            continue
        assert (status, taken) == (401, 0), (method, path, kind, body)
        assert answered["www-authenticate"] == "Bearer"
        assert answered["connection"] == "close"


@pytest.mark.parametrize("kind", AUTHENTICATED)
@pytest.mark.parametrize("declared", [OVERSIZED, None], ids=["large", "chunked"])
def test_a_body_past_the_limit_is_refused_as_it_arrives_and_says_where_bulk_data_goes(
    kind, declared, app, client, people, world
):
    headers = _credential(kind, client, people, world)
    requester = Client(app)
    for method, path in _routes(app):
        if path in IMPORTS:
            continue
        status, answered, body, taken = requester.send(
            method, _concrete(path), headers, declared=declared
        )
        assert status == 413, (method, path, kind, body)
        # A declared length is refused before any byte; a chunked body once past the limit.
        assert taken == 0 if declared else taken <= SMALL_BODY_BYTES + CHUNK, (method, path)
        assert answered["connection"] == "close"
        detail = (
            "the body is larger than 16384 bytes, the most this route takes: send bulk data as "
            "a file to POST /measurements/import or POST /components/import"
        )
        # Every refusal's shape; /b answers its reference's bodies.
        shaped: dict[str, object] = {"detail": detail}
        if not path.startswith("/b/"):
            shaped["problems"] = []
        assert json.loads(body) == shaped, (method, path)


def test_a_body_at_the_limit_is_still_read(client, world, manager_headers):
    reading = json.dumps(
        {"component_id": world.component, "measurement_type": "power", "value": 1.5}
    )
    padded = reading + " " * (SMALL_BODY_BYTES - len(reading))
    for params in (None, {"overwrite": "false"}):  # the short path and the route
        answer = client.post(
            "/measurements", content=padded, params=params,
            headers=manager_headers | {"Content-Type": "application/json"},
        )  # fmt: skip
        assert answer.status_code in (201, 409), answer.text
    over = client.post(
        "/measurements", content=padded + " ",
        headers=manager_headers | {"Content-Type": "application/json"},
    )  # fmt: skip
    assert over.status_code == 413
