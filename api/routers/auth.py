"""Signing in: the OAuth2 password flow over the dashboard's own check (``core.access.auth``).
See docs/reference.md#the-http-api."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from anyio import CapacityLimiter, sleep, to_thread
from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import DatabaseDep, Reader
from api.schemas import Me, Token
from api.small_bodies import SmallBodyRoute
from core.access.auth import SignInOutcome, check_sign_in
from core.access.sign_in_tokens import SignInToken, granted_role, issue_sign_in_token
from core.access.users import UserRecord
from core.db import Database
from core.domain import Role
from core.errors import AuthenticationFailure

router = APIRouter(tags=["auth"], route_class=SmallBodyRoute)

# Threads that check passwords (bcrypt, about a quarter second of CPU each): sign-ins wait for
# one of these, never for the thread pool's, which serves every other route.
SIGN_IN_THREADS = 2


def sign_in_limiter() -> CapacityLimiter:
    """The sign-in threads of one app (made in its event loop, at start)."""
    return CapacityLimiter(SIGN_IN_THREADS)


CREDENTIALS_401: dict[int | str, dict[str, Any]] = {
    401: {"description": "unknown username or wrong password"}
}
ANSWERS: dict[int | str, dict[str, Any]] = {
    **CREDENTIALS_401,
    403: {"description": "a user asked for a manager token, or an unknown scope"},
    422: {"description": "a missing field"},
    429: {"description": "too many failed sign-ins for this name: locked for a while"},
}


# The OAuth2 password flow's form fields, here and under /b (its scope words differ).
UsernameForm = Annotated[str, Form(examples=["mona"])]
PasswordForm = Annotated[
    str, Form(examples=["a-good-pass-42"], json_schema_extra={"format": "password"})
]


async def _token(
    request: Request,
    database: DatabaseDep,
    username: UsernameForm,
    password: PasswordForm,
    scope: Annotated[
        str,
        Form(
            description="optional: 'user' or 'manager' (space-separated, any case); left out, "
            "the user's own role",
            examples=["manager"],
        ),
    ] = "",
) -> Token:
    user = await signed_in_user(request, database, username=username, password=password)
    issued = sign_in_token(request, user, granted_role(user, scope.split()))
    return Token(access_token=issued.token, expires_in=issued.expires_in, scope=issued.scope)


async def signed_in_user(
    request: Request, database: Database, *, username: str, password: str
) -> UserRecord:
    """The user whose password this is, after the dashboard's lockout and slow-down."""
    # The check (bcrypt) runs on the sign-in threads only, and the slow-down is waited for
    # on the event loop: a flood of sign-ins queues on its own and never holds the threads
    # that serve readers (see docs/architecture.md#the-http-apis-dependencies).
    check = partial(_check, database, username=username, password=password)
    outcome = await to_thread.run_sync(check, limiter=request.app.state.sign_in_limiter)
    await sleep(outcome.delay)
    return outcome.settle()


def sign_in_token(request: Request, user: UserRecord, role: Role) -> SignInToken:
    return issue_sign_in_token(
        user,
        role=role,
        key=request.app.state.signing_key,
        minutes=request.app.state.settings.api_token_minutes,
    )


def _check(database: Database, *, username: str, password: str) -> SignInOutcome:
    try:
        return check_sign_in(database, username=username, password=password)
    except ValueError:  # bcrypt refuses passwords over 72 bytes: no password can be one
        return SignInOutcome(None, AuthenticationFailure(), 0.0)


router.post(
    "/auth/token",
    response_model=Token,
    responses=ANSWERS,
    summary="Sign in (OAuth2 password flow)",
    description="Form fields `username`, `password` and optional `scope`. The same users, "
    "passwords, lockout and slow-down as the dashboard.",
)(_token)
router.post("/token", response_model=Token, responses=ANSWERS, include_in_schema=False)(_token)


async def _me(caller: Reader, database: DatabaseDep) -> Me:
    actor = await run_in_threadpool(caller.actor_of, database)
    return Me(
        username=actor.username,
        role=actor.role.value,
        manager=actor.role is Role.MANAGER,
        kind="token" if actor.username.startswith("token:") else "user",
    )


router.get("/auth/users/me", response_model=Me, responses=CREDENTIALS_401)(_me)
router.get("/auth/users/me/", response_model=Me, include_in_schema=False)(_me)
