"""Users and roles: create, list, change, deactivate and delete users, and check credentials.
The password policy is core/access/passwords.py. See docs/design.md#roles."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import bcrypt
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import logs
from core.access.passwords import (
    check_password_strength,
    checkable,
    hash_password,
    spend_password_check_time,
)
from core.domain import Actor, Role, require_manager
from core.errors import (
    AuthenticationFailure,
    DeactivatedAccount,
    DuplicateUser,
    FieldProblem,
    InvalidInput,
    LastManager,
    OwnAccount,
    UnknownUser,
)
from core.models import TEXT_LENGTH, SignInAttempt, SignInSession, User, utc_now
from core.timestamps import to_micros
from core.validation import FieldError, choice_field, parse_text

SHORTEST_USERNAME, LONGEST_USERNAME = 2, 64
_USERNAME = re.compile(rf"[a-z0-9][a-z0-9._-]{{{SHORTEST_USERNAME - 1},{LONGEST_USERNAME - 1}}}")


def username_rules() -> str:
    """What a username may be, as the forms explain it and refusals say."""
    return (
        f"{SHORTEST_USERNAME}-{LONGEST_USERNAME} characters of letters, digits, '.', '_' or "
        "'-', starting with a letter or digit"
    )


@dataclass(frozen=True, slots=True)
class AccessStamp:
    """When a user's access last changed, in microseconds (0: never): a sign-in token or
    dashboard sign-in made from a row holds only while the row still has the same stamp, so
    a reset, a role change or a deactivation committed after the password was checked ends
    it too (comparing clocks would let one that overlapped it through)."""

    password_us: int
    role_us: int
    deactivated_us: int

    @classmethod
    def of(cls, row: User | Any) -> AccessStamp:
        return cls(
            password_us=to_micros(row.password_changed_at),
            role_us=to_micros(row.role_changed_at) if row.role_changed_at else 0,
            deactivated_us=to_micros(row.deactivated_at) if row.deactivated_at else 0,
        )

    def change_since(self, issued: AccessStamp) -> str | None:
        """What changed after ``issued`` was taken, in words, or ``None``."""
        if self.password_us != issued.password_us:
            return "the password changed"
        if self.role_us != issued.role_us:
            return "the role changed"
        if self.deactivated_us != issued.deactivated_us:
            return "the user was deactivated"
        return None


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    username: str
    display_name: str
    email: str
    role: Role
    created_at: datetime
    active: bool = True
    access: AccessStamp | None = None  # as read with the row
    last_sign_in_at: datetime | None = None  # the last password accepted for them

    @classmethod
    def of(cls, row: User) -> UserRecord:
        return cls(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            email=row.email,
            role=Role(row.role),
            created_at=row.created_at,
            active=row.active,
            access=AccessStamp.of(row),
            last_sign_in_at=row.last_sign_in_at,
        )

    @property
    def actor(self) -> Actor:
        return Actor(username=self.username, role=self.role)


def _normalise_username(username: str) -> str:
    cleaned = username.strip().lower()
    if not _USERNAME.fullmatch(cleaned):
        raise InvalidInput([FieldProblem("username", f"must be {username_rules()}")])
    return cleaned


def _optional_texts(**fields: str) -> dict[str, str]:
    """Each optional text trimmed, or ``InvalidInput`` naming every one that is too long for
    its column (``TEXT_LENGTH``, on every database) or holds a control character."""
    cleaned: dict[str, str] = {}
    problems = []
    for field, value in fields.items():
        try:
            cleaned[field] = parse_text(value, max_length=TEXT_LENGTH) if value.strip() else ""
        except FieldError as error:
            problems.append(FieldProblem(field, str(error)))
    if problems:
        raise InvalidInput(problems)
    return cleaned


def _find_row(session: Session, username: str) -> User | None:
    """The user named ``username`` (any case, blanks around), or ``None``. A name no user
    can have (too long, a NUL, a lone surrogate) is not even looked up: a database may
    refuse to compare with it."""
    cleaned = username.strip().lower()
    if not _USERNAME.fullmatch(cleaned):
        return None
    return session.scalars(select(User).where(User.username == cleaned)).first()


def _get_row(session: Session, username: str) -> User:
    row = _find_row(session, username)
    if row is None:
        raise UnknownUser(username)
    return row


def create_user(
    *,
    session: Session,
    actor: Actor,
    username: str,
    password: str,
    role: object = Role.USER,
    display_name: str = "",
    email: str = "",
) -> UserRecord:
    started = time.perf_counter()
    require_manager(actor, "create users")
    name = _normalise_username(username)
    chosen_role = choice_field("role", role, Role)
    texts = _optional_texts(display_name=display_name, email=email)
    check_password_strength(password, username=name)
    if session.scalars(select(User.id).where(User.username == name)).first() is not None:
        raise DuplicateUser(name)
    row = User(
        username=name,
        display_name=texts["display_name"] or name,
        email=texts["email"],
        password_hash=hash_password(password),
        role=chosen_role.value,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # the same name created at the same moment, committed first
        raise DuplicateUser(name) from None
    _audit(session, "user.create", actor=actor, started=started, row=row, role=chosen_role.value)
    return UserRecord.of(row)


def list_users(*, session: Session) -> list[UserRecord]:
    return [UserRecord.of(row) for row in session.scalars(select(User).order_by(User.username))]


def get_user(*, session: Session, username: str) -> UserRecord:
    return UserRecord.of(_get_row(session, username))


def count_users(*, session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def set_role(*, session: Session, actor: Actor, username: str, role: object) -> UserRecord:
    """Change a user's role; the last manager cannot be demoted."""
    started = time.perf_counter()
    require_manager(actor, "change roles")
    new_role = choice_field("role", role, Role)
    row = _get_row(session, username)
    if row.role == Role.MANAGER.value and new_role is not Role.MANAGER:
        # Counted under a lock on every manager row: two demotions at once on PostgreSQL
        # would otherwise each count the other and leave no manager.
        managers = session.scalars(
            select(User.id).where(User.role == Role.MANAGER.value).with_for_update()
        ).all()
        if len(managers) <= 1:
            raise LastManager(row.username)
    old_role, row.role = row.role, new_role.value
    if old_role != new_role.value:
        # Every sign-in of the account ends: API tokens issued before it stop holding, and
        # the dashboard's sessions are deleted (a sign-in with the new role starts afresh).
        row.role_changed_at = utc_now()
        session.execute(delete(SignInSession).where(SignInSession.username == row.username))
    session.flush()
    _audit(
        session,
        "user.set_role",
        actor=actor,
        started=started,
        row=row,
        role=new_role.value,
        previous_role=old_role,
    )
    return UserRecord.of(row)


def set_password(*, session: Session, actor: Actor, username: str, password: str) -> None:
    """Set a password: managers for anyone, every user for themselves."""
    started = time.perf_counter()
    if actor.username != username.strip().lower():
        require_manager(actor, "reset other users' passwords")
    row = _get_row(session, username)
    check_password_strength(password, username=row.username)
    row.password_hash = hash_password(password)
    row.password_changed_at = utc_now()
    # A new password ends a sign-in lock on this name, and every sign-in (core.access.auth).
    session.execute(delete(SignInAttempt).where(SignInAttempt.username == row.username))
    session.execute(delete(SignInSession).where(SignInSession.username == row.username))
    session.flush()
    _audit(session, "user.set_password", actor=actor, started=started, row=row)


def _audit(
    session: Session, action: str, *, actor: Actor, started: float, row: User, **fields: Any
) -> None:
    """Record ``action`` on the user ``row`` by ``actor`` once the transaction commits."""
    logs.on_commit(
        session,
        action,
        user=actor.username,
        started=started,
        user_id=row.id,
        username=row.username,
        **fields,
    )


def authenticate(*, session: Session, username: str, password: str) -> UserRecord:
    """The user whose credentials these are, or ``AuthenticationFailure``.

    An unknown user costs one bcrypt check like a known one, so timing does not tell them apart;
    so does a password longer than any that can be set (``MAX_PASSWORD_BYTES``), which is
    simply wrong.
    """
    row = _find_row(session, username)
    encoded = checkable(password)
    if row is None or encoded is None:
        spend_password_check_time(password)
        raise AuthenticationFailure()
    if not bcrypt.checkpw(encoded, row.password_hash.encode("ascii")):
        raise AuthenticationFailure()
    if not row.active:  # checked after the hash: only the right password learns it
        raise DeactivatedAccount(row.username)
    return UserRecord.of(row)


def _check_may_remove(session: Session, actor: Actor, row: User, action: str) -> None:
    """Neither the actor's own account nor the last active manager may go."""
    if row.username == actor.username:
        raise OwnAccount(row.username, action)
    if row.role == Role.MANAGER.value and row.active:
        managers = session.scalar(
            select(func.count()).where(User.role == Role.MANAGER.value, User.active.is_(True))
        )
        if (managers or 0) <= 1:
            raise LastManager(row.username)


def set_active(*, session: Session, actor: Actor, username: str, active: bool) -> UserRecord:
    """Deactivate a user (they cannot sign in, and open sessions end at their next click)
    or reactivate them."""
    started = time.perf_counter()
    require_manager(actor, "deactivate or reactivate users")
    row = _get_row(session, username)
    if not active:
        _check_may_remove(session, actor, row, "deactivate")
        if row.active:
            # Every sign-in ends now, and stays ended after a reactivation (core.access.auth,
            # core.access.api_tokens compare this stamp).
            row.deactivated_at = utc_now()
            session.execute(delete(SignInSession).where(SignInSession.username == row.username))
    row.active = active
    session.flush()
    _audit(
        session,
        "user.activate" if active else "user.deactivate",
        actor=actor,
        started=started,
        row=row,
    )
    return UserRecord.of(row)


def delete_user(*, session: Session, actor: Actor, username: str) -> None:
    """Delete a user; what they did keeps their name (components and reports store it)."""
    started = time.perf_counter()
    require_manager(actor, "delete users")
    row = _get_row(session, username)
    _check_may_remove(session, actor, row, "delete")
    user_id, name = row.id, row.username
    session.delete(row)
    session.execute(delete(SignInAttempt).where(SignInAttempt.username == name))
    session.execute(delete(SignInSession).where(SignInSession.username == name))
    session.flush()
    logs.on_commit(
        session, "user.delete", user=actor.username, started=started, user_id=user_id, username=name
    )
