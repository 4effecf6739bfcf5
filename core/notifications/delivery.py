"""Sending the outbox: claim due deliveries under a lease, POST each signed, record the attempt,
retry with backoff until a 2xx or the attempts run out. See docs/architecture.md#webhooks."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from core import logs
from core.db import Database
from core.models import utc_now
from core.notifications.urls import RefusedTarget, allowed_addresses, port_of, split
from core.webhook_models import Webhook, WebhookAttempt, WebhookDelivery

SIGNATURE_HEADER = "X-GridBoard-Signature"
TIMESTAMP_HEADER = "X-GridBoard-Timestamp"
EVENT_HEADER = "X-GridBoard-Event"
KEY_HEADER = "Idempotency-Key"
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(hours=1)
TIMEOUT_SECONDS = 10.0
# Deliveries sent per call of ``deliver_due``; each is claimed alone, so its lease covers it.
BATCH = 50
STOPPED = "the worker stopped before the answer was recorded (killed or restarted)"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256, keyed by the secret, of ``timestamp.body``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 10 s, doubling, at most an hour."""
    return min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 20)), LONGEST_RETRY)


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: int
    attempt_id: int
    number: int
    url: str
    secret: str
    key: str
    event: str
    payload: str


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def claim_due(
    database: Database,
    *,
    worker: str,
    lease_seconds: float,
    now: datetime | None = None,
    limit: int = 1,
) -> list[Claimed]:
    """Claim up to ``limit`` due deliveries of active webhooks: each is due again a lease
    later, so if this worker dies another sends it (with the same idempotency key). Rows
    another worker holds are skipped (PostgreSQL) or wait for its commit (SQLite's lock)."""
    moment = now or utc_now()
    due = (
        select(WebhookDelivery, Webhook)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= moment,
            Webhook.active,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    with database.read() as session:  # nothing due (most polls): no write lock taken
        if session.execute(due.with_only_columns(WebhookDelivery.id)).first() is None:
            return []
    with database.write() as session:
        rows = session.execute(due.with_for_update(skip_locked=True, of=WebhookDelivery)).all()
        if not rows:
            return []
        session.execute(
            update(WebhookAttempt)
            .where(
                WebhookAttempt.delivery_id.in_([d.id for d, _ in rows]),
                WebhookAttempt.finished_at.is_(None),
            )
            .values(finished_at=moment, error=STOPPED)
        )
        claimed: list[tuple[WebhookDelivery, Webhook, WebhookAttempt]] = []
        for delivery, hook in rows:
            if delivery.attempts >= MAX_ATTEMPTS:  # its workers died on every attempt
                delivery.status, delivery.claimed_by = "failed", None
                delivery.last_error = f"gave up after {delivery.attempts} attempts: {STOPPED}"
                continue
            delivery.attempts += 1
            delivery.claimed_by = worker
            delivery.next_attempt_at = moment + timedelta(seconds=lease_seconds)
            attempt = WebhookAttempt(
                delivery_id=delivery.id, number=delivery.attempts, worker=worker, started_at=moment
            )
            session.add(attempt)
            claimed.append((delivery, hook, attempt))
        session.flush()
        return [
            Claimed(d.id, a.id, a.number, h.url, h.secret, d.idempotency_key, d.event, d.payload)
            for d, h, a in claimed
        ]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, not to a second lookup of the name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def send(claimed: Claimed, *, allow_private: bool, timeout: float = TIMEOUT_SECONDS) -> Outcome:
    """POST the delivery once; the answer's status, or what went wrong. Redirects are not
    followed (a 3xx is not delivered)."""
    started = time.perf_counter()
    body = claimed.payload.encode()
    stamp = str(int(time.time()))
    try:
        parts = split(claimed.url)
        host, port = parts.hostname or "", port_of(parts)
        address = str(allowed_addresses(host, port, allow_private=allow_private)[0])
        kind = _PinnedHTTPSConnection if parts.scheme.lower() == "https" else _PinnedHTTPConnection
        connection = kind(host, port, address, timeout)
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request(
                "POST",
                path,
                body=body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": "GridBoard-Webhooks/1",
                    SIGNATURE_HEADER: signature(claimed.secret, stamp, body),
                    TIMESTAMP_HEADER: stamp,
                    EVENT_HEADER: claimed.event,
                    KEY_HEADER: claimed.key,
                },
            )
            response = connection.getresponse()
            response.read(64 * 1024)
            status = response.status
        finally:
            connection.close()
    except (RefusedTarget, ValueError) as error:
        return Outcome(None, f"refused: {error}", _ms(started))
    except TimeoutError:
        return Outcome(None, f"no answer within {timeout:g} s", _ms(started))
    except (OSError, http.client.HTTPException) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        return Outcome(None, f"could not reach the receiver: {reason}", _ms(started))
    return Outcome(status, None if 200 <= status < 300 else f"answered {status}", _ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def record(
    database: Database,
    claimed: Claimed,
    outcome: Outcome,
    *,
    worker: str,
    now: datetime | None = None,
) -> str:
    """Store the attempt's outcome and what follows: ``delivered``, ``pending`` (retried after
    ``retry_delay``) or ``failed`` (no attempts left). A delivery another worker took over
    meanwhile (this one's lease ran out) keeps its state; the attempt is recorded all the same."""
    started = time.perf_counter()
    moment = now or utc_now()
    with database.write() as session:
        session.execute(
            update(WebhookAttempt)
            .where(WebhookAttempt.id == claimed.attempt_id)
            .values(
                finished_at=moment,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        )
        delivery = session.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.id == claimed.delivery_id,
                WebhookDelivery.claimed_by == worker,
                WebhookDelivery.attempts == claimed.number,
                WebhookDelivery.status == "pending",
            )
            .with_for_update()
        ).first()
        if delivery is None:
            return "taken over"
        delivery.claimed_by = None
        if outcome.delivered:
            delivery.status, delivery.delivered_at, delivery.last_error = "delivered", moment, None
        else:
            delivery.last_error = outcome.error
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = "failed"
            else:
                delivery.next_attempt_at = moment + retry_delay(delivery.attempts)
        logs.on_commit(
            session,
            f"webhook.{delivery.status}",
            user=None,
            started=started,
            delivery_id=delivery.id,
            attempt=claimed.number,
            status_code=outcome.status_code,
            error=outcome.error,
        )
        return delivery.status


def deliver_due(
    database: Database,
    *,
    worker: str,
    lease_seconds: float,
    allow_private: bool,
    now: datetime | None = None,
) -> int:
    """Send up to ``BATCH`` due deliveries, each claimed, sent and recorded in turn; how many
    were attempted. A send's timeout stays under a third of the lease, so a live worker
    never loses its claim to another mid-send."""
    timeout = min(TIMEOUT_SECONDS, lease_seconds / 3)
    sent = 0
    while sent < BATCH:
        batch = claim_due(database, worker=worker, lease_seconds=lease_seconds, now=now)
        if not batch:
            break
        for claimed in batch:
            outcome = send(claimed, allow_private=allow_private, timeout=timeout)
            record(database, claimed, outcome, worker=worker, now=now)
        sent += len(batch)
    return sent
