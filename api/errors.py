"""Every refusal as an HTTP answer of one shape: ``{"detail": sentence, "problems": [...]}``, a
domain error with the dashboard's message, a request FastAPI could not read and a route that does
not exist alike (``/b`` keeps the reference's bodies). See docs/reference.md#the-http-api."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from core.alarms.states import IllegalTransition
from core.counts import format_count
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
    InvalidInput,
    LastManager,
    MissingPermission,
    ScopeRefusal,
    SignInLockout,
    SubstationInUse,
    TokenRefusal,
    UnavailableDatabase,
    UnknownReference,
    UnstorableValue,
)
from core.import_errors import ImportRejection, UnreadableFile
from core.models import utc_now
from core.reports.jobs import UncancellableReport, UnfinishedReport

log = logging.getLogger(__name__)

BEARER = {"WWW-Authenticate": "Bearer"}
# The reference service's contract (api.reference) answers its clients' bodies, not ours.
REFERENCE_PREFIX = "/b"
# How many of a refused request's problems its ``detail`` sentence names (all are listed).
NAMED_PROBLEMS = 3

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
    (IllegalTransition, 409),
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


def refusal(detail: str, problems: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Every refusal's body: a sentence saying what is wrong and how to go on, and the
    problems a person would fix one by one (none when the whole request is refused)."""
    return {"detail": detail, "problems": problems or []}


def under_reference(path: str) -> bool:
    return path == REFERENCE_PREFIX or path.startswith(REFERENCE_PREFIX + "/")


def body_of(error: GridBoardError, path: str = "") -> dict[str, Any]:
    """The answer's body: the message, and the problems a person would fix one by one."""
    if under_reference(path):
        return {"detail": str(error)}
    if isinstance(error, InvalidInput):
        return refusal(str(error), [{"field": p.field, "reason": p.reason} for p in error.problems])
    if isinstance(error, ImportRejection):
        body = refusal(
            str(error).split("\n", 1)[0],  # the count; the lines are below
            [{"line": p.line, "column": p.column, "reason": p.reason} for p in error.shown],
        )
        body["problems_total"] = error.total
        return body
    return refusal(str(error))


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


def answer(error: GridBoardError, path: str = "") -> JSONResponse:
    """The refusal of a request to ``path`` (the reference's body under ``/b``)."""
    return JSONResponse(
        body_of(error, path), status_code=status_of(error), headers=headers_of(error)
    )


def invalid_request_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """FastAPI's list of what it could not read, as every refusal reads: one problem per
    field (``body.value``, ``query.limit``), its reason, and a sentence naming the first."""
    problems = [_problem(error) for error in errors]
    named = "; ".join(f"{p['field']}: {p['reason']}" for p in problems[:NAMED_PROBLEMS])
    rest = len(problems) - NAMED_PROBLEMS
    more = f" (and {format_count(rest, 'more problem')})" if rest > 0 else ""
    return refusal(
        f"the request has {format_count(len(problems), 'problem')}: {named}{more}", problems
    )


def _problem(error: dict[str, Any]) -> dict[str, Any]:
    where = [str(part) for part in error.get("loc", ())]
    reason = str(error.get("msg", "is not valid"))
    if error.get("type") == "json_invalid":  # the place is a character offset, not a field
        found = (error.get("ctx") or {}).get("error")
        at = f" at character {where[1]}" if len(where) > 1 else ""
        return {"field": "body", "reason": f"{reason}{at}" + (f": {found}" if found else "")}
    return {"field": ".".join(where) or "request", "reason": reason}


def install(app: FastAPI) -> None:
    async def domain_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, GridBoardError)
        return answer(error, request.url.path)

    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        return unexpected(request.method, request.url.path, error)

    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = json_safe(jsonable_encoder(error.errors()))
        if under_reference(request.url.path):
            return JSONResponse({"detail": errors}, 422)
        return JSONResponse(invalid_request_body(errors), 422)

    async def http_refusal(request: Request, error: Exception) -> JSONResponse:
        """Starlette's own refusals (no such route 404, a method it does not take 405)."""
        assert isinstance(error, HTTPException)
        detail = str(error.detail)
        if under_reference(request.url.path):
            return JSONResponse({"detail": detail}, error.status_code, error.headers)
        if error.status_code == 404 and detail == "Not Found":
            detail = f"{request.url.path} is not a route of this API: see /docs for the routes"
        elif error.status_code == 405:
            allowed = (error.headers or {}).get("Allow", "")
            detail = f"{request.method} is not taken by {request.url.path}: it takes {allowed}"
        return JSONResponse(refusal(detail), error.status_code, error.headers)

    app.add_exception_handler(GridBoardError, domain_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_refusal)
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
    return JSONResponse(refusal("internal error: see the server log"), status_code=500)
