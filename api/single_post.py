"""``POST /measurements`` answered without FastAPI's routing when the request is an ordinary
one; anything else is handed, body included, to the app. See docs/architecture.md#single-posts."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from starlette.datastructures import State
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api import errors
from api.deps import Caller, bearer_token, caller_of
from api.routers.measurements import created, write_one
from api.schemas import MeasurementCreate
from api.small_bodies import SMALL_BODY_BYTES, replay
from core.db import Database
from core.errors import BusyDatabase, GridBoardError
from core.measurements.measurements import AddedMeasurement

log = logging.getLogger(__name__)

JSON_TYPE = b"application/json"
ACTION = "add measurements"


class SinglePosts:
    """ASGI middleware in front of the API. A ``POST /measurements`` with no query string, a
    JSON body of at most ``SMALL_BODY_BYTES`` with a declared length, and a bearer token
    that ``caller_of`` lets through (checked before the body is read, as the route's
    dependency does) is read; if it is a valid ``MeasurementCreate``, its caller is read and
    it is written exactly as the route does (the route's own write), and answered 201 or
    with the route's error answer. Every other request, including a body that does not parse or
    validate, goes through the app unchanged, so its answers and their order are the app's."""

    def __init__(self, app: ASGIApp, *, api: FastAPI) -> None:
        self.app, self.state = app, api.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != "/measurements"
            or scope["query_string"]
        ):
            await self.app(scope, receive, send)
            return
        authorization, length = _ordinary(scope["headers"])
        caller = None if length is None else _checked(self.state, authorization)
        if caller is None:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        wanted = _measurement(body)
        if wanted is None:
            await self.app(scope, replay(body, receive), send)
            return
        await _answer(self.state, scope, receive, send, caller, wanted)


def _ordinary(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, int | None]:
    """The Authorization header and the declared length, or ``None`` for either when the
    request is not one this path answers (no bearer token, not JSON, no or a large length)."""
    authorization: str | None = None
    length: int | None = None
    is_json = False
    for name, value in headers:
        if name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"content-type":
            is_json = value.split(b";", 1)[0].strip().lower() == JSON_TYPE
        elif name == b"content-length":
            length = int(value) if value.isdigit() and int(value) <= SMALL_BODY_BYTES else None
        elif name == b"transfer-encoding":
            return None, None
    if not is_json:
        return None, None
    return authorization, length


def _checked(state: State, authorization: str | None) -> Caller | None:
    """The caller, if the token passes what the route's dependency checks before a body is
    read (else ``None``: the app answers its 401, no body read)."""
    try:
        return caller_of(bearer_token(authorization), state.signing_key, ACTION)
    except GridBoardError:
        return None


def _measurement(body: bytes) -> MeasurementCreate | None:
    """The body as the route would read it (``json.loads``, then the model), or ``None``: a
    body the app would refuse, however it refuses it (bad JSON 422, JSON nested too deep
    for the parser 400, not valid 422), is left for the app to answer."""
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        return MeasurementCreate.model_validate(data)
    except ValidationError:
        return None


async def _write(database: Database, caller: Caller, wanted: MeasurementCreate) -> AddedMeasurement:
    """``write_one``: on SQLite first on the event loop itself if the write lock is free (a
    post's write is CPU work in this process; handing it to a thread and back cost about as
    much again), else, and on PostgreSQL, in the thread pool, which waits for the lock. Then
    a feed's token use is noted, whether the measurement was taken or refused."""
    try:
        if database.writes_at_once:
            try:
                return write_one(database, caller, wanted, False, at_once=True)
            except BusyDatabase:  # another writer holds the lock: nothing was read or written
                pass
        return await run_in_threadpool(write_one, database, caller, wanted, False)
    finally:
        await caller.note_use(database)


async def _answer(
    state: State, scope: Scope, receive: Receive, send: Send, caller: Caller,
    wanted: MeasurementCreate,
) -> None:  # fmt: skip
    database = state.database
    response: Response
    try:
        # The body is valid already, so the answers are the route's: the caller is read in
        # the write's own transaction, a token not honoured is 401, a caller who may not
        # add measurements 403.
        response = created(await _write(database, caller, wanted))
    except GridBoardError as error:
        response = errors.answer(error)
    except Exception as error:
        response = errors.unexpected("POST", "/measurements", error)
    await response(scope, receive, send)
