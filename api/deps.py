"""What routes depend on: the database, a read session, and who is calling; ``async``, with only
the blocking work in the thread pool. See docs/architecture.md#the-http-apis-dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.orm import Session

from core.access.api_tokens import (
    ApiTokenRecord,
    honoured_token,
    is_machine_token,
    note_token_use,
    read_machine_token,
    token_use_due,
)
from core.access.sign_in_tokens import SignInClaims, read_sign_in_token, sign_in_claims
from core.db import Database
from core.domain import Actor, Role, require_manager
from core.errors import TokenRefusal
from core.models import utc_now

_T = TypeVar("_T")

bearer = OAuth2PasswordBearer(
    tokenUrl="auth/token",
    scopes={
        "user": "Read components, measurements and reports.",
        "manager": "Also change components, add measurements, generate and cancel reports.",
    },
    auto_error=False,
)


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]


async def read_session(database: DatabaseDep) -> AsyncIterator[Session]:
    """A session for reading, closed (rolled back) after the route. Making one connects to
    nothing yet; closing one that holds a connection talks to the database, so that runs in
    the thread pool (a route that never read closes it on the spot)."""
    opened = database.read()
    session = opened.__enter__()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(opened.__exit__, None, None, None)
        else:
            opened.__exit__(None, None, None)


SessionDep = Annotated[Session, Depends(read_session)]


def _require_token(token: str | None) -> str:
    if not token:
        raise TokenRefusal(
            "not signed in: send 'Authorization: Bearer TOKEN' (a token from POST /auth/token "
            "or an API token)"
        )
    return token


def check_before_body(authorization: str | None, key: bytes) -> None:
    """What is checked of a request's token before a byte of its body is read: there is a
    bearer token, and a sign-in token is signed with ``key`` and unexpired (no database). A
    machine token is read by the route itself, in its own transaction; a refusal is
    ``TokenRefusal`` (401)."""
    scheme, token = get_authorization_scheme_param(authorization)
    token = _require_token(token if scheme.lower() == "bearer" else None)
    if not is_machine_token(token):
        sign_in_claims(token, key=key)


async def _actor(
    request: Request, database: Database, session: Session, token: str | None, *, writes: bool
) -> Actor:
    token = _require_token(token)
    if is_machine_token(token):
        return await run_in_threadpool(read_machine_token, database, token)
    key: bytes = request.app.state.signing_key
    check = partial(_read_sign_in_token, token, session=session, key=key, end_read=writes)
    return await run_in_threadpool(check)


def _read_sign_in_token(token: str, *, session: Session, key: bytes, end_read: bool) -> Actor:
    """The check reads the user in the route's own read session (one connection, not two).
    Before a route that writes, it ends that read: on SQLite a snapshot held open while the
    route commits keeps every commit from resetting the write-ahead log, and each commit
    then pays for a partial checkpoint (several times the cost of the write itself)."""
    try:
        return read_sign_in_token(token, session=session, key=key)
    finally:
        if end_read:
            session.rollback()


async def current_actor(
    request: Request,
    database: DatabaseDep,
    session: SessionDep,
    token: Annotated[str | None, Depends(bearer)],
) -> Actor:
    """Who the bearer token acts for: a person's sign-in token or a machine's named token."""
    return await _actor(request, database, session, token, writes=False)


async def writing_actor(
    request: Request,
    database: DatabaseDep,
    session: SessionDep,
    token: Annotated[str | None, Depends(bearer)],
) -> Actor:
    """``current_actor`` for a route that writes: the check's read has ended when it runs."""
    return await _actor(request, database, session, token, writes=True)


CurrentActor = Annotated[Actor, Depends(current_actor)]
WritingActor = Annotated[Actor, Depends(writing_actor)]


def manager(action: str) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency: the caller, who must be a manager to ``action`` (the services check
    again; checking first answers 403 before a body is even looked at)."""

    async def dependency(actor: WritingActor) -> Actor:
        require_manager(actor, action)
        return actor

    return dependency


class Caller:
    """Who calls a route that does its whole work in one thread-pool call: a machine token's
    actor (already read), a sign-in token's checked claims whose user ``actor`` reads in the
    route's own write session (one handoff, one connection, one transaction), or a machine
    token that ``actor`` reads in that session too (``note_use`` after the write notes its
    use, whether the write succeeded or not)."""

    __slots__ = ("_actor", "_claims", "_token", "_used")

    def __init__(
        self,
        *,
        actor: Actor | None = None,
        claims: SignInClaims | None = None,
        machine_token: str | None = None,
    ) -> None:
        self._actor, self._claims, self._token = actor, claims, machine_token
        self._used: tuple[ApiTokenRecord, datetime] | None = None

    def actor(self, session: Session) -> Actor:
        if self._actor is not None:
            return self._actor
        if self._token is not None:
            moment = utc_now()
            record = honoured_token(session, self._token, moment)
            self._used = record, moment
            return record.actor
        assert self._claims is not None
        return self._claims.actor(session)

    async def note_use(self, database: Database) -> None:
        """Notes the use of a machine token that ``actor`` read, in the thread pool, when it
        is due (once a minute for a feed's token): nothing to do, no handoff, otherwise."""
        if self._used is not None and token_use_due(*self._used):
            await run_in_threadpool(note_token_use, database, *self._used)


def manager_caller(action: str) -> Callable[..., Awaitable[Caller]]:
    """``manager(action)`` for a route that reads the caller's user itself, in its write.
    No token, a forged or expired one, a user's or a read token: 401 or 403 here, before
    the body is looked at, as ``manager``; a user-scoped sign-in token reads its user first
    (401 if it has ended). A manager's sign-in token is only checked against its user by the
    route, so an ended one with a bad body gets the body's 422 before its 401."""

    async def dependency(
        request: Request,
        database: DatabaseDep,
        token: Annotated[str | None, Depends(bearer)],
    ) -> Caller:
        return await caller_of(token, database, request.app.state.signing_key, action)

    return dependency


async def caller_of(token: str | None, database: Database, key: bytes, action: str) -> Caller:
    """What ``manager_caller(action)`` checks, for ``token`` (the part after ``Bearer``)."""
    token = _require_token(token)
    if is_machine_token(token):
        return await run_in_threadpool(machine_caller, database, token, action)
    claims = sign_in_claims(token, key=key)
    if claims.role is not Role.MANAGER:  # refused: 401 if the user is gone, else 403
        actor = await run_in_threadpool(_claims_actor, database, claims)
        require_manager(actor, action)
    return Caller(claims=claims)


def machine_caller(database: Database, token: str, action: str) -> Caller:
    """A machine token's caller, who must be a manager to ``action`` (blocking: reads the
    token, and notes its use)."""
    actor = read_machine_token(database, token)
    require_manager(actor, action)
    return Caller(actor=actor)


def _claims_actor(database: Database, claims: SignInClaims) -> Actor:
    with database.read() as session:
        return claims.actor(session)


async def reading_caller(request: Request, token: Annotated[str | None, Depends(bearer)]) -> Caller:
    """The caller of a read route that does its whole work in one thread-pool call
    (``read_as``). No token, a forged or expired sign-in token: 401 here, before the query is
    looked at; the token's user, or a machine token, is read in the route's own session, so
    an ended one with a bad query gets the query's 422 before its 401."""
    token = _require_token(token)
    if is_machine_token(token):
        return Caller(machine_token=token)
    return Caller(claims=sign_in_claims(token, key=request.app.state.signing_key))


ReadingCaller = Annotated[Caller, Depends(reading_caller)]


async def read_as(database: Database, caller: Caller, work: Callable[[Session], _T]) -> _T:
    """``work(session)`` in one read session that first reads the caller (any role): one
    thread-pool call and one connection, where a route with ``CurrentActor`` and
    ``SessionDep`` hands off three times. A machine token's use is noted afterwards."""

    def run() -> _T:
        with database.read() as session:
            caller.actor(session)
            return work(session)

    try:
        return await run_in_threadpool(run)
    finally:
        await caller.note_use(database)
