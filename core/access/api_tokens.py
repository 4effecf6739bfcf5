"""Named API tokens for machines: made and revoked by managers, only their SHA-256 stored,
honoured while unrevoked, unexpired and vouched for by their maker. See
docs/reference.md#the-http-api."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core import logs
from core.config import get_settings
from core.db import Database
from core.domain import Actor, Role, require_manager
from core.driver_statements import DriverStatement
from core.errors import FieldProblem, GridBoardError, InvalidInput, TokenRefusal, UnknownReference
from core.models import ID_RANGE, ApiToken, User, utc_now
from core.validation import FieldError, name_key, parse_name

MACHINE_PREFIX = "gbt_"
# last_used_at is written at most this often per token, so reads stay reads.
LAST_USE_RESOLUTION = timedelta(minutes=1)
MAX_EXPIRY_DAYS = 3650


class TokenScope(StrEnum):
    READ = "read"
    WRITE = "write"


SCOPE_ROLES = {TokenScope.READ: Role.USER, TokenScope.WRITE: Role.MANAGER}


class UnknownApiToken(UnknownReference):
    def __init__(self, token_id: int) -> None:
        self.token_id = token_id
        super().__init__(f"API token {token_id} does not exist")


@dataclass(frozen=True, slots=True)
class ApiTokenRecord:
    id: int
    name: str
    scope: TokenScope
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None
    ended: str | None = None  # why its maker no longer vouches for it (``_maker_change``)

    @classmethod
    def of(cls, row: Any) -> ApiTokenRecord:
        """The record of a token's row; a row read with its maker's columns (``_WITH_MAKER``)
        also says whether its maker has ended it."""
        return cls(
            id=row.id,
            name=row.name,
            scope=TokenScope(row.scope),
            created_at=row.created_at,
            created_by=row.created_by,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
            revoked_by=row.revoked_by,
            ended=None if isinstance(row, ApiToken) else _maker_change(row),
        )

    def state(self, moment: datetime) -> str:
        """``active``, ``revoked``, ``expired`` or ``ended`` (by a change of its maker)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= moment:
            return "expired"
        if self.ended is not None:
            return "ended"
        return "active"

    @property
    def actor(self) -> Actor:
        return Actor(username=f"token:{self.name}", role=SCOPE_ROLES[self.scope])


_RECORD_FIELDS = tuple(field.name for field in fields(ApiTokenRecord) if field.name != "ended")


@dataclass(frozen=True, slots=True)
class NewApiToken:
    """A token just made: ``secret`` is shown once and never stored."""

    record: ApiTokenRecord
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_api_token(
    *,
    session: Session,
    actor: Actor,
    name: str,
    scope: object,
    expires_days: int | None = None,
    now: Callable[[], datetime] = utc_now,
) -> NewApiToken:
    """Make a named token for a machine; its secret is in the answer and nowhere else. It
    expires after ``expires_days``, by default ``GRIDBOARD_API_TOKEN_DAYS`` (90): a token
    forgotten in a script does not hold for ever."""
    started = time.perf_counter()
    require_manager(actor, "create API tokens")
    problems: list[FieldProblem] = []
    try:
        cleaned = parse_name(name, max_length=100)
    except FieldError as error:
        problems.append(FieldProblem("name", str(error)))
    try:
        chosen = TokenScope(str(scope).strip().lower())
    except ValueError:
        problems.append(FieldProblem("scope", f"must be read or write, got {scope!r}"))
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        problems.append(
            FieldProblem("expires", f"must be 1 to {MAX_EXPIRY_DAYS} days, got {expires_days}")
        )
    if problems:
        raise InvalidInput(problems)
    lifetime = timedelta(days=expires_days or get_settings().api_token_days)
    moment = now()
    unrevoked = session.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None)))
    active = [row.name for row in unrevoked if row.expires_at is None or row.expires_at > moment]
    key = name_key(cleaned)  # a name that only looks the same is the same name
    taken = next((other for other in active if name_key(other) == key), None)
    if taken is not None:
        raise InvalidInput.single("name", f"an active token named {taken!r} already exists")
    secret = MACHINE_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=cleaned,
        scope=chosen.value,
        token_hash=_hash(secret),
        created_at=moment,
        created_by=actor.username,
        expires_at=moment + lifetime,
    )
    session.add(row)
    session.flush()
    logs.on_commit(
        session,
        "api_token.create",
        user=actor.username,
        started=started,
        token_id=row.id,
        name=cleaned,
        scope=chosen.value,
        expires_at=row.expires_at.isoformat() if row.expires_at else None,
    )
    return NewApiToken(record=ApiTokenRecord.of(row), secret=secret)


def list_api_tokens(*, session: Session) -> list[ApiTokenRecord]:
    """Every token, newest first, with its last use; never a secret."""
    rows = session.execute(_WITH_MAKER.order_by(_tokens.id.desc()))
    return [ApiTokenRecord.of(row) for row in rows]


def revoke_api_token(
    *, session: Session, actor: Actor, token_id: int, now: Callable[[], datetime] = utc_now
) -> ApiTokenRecord:
    """Revoke a token: the next call made with it is refused."""
    started = time.perf_counter()
    require_manager(actor, "revoke API tokens")
    row = session.get(ApiToken, token_id) if token_id in ID_RANGE else None
    if row is None:
        raise UnknownApiToken(token_id)
    if row.revoked_at is None:
        row.revoked_at = now()
        row.revoked_by = actor.username
        session.flush()
        logs.on_commit(
            session,
            "api_token.revoke",
            user=actor.username,
            started=started,
            token_id=row.id,
            name=row.name,
        )
    return ApiTokenRecord.of(row)


def is_machine_token(token: str) -> bool:
    return token.startswith(MACHINE_PREFIX)


# Read on every request a machine token makes: built once, a plain select of the record's
# columns (see core.measurements.measurements).
# With the stamps of the user who made the token (none for the command line's system actor).
_tokens = ApiToken.__table__.c
_users = User.__table__.c
_WITH_MAKER = select(
    *(_tokens[name] for name in _RECORD_FIELDS),
    _users.active,
    _users.created_at.label("user_created_at"),
    _users.password_changed_at,
    _users.role_changed_at,
    _users.deactivated_at,
).outerjoin_from(ApiToken.__table__, User.__table__, _tokens.created_by == _users.username)
_TOKEN_BY_HASH = DriverStatement(_WITH_MAKER.where(_tokens.token_hash == bindparam("token_hash")))


def _maker_change(row: Any) -> str | None:
    """Why the person who made a token no longer vouches for it, or ``None``: gone (or a new
    user of the same name), deactivated, or their password, role or activity changed since.
    Names with a colon are not people (``system:cli``): the command line's tokens hold."""
    if ":" in row.created_by:
        return None
    if row.active is None or row.user_created_at > row.created_at:
        return f"{row.created_by!r}, who made it, no longer exists"
    if not row.active:
        return f"{row.created_by!r}, who made it, is deactivated"
    for changed_at in (row.password_changed_at, row.role_changed_at, row.deactivated_at):
        if changed_at is not None and changed_at > row.created_at:
            return f"the password, role or activity of {row.created_by!r}, who made it, changed"
    return None


def read_machine_token(
    database: Database, token: str, *, now: Callable[[], datetime] = utc_now
) -> Actor:
    """Who a machine token acts for (``token:NAME``, a user for ``read``, a manager for
    ``write``), or ``TokenRefusal``: unknown, revoked or expired. Notes its use, to the
    minute."""
    moment = now()
    with database.read() as session:
        record = honoured_token(session, token, moment)
    note_token_use(database, record, moment)
    return record.actor


def honoured_token(session: Session, token: str, moment: datetime) -> ApiTokenRecord:
    """The record of a machine token that is honoured at ``moment``, read in ``session`` (a
    write can check its caller's token in its own transaction), or ``TokenRefusal``."""
    row = _TOKEN_BY_HASH.first(session, {"token_hash": _hash(token)})
    if row is None:
        raise TokenRefusal("the token is not valid")
    record = ApiTokenRecord.of(row)
    state = record.state(moment)
    if state == "ended":
        raise TokenRefusal(f"the token {record.name!r} has ended: {record.ended}")
    if state != "active":
        raise TokenRefusal(f"the token {record.name!r} is {state}")
    return record


def token_use_due(record: ApiTokenRecord, moment: datetime) -> bool:
    """Whether a use at ``moment`` is to be noted: the last noted use is ``LAST_USE_RESOLUTION``
    or more before it (a feed posting every second notes its use once a minute)."""
    return record.last_used_at is None or record.last_used_at + LAST_USE_RESOLUTION <= moment


def note_token_use(database: Database, record: ApiTokenRecord, moment: datetime) -> None:
    """Note that the token was used at ``moment``, in a write of its own, if it is due. A
    write that fails (another writer holding the database past the busy timeout, say) is
    logged and left for the token's next use: it never changes the answer to the call that
    used the token, whose own work is done or refused already."""
    if not token_use_due(record, moment):
        return
    try:
        with database.write() as session:
            stored = session.get(ApiToken, record.id)
            if stored is not None:
                stored.last_used_at = moment
    except GridBoardError as error:
        logs.record(
            "api_token.use",
            user=record.actor.username,
            outcome="failed",
            level=logging.WARNING,
            name=record.name,
            reason=str(error),
        )
