"""Signing in: the rules behind the dashboard's login form and its sign-in cookie.

The form's check is ``sign_in``: a wrong password is recorded against the name as typed,
answered more slowly each time, and after ``SignInPolicy.max_failures`` failures within
``window`` the name is locked for ``lock`` (not forever). Unknown names are recorded, slowed
and locked exactly like known ones, and every refusal costs one bcrypt check, so neither the
answer nor its timing tells whether a user exists. Failures are stored in the database, so
they hold across sessions, restarts and app replicas.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from logging import INFO, WARNING
from pathlib import Path

import jwt
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import logs
from core.config import PROJECT_ROOT, Settings
from core.db import Database
from core.domain import Role
from core.errors import AuthenticationFailed, ConfigurationError, SignInLocked
from core.models import SignInAttempt, User, utc_now
from core.users import UserRecord, authenticate, spend_password_check_time

DEMO_COOKIE_KEY_FILE = PROJECT_ROOT / "data" / "cookie_key"


@dataclass(frozen=True, slots=True)
class SignInPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)
    first_delay_seconds: float = 0.5
    max_delay_seconds: float = 4.0

    def delay(self, failures: int) -> float:
        """Seconds to hold back the answer after ``failures`` failures in a row."""
        if failures <= 0:
            return 0.0
        return float(min(self.first_delay_seconds * 2 ** (failures - 1), self.max_delay_seconds))


DEFAULT_POLICY = SignInPolicy()


def attempt_key(username: str) -> str:
    """The name failures are counted under: as the user table stores names, capped in length."""
    return username.strip().lower()[:64]


def _active_lock(attempt: SignInAttempt | None, moment: datetime) -> datetime | None:
    if attempt is None or attempt.locked_until is None or attempt.locked_until <= moment:
        return None
    return attempt.locked_until


def _record_failure(
    session: Session, key: str, moment: datetime, policy: SignInPolicy
) -> SignInAttempt:
    stale = moment - max(policy.window, policy.lock)
    session.execute(
        delete(SignInAttempt).where(
            SignInAttempt.last_failure_at < stale,
            or_(SignInAttempt.locked_until.is_(None), SignInAttempt.locked_until < moment),
        )
    )
    attempt = session.get(SignInAttempt, key, with_for_update=True)
    if attempt is None:
        try:
            with session.begin_nested():
                session.add(
                    SignInAttempt(
                        username=key,
                        failures=0,
                        window_started_at=moment,
                        last_failure_at=moment,
                        locked_until=None,
                    )
                )
        except IntegrityError:  # another session recorded the first failure just now
            pass
        attempt = session.get(SignInAttempt, key, with_for_update=True, populate_existing=True)
        assert attempt is not None
    if attempt.window_started_at + policy.window <= moment:
        attempt.failures = 0
        attempt.window_started_at = moment
    attempt.failures += 1
    attempt.last_failure_at = moment
    if attempt.failures >= policy.max_failures:
        attempt.locked_until = moment + policy.lock
        attempt.failures = 0
        attempt.window_started_at = moment
    session.flush()
    return attempt


def sign_in(
    database: Database,
    *,
    username: str,
    password: str,
    policy: SignInPolicy = DEFAULT_POLICY,
    now: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> UserRecord:
    """The user these credentials belong to, or ``AuthenticationFailed`` / ``SignInLocked``.

    It opens its own sessions: a refusal must be recorded (committed) before it is raised,
    and the deliberate delay is spent outside any transaction.
    """
    started = time.perf_counter()
    key = attempt_key(username)
    moment = now()
    user: UserRecord | None = None
    with database.read() as session:
        attempt = session.get(SignInAttempt, key)
        locked_until = _active_lock(attempt, moment)
        if locked_until is not None:
            spend_password_check_time(password)
        else:
            try:
                user = authenticate(session=session, username=username, password=password)
            except AuthenticationFailed:
                user = None
    if locked_until is not None:
        _log_refusal(key, started, "locked", locked_until=locked_until)
        sleep(policy.delay(policy.max_failures))
        raise SignInLocked(key, locked_until)
    if user is not None:
        if attempt is not None:
            with database.write() as session:
                session.execute(delete(SignInAttempt).where(SignInAttempt.username == key))
        logs.record("auth.sign_in", user=user.username, started=started, user_id=user.id)
        return user
    with database.write() as session:
        recorded = _record_failure(session, key, moment, policy)
        failures, locked_until = recorded.failures, recorded.locked_until
    if locked_until is not None and locked_until > moment:
        _log_refusal(key, started, "locked_now", locked_until=locked_until)
        sleep(policy.delay(policy.max_failures))
        raise SignInLocked(key, locked_until)
    _log_refusal(key, started, "refused", failures=failures)
    sleep(policy.delay(failures))
    raise AuthenticationFailed()


def _log_refusal(key: str, started: float, outcome: str, **details: object) -> None:
    """A refused sign-in, under the name as typed (normalised): never the password."""
    logs.record(
        "auth.sign_in", user=key, started=started, outcome=outcome, level=WARNING, **details
    )


@dataclass(frozen=True, slots=True)
class Credential:
    """What the login widget needs to know about one user."""

    username: str
    display_name: str
    email: str
    password_hash: str
    role: Role


def list_credentials(*, session: Session) -> list[Credential]:
    rows = session.execute(
        select(User.username, User.display_name, User.email, User.password_hash, User.role)
    )
    return [
        Credential(
            username=username,
            display_name=display_name,
            email=email,
            password_hash=password_hash,
            role=Role(role),
        )
        for username, display_name, email, password_hash, role in rows
    ]


def user_still_signed_in(*, session: Session, username: str, since: datetime) -> UserRecord | None:
    """The user signed in as ``username`` since ``since`` (a session, a cookie's issue time),
    while that sign-in still holds.

    ``None`` when the user no longer exists or their password changed after ``since``: a
    password reset signs out every browser and every open session.
    """
    row = session.scalars(select(User).where(User.username == attempt_key(username))).first()
    if row is None or since < row.password_changed_at or not row.active:
        return None
    return UserRecord.of(row)


def cookie_sign_in(*, session: Session, username: str, issued_at: datetime) -> UserRecord | None:
    """The user a sign-in cookie for ``username`` issued at ``issued_at`` signs in, or ``None``
    when it no longer holds (see ``user_still_signed_in``). Logged either way; the cookie's
    value never is."""
    started = time.perf_counter()
    user = user_still_signed_in(session=session, username=username, since=issued_at)
    logs.record(
        "auth.cookie_sign_in",
        user=attempt_key(username),
        started=started,
        outcome="ok" if user else "refused",
        level=INFO if user else WARNING,
        user_id=user.id if user else None,
    )
    return user


def cookie_key(
    settings: Settings, *, configured: str = "", key_file: Path = DEMO_COOKIE_KEY_FILE
) -> str:
    """The secret that signs sign-in cookies.

    ``GRIDBOARD_COOKIE_KEY`` wins, then ``configured`` (``cookie_key`` in
    ``.streamlit/secrets.toml``). Outside demo mode a missing or placeholder key is a
    ``ConfigurationError``; in demo mode a random key is made once and kept in ``key_file``,
    so cookies survive restarts.
    """
    chosen = settings.cookie_key.strip() or configured.strip()
    try:
        return settings.model_copy(update={"cookie_key": chosen}).require_cookie_key()
    except ConfigurationError:
        if not settings.demo:
            raise
    return _demo_key(key_file)


def _demo_key(key_file: Path) -> str:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    try:
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        stored = key_file.read_text(encoding="utf-8").strip()
        if len(stored) >= 16:
            return stored
        key_file.write_text(key, encoding="utf-8")
        return key
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


@dataclass(frozen=True, slots=True)
class CookieClaim:
    """What a valid sign-in cookie says: who, and when it stops being honoured."""

    username: str
    expires_at: float  # a Unix time


def read_sign_in_cookie(
    token: str, *, key: str, now: Callable[[], datetime] = utc_now
) -> CookieClaim | None:
    """The claim of a sign-in cookie, or ``None`` for anything not to be honoured.

    Refused: a token not signed with ``key`` (forged or tampered), any algorithm but HS256
    (``none`` included), a payload without a text ``username`` or a numeric ``exp_date``
    (the fields streamlit-authenticator writes), and an expired one. Nothing raises: a
    crafted cookie must not break the page it is sent to.
    """
    try:
        payload = jwt.decode(token, key, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return None
    username, expires_at = payload.get("username"), payload.get("exp_date")
    if not isinstance(username, str) or not username.strip():
        return None
    if isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
        return None
    if not math.isfinite(expires_at) or expires_at <= now().timestamp():
        return None
    return CookieClaim(username=username, expires_at=float(expires_at))


def cookie_issued_at(expires_at: float, expiry_days: float) -> datetime:
    """When a cookie that expires at ``expires_at`` (a Unix time) was issued."""
    return datetime.fromtimestamp(expires_at, UTC) - timedelta(days=expiry_days)
