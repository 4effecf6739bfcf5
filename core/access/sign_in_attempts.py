"""Failed sign-ins counted per name in the database: the policy (slow-down and lock) and the
atomic reservation each attempt makes before its password is checked (``core.access.auth``).
See docs/architecture.md#sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.models import SignInAttempt
from core.validation import unstorable_character


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
    """The name failures are counted under: as the user table stores names, capped in length.
    A character no database stores (NUL, a lone surrogate, other controls) becomes U+FFFD;
    no user's name has one."""
    folded = username.strip().lower()[:64]
    return "".join("\ufffd" if unstorable_character(c) else c for c in folded)


@dataclass(frozen=True, slots=True)
class Reservation:
    """One attempt, counted before its password is checked.

    ``slot`` is its number among the failures of the current window (0: not counted, the
    name was locked already); ``locked_until`` is the lock in force or set by this attempt,
    which as the ``max_failures``-th of the window locks the name before its check.
    """

    slot: int
    locked_until: datetime | None

    @property
    def may_check(self) -> bool:
        return self.slot > 0


def forget_stale(session: Session, moment: datetime, policy: SignInPolicy) -> None:
    """Drop the counts of names neither failing lately nor locked. Rows another sign-in is
    counting on just now are skipped (``SKIP LOCKED`` on PostgreSQL), so two of these never
    wait for each other."""
    stale = moment - max(policy.window, policy.lock)
    forgotten = (
        select(SignInAttempt.username)
        .where(
            SignInAttempt.last_failure_at < stale,
            or_(SignInAttempt.locked_until.is_(None), SignInAttempt.locked_until < moment),
        )
        .with_for_update(skip_locked=True)
    )
    session.execute(
        delete(SignInAttempt)
        .where(SignInAttempt.username.in_(forgotten))
        .execution_options(synchronize_session=False)
    )


def _counted_row(session: Session, key: str, moment: datetime) -> SignInAttempt:
    """The row counting ``key``'s failures, made if missing, locked until the transaction
    ends (SQLite's writes are serial already: ``Database.write`` begins them IMMEDIATE).
    The upsert touches an existing row rather than leaving it: on PostgreSQL that locks it at
    once, so a reset or a success deleting it in between cannot leave nothing to count on."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    fresh = insert(SignInAttempt).values(
        username=key,
        failures=0,
        window_started_at=moment,
        last_failure_at=moment,
        locked_until=None,
    )
    session.execute(
        fresh.on_conflict_do_update(
            index_elements=[SignInAttempt.username], set_={"username": fresh.excluded.username}
        )
    )
    return session.scalars(
        select(SignInAttempt)
        .where(SignInAttempt.username == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def reserve_attempt(
    session: Session, key: str, moment: datetime, policy: SignInPolicy
) -> Reservation:
    """Count one attempt for ``key`` as a failure, atomically, before anything is checked."""
    forget_stale(session, moment, policy)
    attempt = _counted_row(session, key, moment)
    if attempt.locked_until is not None and attempt.locked_until > moment:
        return Reservation(slot=0, locked_until=attempt.locked_until)
    if attempt.window_started_at + policy.window <= moment:
        attempt.failures = 0
        attempt.window_started_at = moment
    attempt.failures += 1
    attempt.last_failure_at = moment
    slot, locked_until = attempt.failures, None
    if slot >= policy.max_failures:
        locked_until = attempt.locked_until = moment + policy.lock
        attempt.failures = 0
        attempt.window_started_at = moment
    session.flush()
    return Reservation(slot=slot, locked_until=locked_until)


def forget_attempts(session: Session, key: str, reservation: Reservation) -> None:
    """A success forgets the failures counted up to its own attempt, and no more: when other
    attempts were counted after it (a burst of guesses that includes the right password),
    the row has changed and keeps counting, so the burst still checks at most
    ``max_failures`` passwords. A lock set by this very attempt is lifted."""
    if reservation.locked_until is not None:  # this attempt locked the name
        unchanged: ColumnElement[bool] = (SignInAttempt.failures == 0) & (
            SignInAttempt.locked_until == reservation.locked_until
        )
    else:
        unchanged = SignInAttempt.failures == reservation.slot
    session.execute(delete(SignInAttempt).where(SignInAttempt.username == key, unchanged))
