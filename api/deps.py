"""What routes depend on: the database, a read session, and who is calling (``reader`` and
``manager(action)``, in a stated order); ``async``, with only the blocking work in the thread
pool. See docs/architecture.md#the-http-apis-dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
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
    token_use_due,
)
from core.access.sign_in_tokens import SignInClaims, sign_in_claims
from core.db import Database
from core.domain import Actor, require_manager
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


class Caller:
    """Who calls, as far as the token tells without the database (``caller_of`` checked
    that); ``actor`` reads the rest in the route's own session: the token's user (or the
    machine token) still honoured, then the role ``action`` needs, if any."""

    __slots__ = ("_action", "_claims", "_token", "_used")

    def __init__(
        self,
        *,
        claims: SignInClaims | None = None,
        machine_token: str | None = None,
        action: str | None = None,
    ) -> None:
        self._claims, self._token, self._action = claims, machine_token, action
        self._used: tuple[ApiTokenRecord, datetime] | None = None

    def actor(self, session: Session) -> Actor:
        """The caller's actor, read in ``session`` (blocking): ``TokenRefusal`` (401) for a
        user or grant that has ended, then ``MissingPermission`` (403) for a caller who may
        not ``action``."""
        if self._token is not None:
            moment = utc_now()
            record = honoured_token(session, self._token, moment)
            self._used = record, moment
            actor = record.actor
        else:
            assert self._claims is not None
            actor = self._claims.actor(session)
        if self._action is not None:
            require_manager(actor, self._action)
        return actor

    def actor_of(self, database: Database) -> Actor:
        """``actor`` in a read session of its own (blocking), for a route that has none."""
        with database.read() as session:
            return self.actor(session)

    async def read(self, database: Database, work: Callable[[Session], _T]) -> _T:
        """``work(session)`` in one read session that first reads the caller: one
        thread-pool call and one connection."""

        def run() -> _T:
            with database.read() as session:
                self.actor(session)
                return work(session)

        return await run_in_threadpool(run)

    async def note_use(self, database: Database) -> None:
        """Notes the use of a machine token that ``actor`` read, in the thread pool, when it
        is due (once a minute for a feed's token): nothing to do, no handoff, otherwise."""
        used, self._used = self._used, None
        if used is not None and token_use_due(*used):
            await run_in_threadpool(note_token_use, database, *used)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, or ``None``."""
    scheme, token = get_authorization_scheme_param(authorization)
    return token if scheme.lower() == "bearer" and token else None


def caller_of(token: str | None, key: bytes, action: str | None = None) -> Caller:
    """The caller of ``token`` (the part after ``Bearer``), checked without the database:
    ``TokenRefusal`` (401) if it is missing, or a sign-in token not signed with ``key`` or
    expired. A machine token is only read by ``Caller.actor``."""
    if not token:
        raise TokenRefusal(
            "not signed in: send 'Authorization: Bearer TOKEN' (a token from POST /auth/token "
            "or an API token)"
        )
    if is_machine_token(token):
        return Caller(machine_token=token, action=action)
    return Caller(claims=sign_in_claims(token, key=key), action=action)


def check_before_body(authorization: str | None, key: bytes) -> None:
    """What is checked of a request's token before a byte of its body is read: ``caller_of``
    (no database); a refusal is ``TokenRefusal`` (401)."""
    caller_of(bearer_token(authorization), key)


async def reader(
    request: Request, database: DatabaseDep, token: Annotated[str | None, Depends(bearer)]
) -> AsyncIterator[Caller]:
    """Who calls a route; with ``manager(action)``, the only way a route gets its caller.
    The order of refusals, the same on every route:

    1. what needs no database, here: no token, or a sign-in token malformed, badly signed or
       expired, 401 (on a route with a body, before a byte of it is read:
       ``check_before_body``);
    2. the request's own validation: a bad path, query or body, 422;
    3. what needs the database, in the route's own session (``Caller.actor``): a user or
       machine token whose grant has ended, 401; then a caller without the role the route
       needs (a user, a read token), 403.

    A machine token's use is noted after the route."""
    caller = caller_of(token, request.app.state.signing_key)
    try:
        yield caller
    finally:
        await caller.note_use(database)


Reader = Annotated[Caller, Depends(reader)]


def manager(action: str) -> Callable[..., AsyncIterator[Caller]]:
    """``reader`` for a route that only a manager (or a write token) may use to ``action``:
    the same order of refusals; its ``Caller.actor`` refuses anyone else (403)."""

    async def dependency(
        request: Request, database: DatabaseDep, token: Annotated[str | None, Depends(bearer)]
    ) -> AsyncIterator[Caller]:
        caller = caller_of(token, request.app.state.signing_key, action)
        try:
            yield caller
        finally:
            await caller.note_use(database)

    return dependency
