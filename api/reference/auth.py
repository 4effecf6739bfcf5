"""``/b/auth``: the reference's sign-in (a ``user`` token unless ``manager`` is asked for) and
its ``users/me/``, over GridBoard's users, lockout and slow-down.
See docs/reference.md#moving-from-the-reference-service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from api.deps import DatabaseDep, Reader, SessionDep
from api.reference.route import ReferenceRoute
from api.reference.schemas import OAUTH2_KIND, Token, User
from api.routers.auth import (
    ANSWERS,
    PasswordForm,
    UsernameForm,
    sign_in_token,
    signed_in_user,
)
from core.access.sign_in_tokens import granted_role
from core.access.users import get_user
from core.domain import Role
from core.errors import MissingPermission, UnknownReference

router = APIRouter(prefix="/auth", route_class=ReferenceRoute)


@router.post("/token", response_model=Token, responses=ANSWERS)
async def sign_in(
    request: Request,
    database: DatabaseDep,
    username: UsernameForm,
    password: PasswordForm,
    scope: Annotated[
        str, Form(description="'user' (left out too) or 'user manager'", examples=["user"])
    ] = "",
) -> Token | JSONResponse:
    """A manager's token only when `manager` is asked for, as the reference gives."""
    user = await signed_in_user(request, database, username=username, password=password)
    try:
        role = granted_role(user, scope.split() or [Role.USER.value])
    except MissingPermission as error:  # asking for more than one may have: 403 here
        return JSONResponse({"detail": str(error)}, status_code=403)
    return Token(access_token=sign_in_token(request, user, role).token, token_type=OAUTH2_KIND)


@router.get("/users/me/", response_model=User)
def me(caller: Reader, session: SessionDep) -> User:
    """The account behind the token: ``manager`` is its role, whatever the token's scope."""
    actor = caller.actor(session)
    try:
        role = get_user(session=session, username=actor.username).role
    except UnknownReference:  # an API token acts for no account of its own
        role = actor.role
    return User(username=actor.username, manager=role is Role.MANAGER)
