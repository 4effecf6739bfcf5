"""Structured logs: who did what to which rows, how long it took, how it ended; written on
commit, secrets redacted. See docs/architecture.md#errors-and-logs and docs/operations.md#logs."""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO, cast

from sqlalchemy import Table, bindparam, event, insert
from sqlalchemy.orm import Session, SessionTransaction

from core.config import Settings
from core.driver_statements import DriverStatement
from core.models import AuditEntry
from core.timestamps import iso_z

AUDIT_LOGGER = "gridboard.audit"
FIELDS = "gridboard"  # the LogRecord attribute that carries a record's structured fields
REDACTED = "[redacted]"

audit = logging.getLogger(AUDIT_LOGGER)

_PENDING = "gridboard.log.pending"
_QUIET = "gridboard.log.quiet"

# Field names whose values are never written, whatever they hold.
_SECRET_NAMES = re.compile(r"pass(word|wd)?|pwd|hash|secret|token|cookie|credential", re.I)
_SECRET_PATTERNS = (
    # A bcrypt hash ($2a$, $2b$, $2x$, $2y$ and the cost), whole or cut short (a long value
    # in an error's text can be shortened in the middle of one).
    re.compile(r"\$2[abxy]?\$\d{1,2}\$[./A-Za-z0-9]*"),
    re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"),  # a JWT (the sign-in cookie's value)
)
# ``password=hunter2``, ``"cookie_key": "..."``: the value after a secret-looking name.
_SECRET_ASSIGNMENT = re.compile(
    r"(?P<name>\b[\w-]*(?:pass(?:word|wd)?|pwd|secret|token|cookie[\w-]*)\b[\"']?\s*[:=]\s*)"
    r"(?P<quote>[\"']?)(?P<value>[^\s\"',;}]+)",
    re.I,
)
_URL_PASSWORD = re.compile(r"(?P<head>://[^:/@\s]+:)[^@\s]+@")


class Redactor(logging.Filter):
    """Masks secrets in a record's message, fields and traceback before any handler writes it.

    ``secrets`` are literal values known to be secret (the cookie key); the rest is found by
    shape. It rewrites the record and never drops it: a record with a masked value is still
    worth having.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _SECRET_PATTERNS:
            text = pattern.sub(REDACTED, text)
        text = _SECRET_ASSIGNMENT.sub(
            lambda m: (
                f"{m['name']}{m['quote']}{REDACTED}" if m["value"] != REDACTED else m.group(0)
            ),
            text,
        )
        return _URL_PASSWORD.sub(rf"\g<head>{REDACTED}@", text)

    def _value(self, name: str, value: Any) -> Any:
        if _SECRET_NAMES.search(name) and value not in (None, "", 0):
            return REDACTED
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping):
            return {str(k): self._value(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._value(name, v) for v in value]
        if isinstance(value, int | float | bool) or value is None:
            return value
        return self.redact(str(value))

    def mask(self, record: logging.LogRecord) -> None:
        """Mask the message, traceback and stack of ``record`` in place, as it is made."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it when it is written
            return
        masked = self.redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, Mapping):
            setattr(record, FIELDS, {k: self._value(k, v) for k, v in fields.items()})
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return iso_z(moment, timespec="milliseconds")


def _payload(record: logging.LogRecord) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "time": _time(record),
        "level": record.levelname,
        "logger": record.name,
        "message": record.getMessage(),
    }
    fields = getattr(record, FIELDS, None)
    if isinstance(fields, Mapping):
        payload.update({k: v for k, v in fields.items() if k not in payload})
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        payload["exception"] = record.exc_text
    return payload


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, then fields."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_payload(record), default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time level logger message key=value ...`` for people reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        payload = _payload(record)
        exception = payload.pop("exception", None)
        if payload.get("action") == payload["message"]:
            del payload["action"]  # the message already says it
        head = " ".join(str(payload.pop(k)) for k in ("time", "level", "logger", "message"))
        tail = " ".join(f"{k}={json.dumps(v, default=str)}" for k, v in payload.items())
        line = f"{head} {tail}".rstrip()
        return f"{line}\n{exception}" if exception else line


class _CurrentStreamHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stdout`` (or ``sys.stderr``) is at the time of the record,
    so a replaced stream (pytest's capture, a redirected stdout) is honoured and a closed one
    is never written to."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name

    @property
    def stream(self) -> TextIO:
        stream: TextIO = getattr(sys, self._name)
        return stream

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


_configured: tuple[object, ...] | None = None
_redactor = Redactor()  # the configured one (which knows the cookie key) once there is one
_handlers: list[logging.Handler] = []
_plain_record_factory: Callable[..., logging.LogRecord] | None = None


def _mask_every_record(redactor: Redactor) -> None:
    """Mask secrets in every record the process makes, whichever logger and handler write it
    (Streamlit's loggers, for one, do not pass their records to the root's handlers)."""
    global _plain_record_factory
    if _plain_record_factory is None:
        _plain_record_factory = logging.getLogRecordFactory()
    plain = _plain_record_factory

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = plain(*args, **kwargs)
        redactor.mask(record)
        return record

    logging.setLogRecordFactory(masked_record)


_lock = threading.RLock()  # reset_logging takes it again inside configure_logging


def configure_logging(settings: Settings, *, stream: str = "stdout") -> None:
    """Send logs to ``sys.<stream>`` and, if configured, to a rotating file.

    Idempotent: the app calls it on every script run and it acts once per process (again only
    when the settings change, as in tests). Handlers are put on the root logger, so library
    warnings come out in the same format; other handlers there are left alone.
    """
    global _configured, _redactor
    key = (
        stream,
        settings.log_level,
        settings.log_format,
        settings.log_file,
        settings.log_file_max_bytes,
        settings.log_file_backups,
        settings.cookie_key,
    )
    with _lock:
        if key == _configured:
            return
        reset_logging()
        root = logging.getLogger()
        formatter = JsonFormatter() if settings.log_format == "json" else TextFormatter()
        redactor = _redactor = Redactor([settings.cookie_key])
        handlers: list[logging.Handler] = [_CurrentStreamHandler(stream)]
        if settings.log_file:
            path = Path(settings.log_file)
            path.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(
                logging.handlers.RotatingFileHandler(
                    path,
                    maxBytes=settings.log_file_max_bytes,
                    backupCount=settings.log_file_backups,
                    encoding="utf-8",
                )
            )
        for handler in handlers:
            handler.setFormatter(formatter)
            handler.addFilter(redactor)
            root.addHandler(handler)
        _mask_every_record(redactor)
        _handlers.extend(handlers)
        root.setLevel(settings.log_level)
        # Alembic says "Context impl SQLiteImpl." on every start: noise, not an event. Its
        # warnings and the migrations it applies still come through.
        logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
        _configured = key


def _fields(
    action: str, user: str | None, started: float | None, outcome: str, ids: Mapping[str, Any]
) -> dict[str, Any]:
    fields: dict[str, Any] = {"user": user, "action": action, **ids}
    if started is not None:
        fields["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    fields["outcome"] = outcome
    return fields


def record(
    action: str,
    *,
    user: str | None,
    started: float | None = None,
    outcome: str = "ok",
    level: int = logging.INFO,
    **ids: Any,
) -> None:
    """Log one action now: ``user`` did ``action`` to ``ids``, taking since ``started``
    (a ``time.perf_counter()``), ending in ``outcome``. Never pass a secret in ``ids``."""
    audit.log(level, action, extra={FIELDS: _fields(action, user, started, outcome, ids)})


def on_commit(
    session: Session, action: str, *, user: str | None, started: float, **ids: Any
) -> None:
    """Audit ``action``: an ``audit_log`` row in ``session``'s transaction, so it is stored
    exactly when the change is, and a log record when that transaction commits (with the
    commit in the duration); if it rolls back instead, the record says ``rolled_back``."""
    ended_on_commit(session, action, user=user, started=started, outcome="ok", ids=ids)


def ended_on_commit(
    session: Session,
    action: str,
    *,
    user: str | None,
    started: float,
    outcome: str,
    level: int = logging.INFO,
    ids: Mapping[str, Any],
) -> None:
    """``on_commit`` of an action that ended in ``outcome`` (a refused sign-in, say), logged
    at ``level``."""
    if session.info.get(_QUIET, 0):
        return
    _AUDIT_ROW.run(session, audit_entry(action, user=user, outcome=outcome, ids=ids))
    session.info.setdefault(_PENDING, []).append((action, user, started, outcome, level, ids))


def _target(ids: Mapping[str, Any]) -> str:
    """``user carla``, ``component 12``, ``name backup``: what ``ids`` say was acted on."""
    if ids.get("username") not in (None, ""):
        return f"user {ids['username']}"
    for key, value in ids.items():
        if key.endswith("_id") and value is not None:
            return f"{key.removesuffix('_id').replace('_', ' ')} {value}"
    return f"name {ids['name']}" if ids.get("name") not in (None, "") else ""


_AUDIT_COLUMNS = ("at", "actor", "event", "target", "outcome", "fields")
_LENGTHS = {c.key: getattr(c.type, "length", None) for c in AuditEntry.__table__.columns}
# Written on every write, a single post's too: a plain statement in the action's transaction
# (an ORM object cost a unit-of-work flush per post, a third of its time: bench/JOURNAL.md).
_AUDIT_ROW = DriverStatement(
    insert(cast(Table, AuditEntry.__table__))
    .inline()
    .values({name: bindparam(name) for name in _AUDIT_COLUMNS}),
    processed=("at",),
)


def audit_entry(
    action: str, *, user: str | None, outcome: str, ids: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``audit_log`` row of ``action`` (its columns' values): its fields masked as the log
    masks them."""
    fields = {key: _redactor._value(key, value) for key, value in ids.items()}
    return {
        "at": datetime.now(UTC),
        "actor": _fitted(user or "", "actor"),
        "event": _fitted(action, "event"),
        "target": _redactor.redact(_target(ids)),
        "outcome": _fitted(outcome, "outcome"),
        "fields": json.dumps(fields, default=str, ensure_ascii=False, sort_keys=True),
    }


def _fitted(text: str, column: str) -> str:
    """``text`` cut to its ``audit_log`` column: the names GridBoard writes there fit already
    (a username is checked against its rule before anything is read), and a row is never lost
    to one that does not."""
    length = _LENGTHS.get(column)
    return text[:length] if isinstance(length, int) else text


@contextmanager
def quiet(session: Session) -> Iterator[None]:
    """Services called inside a bulk operation (an import's updates) log nothing of their
    own; the bulk operation logs one record with its counts."""
    session.info[_QUIET] = session.info.get(_QUIET, 0) + 1
    try:
        yield
    finally:
        session.info[_QUIET] -= 1


def _flush_pending(session: Session, outcome: str, level: int) -> None:
    pending = session.info.pop(_PENDING, None)
    for action, user, started, stated, stated_level, ids in pending or ():
        ended, ended_level = (stated, stated_level) if outcome == "ok" else (outcome, level)
        record(action, user=user, started=started, outcome=ended, level=ended_level, **ids)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint is not the end of the write
        _flush_pending(session, "ok", logging.INFO)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed ones were written by _after_commit
        _flush_pending(session, "rolled_back", logging.WARNING)


def reset_logging() -> None:
    """Remove what ``configure_logging`` added (closing the file); for tests and embedders."""
    global _configured, _plain_record_factory, _redactor
    with _lock:
        _redactor = Redactor()
        if _plain_record_factory is not None:
            logging.setLogRecordFactory(_plain_record_factory)
            _plain_record_factory = None
        root = logging.getLogger()
        for handler in _handlers:
            root.removeHandler(handler)
            handler.close()
        _handlers.clear()
        root.setLevel(logging.WARNING)
        _configured = None
