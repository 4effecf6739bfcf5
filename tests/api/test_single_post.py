"""``POST /measurements`` as a feed sends it (no query string, a small JSON body) is answered
by a shorter path in front of FastAPI's routing. Every answer it gives must be the one the
route gives for the same request: the route is reached with ``?overwrite=false``, which the
short path leaves to the app, and each pair of answers is compared."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import delete, func, select

import api.single_post
from api.app import create_app
from core.access.api_tokens import list_api_tokens
from core.db import Database
from core.errors import BusyDatabase
from core.models import ApiToken, Measurement
from tests.api.conftest import SETTINGS
from tests.api.test_permissions import READERS, REFUSED, WRITERS, _credential
from tests.faults.test_locked_database import other_writer

ROUTE = {"overwrite": "false"}
REFUSED_BEFORE_THE_BODY = ("none", "expired", "tampered", "wrongly signed", "unsigned", "garbage")


def _reading(component_id: int, timestamp: str, **changes: Any) -> dict[str, Any]:
    return {
        "component_id": component_id,
        "timestamp": timestamp,
        "value": 110.25,
        "measurement_type": "Voltage",
        **changes,
    }


def _stored(database: Database) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(Measurement)) or 0


def _both(client: Any, people: Database, **request: Any) -> tuple[Any, Any]:
    """The same request answered by the short path and by the route; a measurement the
    first one wrote is removed before the second, so both see the same database."""
    short = client.post("/measurements", **request)
    if short.status_code == 201:
        with people.write() as session:
            session.execute(delete(Measurement).where(Measurement.id == short.json()["id"]))
    route = client.post("/measurements", params=ROUTE, **request)
    return short, route


def _same_answer(short: Any, route: Any) -> None:
    assert short.status_code == route.status_code, (short.text, route.text)
    assert short.headers["content-type"] == route.headers["content-type"]
    assert short.headers.get("www-authenticate") == route.headers.get("www-authenticate")
    short_body, route_body = short.json(), route.json()
    if short.status_code == 201:  # two rows, one after the other: each has its own id
        assert isinstance(short_body.pop("id"), int) and isinstance(route_body.pop("id"), int)
    assert short_body == route_body


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[object]]:
    """The callers the short path read (each in its write's own transaction) and the
    measurements it wrote (the route's own are not counted)."""
    seen: dict[str, list[object]] = {"checks": [], "writes": []}
    write = api.single_post.write_one

    def counted_write(database: Any, caller: Any, *args: Any, **options: Any) -> Any:
        seen["checks"].append(caller)
        stored = write(database, caller, *args, **options)
        seen["writes"].append(stored)
        return stored

    monkeypatch.setattr(api.single_post, "write_one", counted_write)
    return seen


@pytest.mark.parametrize("kind", REFUSED + READERS + WRITERS)
def test_every_caller_gets_the_routes_answer(kind, client, people, world, taken):
    headers = _credential(kind, client, people, world)
    before = _stored(people)
    short, route = _both(
        client, people, json=_reading(world.component, "2024-06-01T00:00:00Z"), headers=headers
    )
    _same_answer(short, route)
    assert _stored(people) == before + (1 if kind in WRITERS else 0)
    # A request without a token, or with one refused before its body is read (forged or
    # expired: the app answers its 401 unread), is the app's from the start; every other one
    # is answered by the short path, and a refused one writes nothing.
    assert len(taken["checks"]) == (0 if kind in REFUSED_BEFORE_THE_BODY else 1)
    assert len(taken["writes"]) == (1 if kind in WRITERS else 0)


@pytest.mark.parametrize(
    ("case", "change"),
    [
        ("unknown component", {"component_id": 999_999}),
        ("an id beyond any row", {"component_id": 2**62}),
        ("a value out of range", {"value": 1e300}),
        ("a voltage in volts on a 110 kV transformer", {"value": 110_000}),
    ],
)
def test_a_refused_measurement_gets_the_routes_error(
    case,
    change,
    client,
    people,
    world,
    manager_headers,
):
    body = _reading(world.component, "2024-06-01T00:00:00Z") | change
    before = _stored(people)
    short, route = _both(client, people, json=body, headers=manager_headers)
    assert short.status_code in (404, 422), (case, short.text)
    _same_answer(short, route)
    assert _stored(people) == before


def test_a_duplicate_gets_the_routes_409(client, people, world, manager_headers):
    body = _reading(world.component, "2024-06-01T00:00:00Z")
    assert client.post("/measurements", json=body, headers=manager_headers).status_code == 201
    short, route = _both(client, people, json=body, headers=manager_headers)
    assert short.status_code == 409
    assert "choose overwrite to replace it" in short.json()["detail"]
    _same_answer(short, route)


def test_a_feeds_token_is_noted_as_used_whether_its_measurement_is_taken_or_refused(
    client, people, world, taken
):
    """A feed's token is checked in its write's own transaction; its use is noted apart, so
    a refused measurement (one the component already has) still shows on the Users page."""

    def last_uses() -> dict[str, Any]:
        with people.read() as session:
            return {token.name: token.last_used_at for token in list_api_tokens(session=session)}

    assert last_uses()["write"] is None and last_uses()["read"] is None
    feed = {"Authorization": f"Bearer {world.write_token}"}
    stored = _reading(world.component, "2024-05-01T00:00:00Z", measurement_type="voltage")
    answer = client.post("/measurements", json=stored, headers=feed)
    assert answer.status_code == 409, answer.text
    assert last_uses()["write"] is not None
    # a read token is refused for the role (403) and noted as used too; nothing is written
    reader = {"Authorization": f"Bearer {world.read_token}"}
    answer = client.post(
        "/measurements", json=_reading(world.component, "2024-06-02T00:00:00Z"), headers=reader
    )
    assert answer.json()["detail"] == (
        "token:read (user) may not add measurements: only a manager may do that"
    )
    assert answer.status_code == 403
    assert last_uses()["read"] is not None
    assert taken["writes"] == [] and len(taken["checks"]) == 2
    answer = client.post(
        "/measurements", json=_reading(world.component, "2024-06-02T00:00:00Z"), headers=feed
    )
    assert answer.status_code == 201, answer.text
    assert len(taken["writes"]) == 1


def test_a_post_waits_for_another_writer_while_other_requests_are_answered(
    client, people, world, manager_headers, taken, monkeypatch
):
    """On SQLite a post is written on the event loop when the lock is free; when another
    writer (an import, the dashboard) holds it, the post waits in a thread and every other
    request is answered meanwhile. On PostgreSQL posts always wait in a thread."""
    url = people.engine.url.render_as_string(hide_password=False)
    before = _stored(people)
    answers: dict[str, Any] = {}
    waiting = threading.Event()
    to_thread = api.single_post.run_in_threadpool

    async def handed_to_a_thread(function: Any, *args: Any) -> Any:
        waiting.set()
        return await to_thread(function, *args)

    monkeypatch.setattr(api.single_post, "run_in_threadpool", handed_to_a_thread)
    with other_writer(url) as holder:
        released = threading.Event()

        def release() -> None:
            released.set()
            holder.rollback()

        guard = threading.Timer(5, release)  # if the post held up the loop, it ends after this
        guard.start()
        try:
            poster = threading.Thread(
                target=lambda: answers.update(
                    post=client.post(
                        "/measurements",
                        json=_reading(world.component, "2024-06-03T00:00:00Z"),
                        headers=manager_headers,
                    )
                )
            )
            poster.start()
            assert waiting.wait(timeout=30), "the post was not handed to a thread"
            for _ in range(3):
                assert client.get("/components", headers=manager_headers).status_code == 200
            assert not released.is_set(), "other requests waited for the post"
            assert poster.is_alive() and "post" not in answers
        finally:
            guard.cancel()
        release()
    poster.join(timeout=60)
    assert answers["post"].status_code == 201, answers["post"].text
    assert _stored(people) == before + 1
    assert len(taken["writes"]) == 1


@pytest.mark.parametrize("path", ["short", "route"])
def test_a_feeds_measurement_stands_when_noting_its_tokens_use_fails(
    path, client, people, world, monkeypatch, caplog
):
    """Noting a token's last use is a write of its own after the measurement's; if the
    database refuses it (busy past the timeout), the measurement is still answered 201, and
    the failure is logged for the next use to make good."""
    real_write = people.write

    @contextmanager
    def refuses_the_note() -> Iterator[Any]:
        with real_write() as session:
            yield session
            if any(isinstance(row, ApiToken) for row in session.identity_map.values()):
                raise BusyDatabase(10_000)

    monkeypatch.setattr(people, "write", refuses_the_note)
    feed = {"Authorization": f"Bearer {world.write_token}"}
    body = _reading(world.component, "2024-06-04T00:00:00Z")
    params = ROUTE if path == "route" else None
    before = _stored(people)
    with caplog.at_level(logging.WARNING, logger="gridboard.audit"):
        answer = client.post("/measurements", json=body, headers=feed, params=params)
    assert answer.status_code == 201, answer.text
    assert _stored(people) == before + 1
    with people.read() as session:
        assert list_api_tokens(session=session)[0].last_used_at is None  # left for next time
    assert any(
        record.message == "api_token.use" and "busy" in str(record.__dict__)
        for record in caplog.records
    )


def _body(timestamp: str, **changes: Any) -> str:
    return json.dumps(_reading(1, timestamp, **changes))


@pytest.mark.parametrize(
    ("case", "content", "content_type", "short_path"),
    [
        ("an unknown type", lambda t: _body(t, measurement_type="x"), None, True),
        ("a value that is not finite", lambda t: _body(t, value=float("nan")), None, True),
        ("a missing value", lambda t: '{"component_id": 1, "measurement_type": "power"}', None,
         False),
        ("a value that is text", lambda t: _body(t, value="12,5"), None, False),
        ("not JSON", lambda t: "{component_id: 1", None, False),
        ("a JSON array", lambda t: f"[{_body(t)}]", None, False),
        ("JSON sent as text", _body, "text/plain", False),
        ("a body over 16 KB", lambda t: _body(t) + " " * 20_000, None, False),
    ],
)  # fmt: skip
def test_any_other_body_gets_the_routes_answer(
    case,
    content,
    content_type,
    short_path,
    client,
    people,
    world,
    manager_headers,
    taken,
):
    headers = manager_headers | {"Content-Type": content_type or "application/json"}
    before = _stored(people)
    short, route = _both(client, people, content=content("2024-06-01Z"), headers=headers)
    _same_answer(short, route)
    assert _stored(people) == before + (1 if short.status_code == 201 else 0), case
    # What the short path could not read is left to the app from the start.
    assert len(taken["checks"]) == (1 if short_path else 0), case


def test_a_body_over_16_kb_is_refused_by_the_route_unread_and_nothing_is_written(
    client,
    people,
    world,
    manager_headers,
    taken,
):
    """Single values only: a larger body is the imports' (the answer says so)."""
    content = json.dumps(_reading(world.component, "2024-06-01T00:00:00Z")) + " " * 20_000
    headers = manager_headers | {"Content-Type": "application/json; charset=utf-8"}
    before = _stored(people)
    answer = client.post("/measurements", content=content, headers=headers)
    assert answer.status_code == 413, answer.text
    assert "POST /measurements/import" in answer.json()["detail"]
    assert taken == {"checks": [], "writes": []}
    assert _stored(people) == before


def test_a_charset_and_upper_case_media_type_take_the_short_path(
    client,
    people,
    world,
    manager_headers,
    taken,
):
    content = json.dumps(_reading(world.component, "2024-06-01T00:00:00Z"))
    headers = manager_headers | {"Content-Type": "Application/JSON; charset=utf-8"}
    answer = client.post("/measurements", content=content, headers=headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["timestamp"] == "2024-06-01T00:00:00Z"
    assert len(taken["writes"]) == 1


def test_an_unexpected_failure_is_a_500_that_names_no_internals(
    client,
    people,
    world,
    manager_headers,
    monkeypatch,
    caplog,
):
    def broken(*_args: Any) -> Any:
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr(api.single_post, "write_one", broken)
    answer = client.post(
        "/measurements", json=_reading(world.component, "2024-06-01Z"), headers=manager_headers
    )
    assert answer.status_code == 500
    assert answer.json() == {"detail": "internal error: see the server log", "problems": []}
    assert "secret-internal-detail" not in answer.text
    assert "unexpected error in POST /measurements" in caplog.text


def test_a_client_that_leaves_mid_body_gets_nothing_and_nothing_is_written(
    people,
    world,
    manager_headers,
):
    app = create_app(people, settings=SETTINGS, run_reports=False)
    sent: list[dict[str, Any]] = []
    before = _stored(people)

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    authorization = manager_headers["Authorization"].encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/measurements", "raw_path": b"/measurements",
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1),
        "server": ("testserver", 80), "state": {},
        "headers": [
            (b"host", b"testserver"), (b"authorization", authorization),
            (b"content-type", b"application/json"), (b"content-length", b"120"),
        ],
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))
    assert sent == []
    assert _stored(people) == before
