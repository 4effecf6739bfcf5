"""The typed ORM schema; Alembic migrations under ``core/migrations`` create and evolve it.
See docs/architecture.md#storage."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

# The base (and utc_now) live in core/model_base.py so the webhook tables, a module of their
# own, derive from it without a cycle; every caller imports them from here, as before. Importing
# core.webhook_models puts its tables in Base.metadata wherever the schema is.
import core.webhook_models  # noqa: F401
from core.model_base import Base as Base
from core.model_base import utc_now as utc_now
from core.timestamps import UtcDateTime

# The longest names and texts people type (component names, substations, display names,
# e-mail addresses): every service checks it before writing, so SQLite (which would store
# more) and PostgreSQL (which would refuse) answer alike.
TEXT_LENGTH = 200
USERNAME_LENGTH = 64


# What an Integer id column holds (32 bits on PostgreSQL): an id outside it names no row, and
# PostgreSQL would refuse the query rather than find nothing.
ID_RANGE = range(-(2**31), 2**31)


class Substation(Base):
    """A substation: components stand in it and lines end at it. ``name_key`` is the name as
    ``core.validation.name_key`` compares it; its UNIQUE index keeps look-alikes out even
    when two writers race. ``x``/``y`` are its place on the network map (empty until laid
    out); a pinned place is a manager's and never moves."""

    __tablename__ = "substations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(TEXT_LENGTH), unique=True)
    name_key: Mapped[str] = mapped_column(String(TEXT_LENGTH), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    x: Mapped[float | None] = mapped_column(Float)
    y: Mapped[float | None] = mapped_column(Float)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        CheckConstraint("length(trim(name)) > 0", name="name"),
        CheckConstraint(
            "(x IS NULL) = (y IS NULL) AND (pinned = false OR x IS NOT NULL)", name="position"
        ),
    )


class Component(Base):
    __tablename__ = "components"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    # The substation's name beside its id: every list, filter, file and answer reads it by
    # name; a rename rewrites both in the rename's transaction (core/grid/substation_records.py).
    substation: Mapped[str] = mapped_column(String(TEXT_LENGTH), index=True)
    # Empty only in a row written around core (SQLite adds a referencing column only as
    # nullable); every service write and the migration fill it.
    substation_id: Mapped[int | None] = mapped_column(ForeignKey("substations.id"), index=True)
    # The name as core.validation.name_key compares it: unique within the substation.
    name_key: Mapped[str] = mapped_column(String(TEXT_LENGTH), default="", server_default="")
    component_type: Mapped[str] = mapped_column(String(16), index=True)
    capacity_mva: Mapped[float | None] = mapped_column(Float)
    voltage_kv: Mapped[float | None] = mapped_column(Float)
    length_km: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str | None] = mapped_column(String(8))
    # A line's other end (``substation`` is its first); empty where the data does not say.
    to_substation: Mapped[str | None] = mapped_column(String(200), index=True)
    # A line's rated current (A), when known: the line-current limit derives from it.
    rated_current_a: Mapped[float | None] = mapped_column(Float)
    to_substation_id: Mapped[int | None] = mapped_column(ForeignKey("substations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)
    updated_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("name", "substation", name="uq_components_name_substation"),
        # Two look-alike names in one substation cannot both be stored, even by racing writers.
        Index("uq_components_substation_name_key", "substation_id", "name_key", unique=True),
        CheckConstraint("component_type IN ('transformer', 'line', 'switch')", name="type"),
        CheckConstraint("length(trim(name)) > 0 AND length(trim(substation)) > 0", name="names"),
        # The fields of each type are present and positive; the others are empty.
        CheckConstraint(
            "(component_type = 'transformer' AND coalesce(capacity_mva, 0) > 0"
            " AND coalesce(voltage_kv, 0) > 0 AND length_km IS NULL AND status IS NULL)"
            " OR (component_type = 'line' AND coalesce(length_km, 0) > 0"
            " AND coalesce(voltage_kv, 0) > 0"
            " AND capacity_mva IS NULL AND status IS NULL)"
            " OR (component_type = 'switch' AND coalesce(status, '') IN ('open', 'closed')"
            " AND capacity_mva IS NULL AND voltage_kv IS NULL AND length_km IS NULL)",
            name="fields_of_type",
        ),
        CheckConstraint(
            "to_substation IS NULL OR (component_type = 'line' "
            "AND length(trim(to_substation)) > 0 AND to_substation <> substation)",
            name="to_substation",
        ),
        CheckConstraint(
            "rated_current_a IS NULL OR (component_type = 'line' AND rated_current_a > 0)",
            name="rated_current_a",
        ),
    )


class Measurement(Base):
    __tablename__ = "measurements"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id", ondelete="CASCADE"))
    measurement_type: Mapped[str] = mapped_column(String(16))
    timestamp_us: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        Index(
            "uq_measurements_key",
            "component_id",
            "measurement_type",
            "timestamp_us",
            unique=True,
        ),
        # An OR of equalities, not IN: SQLite builds a lookup table for a 3-item IN list on
        # every row it checks, which doubled the cost of bulk inserts.
        CheckConstraint(
            "measurement_type = 'voltage' OR measurement_type = 'current' "
            "OR measurement_type = 'power'",
            name="type",
        ),
    )


class MeasurementRollup(Base):
    """Sum, count, min and max of measurements per component type, measurement type,
    15-minute bucket (UTC) and voltage level, kept up to date by every measurement and
    component write. ``voltage_kv`` is 0 for components without a level (switches): a key
    column cannot be empty, and no real level is 0 kV.

    Every time zone in use today has an offset that is a whole number of quarter hours, so a
    report's local days are whole sets of buckets; reports read these few rows instead of
    every measurement. ``gridboard rebuild-aggregates`` recomputes them from raw data.
    """

    __tablename__ = "measurement_rollups"

    component_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    measurement_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    bucket_us: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    voltage_kv: Mapped[float] = mapped_column(Float, primary_key=True)
    sample_count: Mapped[int] = mapped_column(BigInteger)
    value_sum: Mapped[float] = mapped_column(Float)
    value_min: Mapped[float] = mapped_column(Float)
    value_max: Mapped[float] = mapped_column(Float)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH), unique=True)
    display_name: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    email: Mapped[str] = mapped_column(String(TEXT_LENGTH), default="")
    password_hash: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # When the role last changed: API sign-in tokens issued before it no longer hold.
    role_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A deactivated user keeps their name and history but cannot sign in (core.access.users).
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # When the user was last deactivated: sign-ins from before it stay ended after reactivation.
    deactivated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # password accepted

    __table_args__ = (CheckConstraint("role IN ('user', 'manager')", name="role"),)


class ApiToken(Base):
    """A named token for a machine (a SCADA export, a script) to call the HTTP API. Only the
    SHA-256 of the token is stored; the token itself is shown once, when it is made."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    created_by: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (CheckConstraint("scope IN ('read', 'write')", name="scope"),)


class SignInAttempt(Base):
    """Recent failed sign-ins for a typed username, whether or not such a user exists. Keyed
    by the name as typed (normalised), so an unknown name is slowed and locked exactly like a
    known one and the refusals do not tell them apart (``core.access.auth``)."""

    __tablename__ = "sign_in_attempts"

    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    """Who did what to which rows (``core.logs`` writes one in the action's own transaction)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    actor: Mapped[str] = mapped_column(String(TEXT_LENGTH), default="", index=True)
    event: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    fields: Mapped[str] = mapped_column(Text, default="{}")  # JSON, secrets redacted


class SignInSession(Base):
    """One sign-in (a browser's, through the form): its cookie names it by a random id, kept
    here only as a SHA-256 digest. Signing out deletes it, so a copy of that cookie is refused
    afterwards while the user's other sign-ins go on (``core.access.auth``)."""

    __tablename__ = "sign_in_sessions"

    id_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Report(Base):
    """A report request and, once completed, its immutable result (filled by the report jobs)."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    period_end: Mapped[datetime] = mapped_column(UtcDateTime)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    result_json: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'failed', 'cancelled')", name="status"
        ),
        CheckConstraint("period_start < period_end", name="period"),
    )


class Limit(Base):
    """A manager's limits for one measurement type: of one component, or of every component of
    a type at a voltage level. Values are in the measurement's units (kV, A, MW); ``no_limit``
    switches the defaults off. Where no row applies, ``limit_defaults`` derive them from the
    grid model (core/alarms/limits.py)."""

    __tablename__ = "limits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    component_id: Mapped[int | None] = mapped_column(
        ForeignKey("components.id", ondelete="CASCADE"), index=True
    )
    component_type: Mapped[str | None] = mapped_column(String(16))
    voltage_kv: Mapped[float | None] = mapped_column(Float)
    measurement_type: Mapped[str] = mapped_column(String(16))
    no_limit: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    high_alarm: Mapped[float | None] = mapped_column(Float)
    high_warning: Mapped[float | None] = mapped_column(Float)
    low_alarm: Mapped[float | None] = mapped_column(Float)
    low_warning: Mapped[float | None] = mapped_column(Float)
    deadband_pct: Mapped[float | None] = mapped_column(Float)
    delay_samples: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint(
            "(component_id IS NOT NULL AND component_type IS NULL AND voltage_kv IS NULL)"
            " OR (component_id IS NULL AND component_type IS NOT NULL AND voltage_kv IS NOT NULL)",
            name="scope",
        ),
    )


class LimitDefault(Base):
    """One default of the limits derived from the grid model (a percentage, a count, minutes),
    by name; a name without a row has its built-in value (core/alarms/limits.py)."""

    __tablename__ = "limit_defaults"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_by: Mapped[str] = mapped_column(String(200))


class Alarm(Base):
    """One excursion of a component outside a limit (or its silence), from the sample that
    raised it to the one that cleared it: times are the measurements' own, in microseconds.
    ``state`` moves only through core/alarms/states.py, each move an ``alarm_events`` row."""

    __tablename__ = "alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id", ondelete="CASCADE"))
    # "" for communication lost, which concerns no one measurement type.
    measurement_type: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    severity: Mapped[str] = mapped_column(String(8))
    limit_value: Mapped[float | None] = mapped_column(Float)
    worst_value: Mapped[float | None] = mapped_column(Float)
    worst_at_us: Mapped[int | None] = mapped_column(BigInteger)
    raised_at_us: Mapped[int] = mapped_column(BigInteger, index=True)
    cleared_at_us: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(24), index=True)
    shelved_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    shelve_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)

    __table_args__ = (
        # One excursion is one alarm however often its history is evaluated.
        Index(
            "uq_alarms_key",
            "component_id",
            "measurement_type",
            "kind",
            "raised_at_us",
            unique=True,
        ),
        CheckConstraint(
            "state IN ('active_unacknowledged', 'active_acknowledged', "
            "'cleared_unacknowledged', 'closed')",
            name="state",
        ),
    )


class AlarmEvent(Base):
    """One transition of an alarm: who moved it, when, from which state to which, and why."""

    __tablename__ = "alarm_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    by: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)
