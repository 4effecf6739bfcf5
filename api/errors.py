"""Domain errors as HTTP answers: ``{"detail": message}`` with the dashboard's message.
See docs/reference.md#the-http-api."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from core.errors import (
    AuthenticationFailure,
    BusyDatabase,
    ConfigurationError,
    ConflictingWrite,
    DatabaseFailure,
    DatabaseFileChange,
    DuplicateComponent,
    DuplicateMeasurement,
    DuplicateUser,
    FullDisk,
    GridBoardError,
    ImportRejection,
    InvalidInput,
    LastManager,
    MissingPermission,
    ScopeRefusal,
    SignInLockout,
    SubstationInUse,
    TokenRefusal,
    UnavailableDatabase,
    UnknownReference,
    UnreadableFile,
    UnstorableValue,
)
from core.models import utc_now
from core.reports.jobs import UncancellableReport, UnfinishedReport

log = logging.getLogger(__name__)

BEARER = {"WWW-Authenticate": "Bearer"}

# The answers the OpenAPI document names on many routes, each worded once.
Answers = dict[int | str, dict[str, Any]]
NO_TOKEN: Answers = {401: {"description": "no token, or one that is not honoured"}}
NOT_A_MANAGER: Answers = {403: {"description": "only a manager may do that"}}
BROKEN_RULE: Answers = {422: {"description": "a field breaks a rule; every problem is listed"}}

STATUS: tuple[tuple[type[GridBoardError], int], ...] = (
    (TokenRefusal, 401),
    (AuthenticationFailure, 401),
    (MissingPermission, 403),
    (ScopeRefusal, 403),
    (UnknownReference, 404),
    (DuplicateComponent, 409),
    (SubstationInUse, 409),
    (DuplicateMeasurement, 409),
    (DuplicateUser, 409),
    (LastManager, 409),
    (UnfinishedReport, 409),
    (UncancellableReport, 409),
    (ImportRejection, 422),
    (InvalidInput, 422),
    (UnreadableFile, 400),
    (SignInLockout, 429),
    (ConflictingWrite, 409),
    (UnstorableValue, 422),
    # The server's conditions, never the request's (a feed keeps a request answered 5xx and
    # sends it again): VanishedReference, a subclass, is 404 above.
    (BusyDatabase, 503),
    (FullDisk, 503),
    (UnavailableDatabase, 503),
    (DatabaseFailure, 503),
    (DatabaseFileChange, 503),
    (ConfigurationError, 503),
)
# Seconds a client waits before sending a request answered 503 again: a busy database frees
# in a moment; a lost, full or replaced one needs someone to act.
RETRY_BUSY = 1
RETRY_UNAVAILABLE = 30


def status_of(error: GridBoardError) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 400


def body_of(error: GridBoardError) -> dict[str, Any]:
    """The answer's body: the message, and the problems a person would fix one by one."""
    body: dict[str, Any] = {"detail": str(error)}
    if isinstance(error, InvalidInput):
        body["problems"] = [{"field": p.field, "reason": p.reason} for p in error.problems]
    elif isinstance(error, ImportRejection):
        body["detail"] = str(error).split("\n", 1)[0]  # the count; the lines are below
        body["problems"] = [
            {"line": p.line, "column": p.column, "reason": p.reason} for p in error.shown
        ]
        body["problems_total"] = error.total
    return body


def headers_of(error: GridBoardError) -> dict[str, str]:
    if isinstance(error, TokenRefusal | AuthenticationFailure):
        return dict(BEARER)
    if isinstance(error, SignInLockout):
        wait = max(1, int((error.until - utc_now()).total_seconds()) + 1)
        return {"Retry-After": str(wait)}
    if isinstance(error, BusyDatabase):
        return {"Retry-After": str(RETRY_BUSY)}
    if status_of(error) == 503:
        return {"Retry-After": str(RETRY_UNAVAILABLE)}
    return {}


def answer(error: GridBoardError) -> JSONResponse:
    return JSONResponse(body_of(error), status_code=status_of(error), headers=headers_of(error))


def install(app: FastAPI) -> None:
    async def domain_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, GridBoardError)
        return answer(error)

    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        return unexpected(request.method, request.url.path, error)

    async def invalid_request(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return JSONResponse({"detail": json_safe(jsonable_encoder(error.errors()))}, 422)

    app.add_exception_handler(GridBoardError, domain_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, unexpected_error)


def json_safe(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """FastAPI's errors with each ``input`` JSON cannot write (NaN or an infinity, alone or
    inside) as its text: FastAPI's own answer to a body of ``Infinity`` fails with a 500."""
    safe = []
    for error in errors:
        try:
            json.dumps(error.get("input"), allow_nan=False)
        except ValueError:
            error = error | {"input": repr(error["input"])}
        safe.append(error)
    return safe


def unexpected(method: str, path: str, error: Exception) -> JSONResponse:
    """A 500 that names no internals; the error and its traceback go to the log."""
    log.error("unexpected error in %s %s", method, path, exc_info=error)
    return JSONResponse({"detail": "internal error: see the server log"}, status_code=500)
