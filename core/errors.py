"""GridBoard's domain errors: each carries the data that explains it, and ``str(error)`` is a
sentence a person can act on. See docs/architecture.md#errors-and-logs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


class GridBoardError(Exception):
    """Base of every error GridBoard raises on purpose."""


class ConfigurationError(GridBoardError):
    def __init__(self, setting: str, reason: str) -> None:
        self.setting = setting
        self.reason = reason
        super().__init__(f"{setting} {reason}")


class MissingPermission(GridBoardError):
    def __init__(self, username: str, role: str, action: str) -> None:
        self.username = username
        self.role = role
        self.action = action
        super().__init__(f"{username} ({role}) may not {action}: only a manager may do that")


class UnknownReference(GridBoardError):
    """Something that was asked for by id or name does not exist."""


class UnknownReport(UnknownReference):
    def __init__(self, report_id: int) -> None:
        self.report_id = report_id
        super().__init__(f"report {report_id} does not exist")


class UnfinishedReport(GridBoardError):
    """Only a completed report has tables."""

    def __init__(self, report_id: int, status: str) -> None:
        self.report_id = report_id
        self.status = status
        super().__init__(f"report {report_id} is {status}; only a completed report has tables")


class UncancellableReport(GridBoardError):
    """Only a pending or running report can be cancelled."""

    def __init__(self, report_id: int, status: str) -> None:
        self.report_id = report_id
        self.status = status
        super().__init__(f"report {report_id} is already {status} and cannot be cancelled")


class UndeletableReport(GridBoardError):
    """Only a finished report (completed, failed or cancelled) can be deleted."""

    def __init__(self, report_id: int, status: str) -> None:
        self.report_id = report_id
        self.status = status
        super().__init__(f"report {report_id} is {status}: cancel it before deleting it")


class UnknownComponent(UnknownReference):
    def __init__(self, component_id: int | str) -> None:
        self.component_id = component_id
        super().__init__(f"component {component_id} does not exist")


class UnknownMeasurement(UnknownReference):
    def __init__(self, measurement_id: int) -> None:
        self.measurement_id = measurement_id
        super().__init__(f"measurement {measurement_id} does not exist")


class UnknownSubstation(UnknownReference):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no component is in or connected to substation {name!r}")


class SubstationInUse(GridBoardError):
    """Only an empty substation can be deleted: no component in it, no line ending there."""

    def __init__(self, name: str, components: int, line_ends: int) -> None:
        self.name = name
        self.components = components
        self.line_ends = line_ends
        super().__init__(
            f"substation {name!r} holds {components} component(s) and {line_ends} line end(s) "
            "of other substations' lines; move or delete them first"
        )


class UnknownUser(UnknownReference):
    def __init__(self, username: str) -> None:
        self.username = username
        super().__init__(f"user {username!r} does not exist")


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One field of one input that breaks a rule."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class InvalidInput(GridBoardError):
    """An input (a form, one measurement) breaks one or more rules; nothing was written."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, field: str, reason: str) -> InvalidInput:
        return cls([FieldProblem(field, reason)])


class DuplicateComponent(GridBoardError):
    def __init__(self, name: str, substation: str) -> None:
        self.name = name
        self.substation = substation
        super().__init__(f"a component named {name!r} already exists in substation {substation!r}")


class DuplicateMeasurement(GridBoardError):
    def __init__(self, component_id: int, measurement_type: str, timestamp: str) -> None:
        self.component_id = component_id
        self.measurement_type = measurement_type
        self.timestamp = timestamp
        super().__init__(
            f"component {component_id} already has a {measurement_type} measurement at "
            f"{timestamp}; choose overwrite to replace it"
        )


class DuplicateUser(GridBoardError):
    def __init__(self, username: str) -> None:
        self.username = username
        super().__init__(f"a user named {username!r} already exists")


class LastManager(GridBoardError):
    def __init__(self, username: str) -> None:
        self.username = username
        super().__init__(f"{username} is the last manager; make another user a manager first")


class OwnAccount(GridBoardError):
    """A manager tried to deactivate or delete the account they are signed in with."""

    def __init__(self, username: str, action: str) -> None:
        self.username = username
        self.action = action
        super().__init__(f"you cannot {action} your own account ({username}): ask another manager")


class AuthenticationFailure(GridBoardError):
    def __init__(self) -> None:
        super().__init__("unknown username or wrong password")


class DeactivatedAccount(AuthenticationFailure):
    """The right password for an account a manager deactivated. Raised only once the password
    check succeeded, so it tells nothing to someone who does not know the password."""

    def __init__(self, username: str) -> None:
        self.username = username
        GridBoardError.__init__(self, "this account is deactivated: ask a manager")


class SignInLockout(GridBoardError):
    """Too many failed sign-ins for one username; refused until ``until`` (UTC)."""

    def __init__(self, username: str, until: datetime) -> None:
        self.username = username
        self.until = until
        super().__init__(
            f"too many failed sign-ins for {username!r}: try again after "
            f"{until:%H:%M} UTC, or ask a manager to reset the password"
        )


class TokenRefusal(GridBoardError):
    """A bearer token that is not (or no longer) honoured; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ScopeRefusal(GridBoardError):
    """A sign-in asked for a scope that is not user or manager."""

    def __init__(self, scopes: list[str]) -> None:
        self.scopes = scopes
        super().__init__(f"unknown scope {', '.join(scopes)}: ask for user or manager")


class BusyDatabase(GridBoardError):
    """Another writer held the database longer than this write was willing to wait; nothing
    of this write was kept."""

    def __init__(self, waited_ms: int | None = None) -> None:
        self.waited_ms = waited_ms
        waited = "" if waited_ms is None else f" (waited {_seconds(waited_ms)} for it)"
        super().__init__(
            f"the database is busy with another write{waited}: nothing was written; "
            "try again in a moment"
        )


def _seconds(milliseconds: int) -> str:
    seconds = milliseconds / 1000
    return f"{seconds:g} s"


class FullDisk(GridBoardError):
    """The database's disk (or its size limit) ran out mid-write; the write was rolled back."""

    def __init__(self) -> None:
        super().__init__(
            "the database disk is full: nothing was written (an import imported nothing); "
            "free disk space or ask the administrator, then try again"
        )


class DatabaseFailure(GridBoardError):
    """The database refused or failed a statement that no rule checked beforehand. This
    class itself is the server's condition (a lost connection, a missing table, a corrupt
    file); the request's own part is a subclass (``VanishedReference``, ``ConflictingWrite``,
    ``UnstorableValue``). Says what kind of failure it was, never the statement or its
    values, which can hold password hashes."""

    def __init__(
        self, kind: str, *, code: str | None = None, constraint: str | None = None
    ) -> None:
        self.kind = kind
        self.code = code
        self.constraint = constraint
        details = ", ".join(
            part
            for part in (constraint and f"constraint {constraint}", code and f"SQLSTATE {code}")
            if part
        )
        super().__init__(
            f"the database refused the operation: {kind}"
            + (f" ({details})" if details else "")
            + "; nothing was written, try again or ask the administrator"
        )


class VanishedReference(UnknownReference, DatabaseFailure):
    """A write refers to a row (a component) that a write made at the same moment deleted:
    what it asked for does not exist any more."""


class ConflictingWrite(DatabaseFailure):
    """A write clashes with stored data or a rule of the database (a key written at the same
    moment): the request conflicts with the database as it is now."""


class UnstorableValue(DatabaseFailure):
    """A value does not fit its column (too long, out of range), past every rule checked
    before the database."""


class UnavailableDatabase(GridBoardError):
    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot open the database {url}: {reason}")


class DatabaseFileChange(GridBoardError):
    """The SQLite database file was deleted or replaced while GridBoard had it open: a write
    would go into a file no one will open again, so nothing is read or written."""

    def __init__(self, path: str, change: str) -> None:
        self.path = path
        self.change = change
        super().__init__(
            f"the database file {path} was {change} while GridBoard was running: nothing was "
            "written; ask the administrator to restore it from a backup or restart GridBoard"
        )


class NonEmptyDatabase(GridBoardError):
    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(what)
