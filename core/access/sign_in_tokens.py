"""Short-lived sign-in tokens (JWT) for people calling the HTTP API: issued after a password
check, honoured while the user's access stamp is unchanged. See docs/reference.md#the-http-api."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core.access.users import AccessStamp, UserRecord
from core.domain import Actor, Role, require_manager
from core.driver_statements import DriverStatement
from core.errors import ScopeRefusal, TokenRefusal
from core.models import User, utc_now
from core.timestamps import MINUTE_SECONDS, to_micros

AUDIENCE = "gridboard-api"
_ALGORITHM = "HS256"
_KEY_LABEL = b"gridboard api sign-in token"


def signing_key(cookie_key: str) -> bytes:
    """The key that signs API sign-in tokens: derived from the cookie key, so one secret is
    configured, yet a sign-in cookie is never an API token or the other way round."""
    return hmac.new(cookie_key.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest()


def scopes_of(role: Role) -> list[str]:
    """The OAuth2 scopes a token for ``role`` carries (a manager's includes ``user``)."""
    return [Role.USER.value, Role.MANAGER.value] if role is Role.MANAGER else [Role.USER.value]


def granted_role(user: UserRecord, requested: Iterable[str]) -> Role:
    """The role a sign-in token asked for with ``requested`` scopes acts with.

    No scope: the user's own role. ``user``: a user token, for anyone. ``manager``: only a
    manager may have it (``MissingPermission`` otherwise). Any other scope is ``ScopeRefusal``.
    Scopes are read in any case.
    """
    asked = {scope.strip().lower() for scope in requested if scope.strip()}
    unknown = sorted(asked - {Role.USER.value, Role.MANAGER.value})
    if unknown:
        raise ScopeRefusal(unknown)
    if Role.MANAGER.value in asked:
        require_manager(user.actor, "have a manager token")
        return Role.MANAGER
    if asked:
        return Role.USER
    return user.role


@dataclass(frozen=True, slots=True)
class SignInToken:
    token: str
    role: Role
    expires_in: int  # seconds

    @property
    def scope(self) -> str:
        return " ".join(scopes_of(self.role))


def issue_sign_in_token(
    user: UserRecord,
    *,
    role: Role,
    key: bytes,
    minutes: int,
    now: Callable[[], datetime] = utc_now,
) -> SignInToken:
    """A JWT for ``user`` acting as ``role`` (at most their own), valid for ``minutes`` and
    while the user's row keeps the access stamp it was read with (``SignInClaims.actor``)."""
    if role is Role.MANAGER:
        require_manager(user.actor, "have a manager token")
    if user.access is None:
        raise ValueError("a sign-in token is made from a user as read from the database")
    issued = now()
    access = user.access
    payload = {
        "sub": user.username,
        "aud": AUDIENCE,
        "scope": " ".join(scopes_of(role)),
        "iat": int(issued.timestamp()),
        "iat_us": to_micros(issued),
        "acc": [access.password_us, access.role_us, access.deactivated_us],
        "exp": int((issued + timedelta(minutes=minutes)).timestamp()),
    }
    token = jwt.encode(payload, key, algorithm=_ALGORITHM)
    return SignInToken(token=token, role=role, expires_in=minutes * MINUTE_SECONDS)


@dataclass(frozen=True, slots=True)
class SignInClaims:
    """What a sign-in token says once its signature and expiry are checked; ``actor`` still
    has to read the user (``read_sign_in_token`` does both)."""

    username: str
    role: Role
    access: AccessStamp  # the user's, as read when the password was checked

    def actor(self, session: Session) -> Actor:
        """The actor, or ``TokenRefusal`` for a user who is gone or deactivated, or whose
        password, role or activity changed after the password was checked (by comparing the
        row's stamp, so a change that overlapped the sign-in ends it too). Reads the user's
        stamp columns in ``session``."""
        row = _USER_STAMPS.first(session, {"username": self.username})
        if row is None:
            raise TokenRefusal("the token's user no longer exists")
        if not row.active:
            raise TokenRefusal("the token's user is deactivated")
        change = AccessStamp.of(row).change_since(self.access)
        if change is not None:
            raise TokenRefusal(f"{change} after this token was issued: sign in again")
        return Actor(username=row.username, role=self.role)


# Read on every request a sign-in token makes: built once (see core.measurements.measurements).
# A plain (Core) select: the ORM's result handling is not needed for a few columns.
_users = User.__table__.c
_USER_STAMPS = DriverStatement(
    select(
        _users.username,
        _users.active,
        _users.password_changed_at,
        _users.role_changed_at,
        _users.deactivated_at,
    ).where(_users.username == bindparam("username"))
)


def sign_in_claims(
    token: str, *, key: bytes, now: Callable[[], datetime] = utc_now
) -> SignInClaims:
    """A sign-in token's claims, or ``TokenRefusal``: not signed with ``key`` (forged,
    tampered, another algorithm) or expired. Reads nothing from the database."""
    claims, expires = _verified(token, key)
    if expires <= now().timestamp():
        raise TokenRefusal("the token has expired: sign in again")
    return claims


@functools.lru_cache(maxsize=512)
def _verified(token: str, key: bytes) -> tuple[SignInClaims, float]:
    """A token's checked signature and claims with its expiry, remembered for the tokens in
    use (a feed sends the same one all day): they depend on the token and key alone; the
    expiry is compared with the clock on every call. A refusal is not remembered."""
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[_ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "exp", "iat", "aud"], "verify_iat": False},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRefusal("the token has expired: sign in again") from None
    except jwt.InvalidTokenError:
        raise TokenRefusal("the token is not valid: sign in again") from None
    username, scope, access = payload.get("sub"), payload.get("scope"), payload.get("acc")
    if not isinstance(username, str) or not isinstance(scope, str):
        raise TokenRefusal("the token is not valid: sign in again")
    if not isinstance(access, list) or len(access) != 3:  # tokens from before stamps too
        raise TokenRefusal("the token is not valid: sign in again")
    if any(isinstance(part, bool) or not isinstance(part, int) for part in access):
        raise TokenRefusal("the token is not valid: sign in again")
    role = Role.MANAGER if Role.MANAGER.value in scope.split() else Role.USER
    claims = SignInClaims(username=username, role=role, access=AccessStamp(*access))
    return claims, float(payload["exp"])


def read_sign_in_token(
    token: str, *, session: Session, key: bytes, now: Callable[[], datetime] = utc_now
) -> Actor:
    """Who a sign-in token acts for, or ``TokenRefusal`` saying why it is not honoured:
    not signed with ``key`` (forged, tampered, another algorithm), expired, for a user who
    is gone or deactivated, or older than the user's last password, role or activity change."""
    return sign_in_claims(token, key=key, now=now).actor(session)
