"""The outbox: each alarm transition queues one delivery per active webhook, in the transition's
own transaction, inserted together when it commits. See docs/architecture.md#webhooks."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session, SessionTransaction

from core.models import Alarm, AlarmEvent, Component, utc_now
from core.timestamps import from_micros, iso_z
from core.webhook_models import Webhook, WebhookDelivery

_HOOKS = "notifications.hooks"
_QUEUED = "notifications.queued"
_PLACES = "notifications.places"


def _iso(moment: datetime | None) -> str | None:
    return iso_z(moment) if moment is not None else None


def _micros(value: int | None) -> str | None:
    return _iso(from_micros(value)) if value is not None else None


def payload(session: Session, alarm: Alarm, row: AlarmEvent, event_id: str) -> dict[str, Any]:
    """What a receiver is sent: the event, and the alarm as it stands after it."""
    name, substation = _place(session, alarm.component_id)
    return {
        "event_id": event_id,
        "event": row.event,
        "at": _iso(row.at),
        "by": row.by,
        "comment": row.comment,
        "from_state": row.from_state,
        "to_state": row.to_state,
        "alarm": {
            "id": alarm.id,
            "component_id": alarm.component_id,
            "component": name,
            "substation": substation,
            "measurement_type": alarm.measurement_type or None,
            "kind": alarm.kind,
            "severity": alarm.severity,
            "limit": alarm.limit_value,
            "worst_value": alarm.worst_value,
            "worst_at": _micros(alarm.worst_at_us),
            "raised_at": _micros(alarm.raised_at_us),
            "cleared_at": _micros(alarm.cleared_at_us),
            "shelved_until": _iso(alarm.shelved_until),
        },
    }


def _place(session: Session, component_id: int) -> tuple[str | None, str | None]:
    """A component's name and substation, read once per transaction, without flushing: an
    import's transitions stay batched in one flush (a flush per event doubled its time)."""
    places: dict[int, tuple[str | None, str | None]] = session.info.setdefault(_PLACES, {})
    if component_id not in places:
        with session.no_autoflush:
            row = session.execute(
                select(Component.name, Component.substation).where(Component.id == component_id)
            ).first()
        places[component_id] = (row[0], row[1]) if row is not None else (None, None)
    return places[component_id]


def queue(session: Session, alarm: Alarm, row: AlarmEvent) -> None:
    """Queue ``row`` (a transition of ``alarm``) for every active webhook. The webhooks are read
    once per transaction; the rows are inserted in one statement when it commits."""
    hooks: list[int] | None = session.info.get(_HOOKS)
    if hooks is None:
        with session.no_autoflush:
            query = select(Webhook.id).where(Webhook.active).order_by(Webhook.id)
            hooks = session.info[_HOOKS] = list(session.scalars(query))
    if not hooks:
        return
    event_id = str(uuid.uuid4())
    body = json.dumps(payload(session, alarm, row, event_id), separators=(",", ":"))
    now = utc_now()
    session.info.setdefault(_QUEUED, []).extend(
        {
            "webhook_id": hook,
            "event_id": event_id,
            "idempotency_key": str(uuid.uuid4()),
            "alarm_id": alarm.id,
            "event": row.event,
            "payload": body,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for hook in hooks
    )


@event.listens_for(Session, "before_commit")
def _insert_queued(session: Session) -> None:
    queued = session.info.pop(_QUEUED, None)
    if queued:
        session.execute(insert(WebhookDelivery), queued)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # a rolled-back write queued nothing
        for key in (_QUEUED, _HOOKS, _PLACES):
            session.info.pop(key, None)
