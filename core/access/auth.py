"""Signing in: the checks behind the login form and the API (attempts counted, slowed and locked
per name in the database) and the sessions a cookie names. See docs/architecture.md#sign-in."""

from __future__ import annotations

import hashlib
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
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core import logs
from core.access.passwords import spend_password_check_time
from core.access.sign_in_attempts import (
    DEFAULT_POLICY,
    SignInPolicy,
    attempt_key,
    forget_attempts,
    reserve_attempt,
)
from core.access.users import AccessStamp, UserRecord, authenticate
from core.config import Settings
from core.db import Database
from core.domain import Role
from core.errors import AuthenticationFailure, ConfigurationError, GridBoardError, SignInLockout
from core.models import SignInSession, User, utc_now


@dataclass(frozen=True, slots=True)
class SignInOutcome:
    """A checked sign-in: the user, or the refusal to raise, after ``delay`` seconds (the
    slow-down, which the caller spends: the API waits without holding a thread)."""

    user: UserRecord | None
    refusal: AuthenticationFailure | SignInLockout | None
    delay: float

    def settle(self) -> UserRecord:
        """The user, or the refusal raised."""
        if self.refusal is not None:
            raise self.refusal
        assert self.user is not None
        return self.user


def check_sign_in(
    database: Database,
    *,
    username: str,
    password: str,
    policy: SignInPolicy = DEFAULT_POLICY,
    now: Callable[[], datetime] = utc_now,
) -> SignInOutcome:
    """Whether these credentials sign in, and how long to hold the answer back.

    The attempt is counted as a failure in its own committed transaction before the password
    is checked, so however many sessions, threads or processes guess at once, at most
    ``max_failures`` passwords are checked for a name per window; the last of them locks the
    name before its check, and a success then forgets the count up to its own attempt. The
    check is spent outside any transaction; the delay is not spent here.
    """
    started = time.perf_counter()
    key = attempt_key(username)
    moment = now()
    with database.write() as session:
        reservation = reserve_attempt(session, key, moment, policy)
    if not reservation.may_check:
        assert reservation.locked_until is not None
        spend_password_check_time(password)
        _log_refusal(database, key, started, "locked", locked_until=reservation.locked_until)
        lockout = SignInLockout(key, reservation.locked_until)
        return SignInOutcome(None, lockout, policy.delay(policy.max_failures))
    try:
        with database.read() as session:
            user = authenticate(session=session, username=username, password=password)
    except AuthenticationFailure as failure:
        if reservation.locked_until is not None:
            _log_refusal(
                database, key, started, "locked_now", locked_until=reservation.locked_until
            )
            lockout = SignInLockout(key, reservation.locked_until)
            return SignInOutcome(None, lockout, policy.delay(policy.max_failures))
        _log_refusal(database, key, started, "refused", failures=reservation.slot)
        return SignInOutcome(None, failure, policy.delay(reservation.slot))
    with database.write() as session:
        forget_attempts(session, key, reservation)
        session.execute(update(User).where(User.id == user.id).values(last_sign_in_at=moment))
        logs.on_commit(
            session,
            "auth.sign_in",
            user=user.username,
            started=started,
            user_id=user.id,
            username=user.username,
        )
    return SignInOutcome(user, None, 0.0)


def sign_in(
    database: Database,
    *,
    username: str,
    password: str,
    policy: SignInPolicy = DEFAULT_POLICY,
    now: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> UserRecord:
    """The user these credentials belong to, or ``AuthenticationFailure`` / ``SignInLockout``
    after the delay (``check_sign_in``), spent here with ``sleep``: the dashboard's way."""
    outcome = check_sign_in(database, username=username, password=password, policy=policy, now=now)
    if outcome.delay:
        sleep(outcome.delay)
    return outcome.settle()


def _log_refusal(
    database: Database, key: str, started: float, outcome: str, **details: object
) -> None:
    """A refused sign-in, under the name as typed (normalised): never the password. Its audit
    row is a write of its own; one that fails is logged and changes no answer."""
    try:
        with database.write() as session:
            logs.ended_on_commit(
                session,
                "auth.sign_in",
                user=key,
                started=started,
                outcome=outcome,
                level=WARNING,
                ids={"username": key, **details},
            )
    except GridBoardError as error:
        logs.record(
            "auth.sign_in",
            user=key,
            started=started,
            outcome=outcome,
            level=WARNING,
            **details,
            audit_row_failed=str(error),
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

    ``None`` when the user no longer exists, is deactivated, or their password or role
    changed or they were deactivated after ``since``: a password reset, a role change or a
    deactivation signs out every browser and every open session, for good.
    """
    row = session.scalars(select(User).where(User.username == attempt_key(username))).first()
    if row is None or not row.active or since < row.password_changed_at:
        return None
    ended = (row.deactivated_at, row.role_changed_at)
    if any(moment is not None and since < moment for moment in ended):
        return None
    return UserRecord.of(row)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(
    database: Database,
    *,
    username: str,
    lifetime: timedelta,
    access: AccessStamp | None = None,
    now: Callable[[], datetime] = utc_now,
) -> str:
    """Record a new sign-in of ``username`` lasting ``lifetime``; its id, for the cookie.

    With ``access`` (the user's stamp as read when the password was checked), only while the
    user's row, locked, still has it: a reset, role change or deactivation that overlapped
    the sign-in refuses it (``AuthenticationFailure``) rather than let it outlive the change
    (which deletes the sign-ins recorded before it). Only the id's digest is stored: the
    table alone signs no one in. Expired sign-ins are dropped on the way.
    """
    session_id = secrets.token_urlsafe(32)
    moment = now()
    with database.write() as session:
        if access is not None:
            row = session.scalars(
                select(User).where(User.username == attempt_key(username)).with_for_update()
            ).first()
            if row is None or not row.active or AccessStamp.of(row) != access:
                raise AuthenticationFailure()
        session.execute(delete(SignInSession).where(SignInSession.expires_at <= moment))
        session.add(
            SignInSession(
                id_digest=_digest(session_id),
                username=attempt_key(username),
                created_at=moment,
                expires_at=moment + lifetime,
            )
        )
    return session_id


def end_session(database: Database, *, session_id: str) -> None:
    """Sign out: the sign-in ``session_id`` names is over, for every copy of its cookie."""
    started = time.perf_counter()
    with database.write() as session:
        ended = session.execute(
            delete(SignInSession)
            .where(SignInSession.id_digest == _digest(session_id))
            .returning(SignInSession.username)
        ).scalar()
        outcome = "ok" if ended else "gone"
        logs.ended_on_commit(
            session, "auth.sign_out", user=ended, started=started, outcome=outcome, ids={}
        )


def session_user(
    *,
    session: Session,
    username: str,
    session_id: str,
    now: Callable[[], datetime] = utc_now,
) -> UserRecord | None:
    """The user of the sign-in ``session_id``, while it holds: not signed out, not expired,
    for this ``username``, and begun after the user's last password change (see
    ``user_still_signed_in``); else ``None``."""
    row = session.get(SignInSession, _digest(session_id))
    if row is None or row.username != attempt_key(username) or row.expires_at <= now():
        return None
    return user_still_signed_in(session=session, username=username, since=row.created_at)


def cookie_sign_in(
    *, session: Session, username: str, issued_at: datetime, session_id: str
) -> UserRecord | None:
    """The user a sign-in cookie for ``username`` issued at ``issued_at`` for the sign-in
    ``session_id`` signs in, or ``None`` when it no longer holds (see ``session_user``).
    Logged either way; the cookie's value never is."""
    started = time.perf_counter()
    user = session_user(session=session, username=username, session_id=session_id)
    if (
        user is not None
        and user_still_signed_in(session=session, username=username, since=issued_at) is None
    ):
        user = None
    logs.record(
        "auth.cookie_sign_in",
        user=attempt_key(username),
        started=started,
        outcome="ok" if user else "refused",
        level=INFO if user else WARNING,
        user_id=user.id if user else None,
    )
    return user


def cookie_key(settings: Settings, *, configured: str = "", key_file: Path | None = None) -> str:
    """The secret that signs sign-in cookies.

    ``GRIDBOARD_COOKIE_KEY`` wins, then ``configured`` (``cookie_key`` in
    ``.streamlit/secrets.toml``). Outside demo mode a missing or placeholder key is a
    ``ConfigurationError``; in demo mode a random key is made once and kept in ``key_file``
    (default: ``cookie_key`` in the data folder, ``GRIDBOARD_DATA_DIR``), so cookies survive
    restarts.
    """
    chosen = settings.cookie_key.strip() or configured.strip()
    try:
        return settings.model_copy(update={"cookie_key": chosen}).require_cookie_key()
    except ConfigurationError:
        if not settings.demo:
            raise
    return _demo_key(key_file or settings.data_dir / "cookie_key")


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
    session_id: str  # the sign-in it belongs to (``start_session``)


def read_sign_in_cookie(
    token: str, *, key: str, now: Callable[[], datetime] = utc_now
) -> CookieClaim | None:
    """The claim of a sign-in cookie, or ``None`` for anything not to be honoured.

    Refused: a token not signed with ``key`` (forged or tampered), any algorithm but HS256
    (``none`` included), a payload without a text ``username`` or a numeric ``exp_date``
    (the fields streamlit-authenticator writes) or a text ``sid`` (the sign-in GridBoard
    adds), and an expired one. Nothing raises: a crafted cookie must not break the page it
    is sent to. Whether its sign-in still holds is ``cookie_sign_in``'s question.
    """
    try:
        payload = jwt.decode(token, key, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return None
    username, expires_at = payload.get("username"), payload.get("exp_date")
    session_id = payload.get("sid")
    if not isinstance(username, str) or not username.strip():
        return None
    if not isinstance(session_id, str) or not session_id:
        return None
    if isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
        return None
    if not math.isfinite(expires_at) or expires_at <= now().timestamp():
        return None
    return CookieClaim(username=username, expires_at=float(expires_at), session_id=session_id)


def cookie_issued_at(expires_at: float, expiry_days: float) -> datetime:
    """When a cookie that expires at ``expires_at`` (a Unix time) was issued."""
    return datetime.fromtimestamp(expires_at, UTC) - timedelta(days=expiry_days)
