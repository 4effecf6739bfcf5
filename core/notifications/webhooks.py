"""Webhooks as managers handle them: add (URL and secret checked), list with their deliveries'
counts, deactivate, reactivate, delete, and every attempt. See docs/reference.md#webhooks."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import logs
from core.config import get_settings
from core.domain import Actor, require_manager
from core.errors import FieldProblem, InvalidInput, UnknownReference
from core.models import ID_RANGE
from core.notifications.urls import check_url
from core.webhook_models import SECRET_LENGTH, Webhook, WebhookAttempt, WebhookDelivery

MIN_SECRET = 16


class UnknownWebhook(UnknownReference):
    def __init__(self, webhook_id: int) -> None:
        self.webhook_id = webhook_id
        super().__init__(f"webhook {webhook_id} does not exist")


@dataclass(frozen=True, slots=True)
class WebhookRecord:
    """A webhook as managers see it: never its secret."""

    id: int
    url: str
    active: bool
    created_at: datetime
    created_by: str
    pending: int = 0
    delivered: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    webhook_id: int
    delivery_id: int
    alarm_id: int
    event: str
    idempotency_key: str
    number: int
    started_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float | None
    delivery_status: str


def check_secret(raw: object) -> str:
    """The secret as given (outer blanks and a file's final newline left out); ``InvalidInput``
    on field ``secret`` when it is too short or too long to sign with."""
    text = raw.strip() if isinstance(raw, str) else ""
    if len(text) < MIN_SECRET:
        raise InvalidInput.single(
            "secret",
            f"must be at least {MIN_SECRET} characters, got {len(text)}: use a random one "
            '(python -c "import secrets; print(secrets.token_urlsafe(32))")',
        )
    if len(text) > SECRET_LENGTH:
        raise InvalidInput.single(
            "secret", f"must be at most {SECRET_LENGTH} characters, got {len(text)}"
        )
    if any(not c.isprintable() for c in text):
        raise InvalidInput.single("secret", "must hold printable characters only")
    return text


def _host(url: str) -> str:
    """What the logs say of a URL: its host, not a path or query that may carry a token."""
    return urlsplit(url).hostname or "?"


def _record(hook: Webhook, counts: dict[str, int] | None = None) -> WebhookRecord:
    counts = counts or {}
    return WebhookRecord(
        hook.id, hook.url, hook.active, hook.created_at, hook.created_by,
        counts.get("pending", 0), counts.get("delivered", 0), counts.get("failed", 0),
    )  # fmt: skip


def add_webhook(*, session: Session, actor: Actor, url: object, secret: object) -> WebhookRecord:
    """A new active webhook: every alarm event from now on is sent to it. Audited."""
    started = time.perf_counter()
    require_manager(actor, "add webhooks")
    problems: list[FieldProblem] = []
    checked_url = checked_secret = ""
    try:
        checked_url = check_url(url, allow_private=get_settings().webhook_allow_private)
    except InvalidInput as error:
        problems += error.problems
    try:
        checked_secret = check_secret(secret)
    except InvalidInput as error:
        problems += error.problems
    if problems:
        raise InvalidInput(problems)
    hook = Webhook(url=checked_url, secret=checked_secret, active=True, created_by=actor.username)
    session.add(hook)
    session.flush()
    logs.on_commit(
        session, "webhook.add", user=actor.username, started=started, webhook_id=hook.id,
        host=_host(checked_url),
    )  # fmt: skip
    return _record(hook)


def _webhook(session: Session, webhook_id: int) -> Webhook:
    found = session.get(Webhook, webhook_id) if webhook_id in ID_RANGE else None
    if found is None:
        raise UnknownWebhook(webhook_id)
    return found


def list_webhooks(*, session: Session, actor: Actor) -> list[WebhookRecord]:
    """Every webhook, oldest first, with how many deliveries are pending, delivered, failed."""
    require_manager(actor, "see webhooks")
    counts: dict[int, dict[str, int]] = {}
    for hook_id, status, count in session.execute(
        select(WebhookDelivery.webhook_id, WebhookDelivery.status, func.count()).group_by(
            WebhookDelivery.webhook_id, WebhookDelivery.status
        )
    ):
        counts.setdefault(hook_id, {})[status] = count
    hooks = session.scalars(select(Webhook).order_by(Webhook.id))
    return [_record(h, counts.get(h.id)) for h in hooks]


def set_webhook_active(
    *, session: Session, actor: Actor, webhook_id: int, active: bool
) -> WebhookRecord:
    """Deactivate (no new deliveries; pending ones wait) or reactivate a webhook. Audited."""
    started = time.perf_counter()
    require_manager(actor, "change webhooks")
    hook = _webhook(session, webhook_id)
    hook.active = active
    session.flush()
    logs.on_commit(
        session, "webhook.activate" if active else "webhook.deactivate", user=actor.username,
        started=started, webhook_id=webhook_id,
    )  # fmt: skip
    return _record(hook)


def delete_webhook(*, session: Session, actor: Actor, webhook_id: int) -> None:
    """Remove a webhook with its deliveries and their attempts (undelivered ones are dropped).
    Audited."""
    started = time.perf_counter()
    require_manager(actor, "delete webhooks")
    hook = _webhook(session, webhook_id)
    session.delete(hook)
    session.flush()
    logs.on_commit(
        session, "webhook.delete", user=actor.username, started=started, webhook_id=webhook_id
    )


def list_attempts(
    *, session: Session, actor: Actor, webhook_id: int | None = None, limit: int = 50
) -> list[AttemptRecord]:
    """The newest ``limit`` attempts (of one webhook, or of all), newest first."""
    require_manager(actor, "see webhook attempts")
    query = select(WebhookAttempt, WebhookDelivery).join(
        WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id
    )
    if webhook_id is not None:
        _webhook(session, webhook_id)
        query = query.where(WebhookDelivery.webhook_id == webhook_id)
    rows = session.execute(query.order_by(WebhookAttempt.id.desc()).limit(limit)).all()
    return [_attempt(a, d) for a, d in rows]


def _attempt(a: WebhookAttempt, d: WebhookDelivery) -> AttemptRecord:
    return AttemptRecord(
        d.webhook_id, d.id, d.alarm_id, d.event, d.idempotency_key, a.number, a.started_at,
        a.status_code, a.error, a.duration_ms, d.status,
    )  # fmt: skip
