"""Alarm events reach a webhook: signed, once each, retried after a 500 and after the receiver
was down (on a clock the test moves), every attempt recorded, nothing queued by a rolled-back
write, and a delivery given up after its attempts run out."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.alarms.records import acknowledge_alarm
from core.db import Database
from core.models import utc_now
from core.notifications.delivery import MAX_ATTEMPTS, deliver_due, retry_delay
from core.notifications.webhooks import add_webhook, list_attempts, list_webhooks
from core.webhook_models import WebhookDelivery
from tests.alarms.support import T0, alarms, post
from tests.factories import MANAGER, make_component
from tests.notifications.receiver import SECRET, Receiver, serving

WORKER = "test-worker"


def _hook(db: Database, url: str) -> int:
    with db.write() as session:
        return add_webhook(session=session, actor=MANAGER, url=url, secret=SECRET).id


def _deliver(db: Database, *, after: timedelta = timedelta(0)) -> int:
    return deliver_due(
        db, worker=WORKER, lease_seconds=30, allow_private=True, now=utc_now() + after
    )


def _deliveries(db: Database) -> list[WebhookDelivery]:
    with db.read() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _raise_ack_clear(db: Database) -> int:
    """One alarm raised, acknowledged, cleared (its warning raised and cleared beside it)."""
    transformer = make_component(db)
    post(db, transformer.id, "voltage", [125.0])
    alarm = next(a for a in alarms(db) if a.kind.value == "high_alarm")
    with db.write() as session:
        acknowledge_alarm(session=session, actor=MANAGER, alarm_id=alarm.id, comment="crew sent")
    post(db, transformer.id, "voltage", [110.0], at=T0 + timedelta(minutes=1))
    return alarm.id


def test_raise_acknowledge_and_clear_each_arrive_once_signed(db, receiver: Receiver):
    _hook(db, receiver.url)
    alarm_id = _raise_ack_clear(db)
    assert _deliver(db) == 5  # alarm: raise, acknowledge, clear; warning: raise, clear
    assert _deliver(db) == 0
    mine = [r for r in receiver.received if r.body["alarm"]["id"] == alarm_id]
    assert [(r.event, r.body["event"], r.body["to_state"]) for r in mine] == [
        ("raise", "raise", "active_unacknowledged"),
        ("acknowledge", "acknowledge", "active_acknowledged"),
        ("clear", "clear", "closed"),
    ]
    assert all(r.signed for r in receiver.received)
    assert len(set(receiver.keys())) == 5
    assert mine[1].body["by"] == "mona" and mine[1].body["comment"] == "crew sent"
    raised = mine[0].body["alarm"]
    assert raised["component"] == "T1" and raised["limit"] == pytest.approx(121)
    assert {d.status for d in _deliveries(db)} == {"delivered"}


def test_a_wrong_secret_fails_the_receivers_check(db, allow_private):
    with serving(Receiver(port=0, secret="not-the-secret-the-webhook-has")) as receiver:
        _hook(db, receiver.url)
        _raise_ack_clear(db)
        _deliver(db)
    assert receiver.received and not any(r.signed for r in receiver.received)


def test_a_500_is_retried_with_the_same_key_after_the_backoff(db, receiver: Receiver):
    hook = _hook(db, receiver.url)
    transformer = make_component(db)
    receiver.answers = [500, 500]
    post(db, transformer.id, "voltage", [125.0])  # two alarms raised: two deliveries
    assert _deliver(db) == 2
    assert [r.answered for r in receiver.received] == [500, 500]
    assert _deliver(db, after=timedelta(seconds=5)) == 0  # not due before the backoff
    assert _deliver(db, after=retry_delay(1) + timedelta(seconds=1)) == 2
    first, second = receiver.received[:2], receiver.received[2:]
    assert [r.key for r in first] == [r.key for r in second]
    assert [r.answered for r in second] == [200, 200]
    with db.read() as session:
        attempts = list_attempts(session=session, actor=MANAGER, webhook_id=hook)
        (listed,) = list_webhooks(session=session, actor=MANAGER)
    assert sorted((a.number, a.status_code, a.delivery_status) for a in attempts) == [
        (1, 500, "delivered"), (1, 500, "delivered"), (2, 200, "delivered"), (2, 200, "delivered")
    ]  # fmt: skip
    assert all(a.error == "answered 500" for a in attempts if a.status_code == 500)
    assert (listed.pending, listed.delivered, listed.failed) == (0, 2, 0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_receiver_that_was_down_gets_everything_once_it_is_up(db, allow_private):
    port = _free_port()
    _hook(db, f"http://127.0.0.1:{port}/hook")
    alarm_id = _raise_ack_clear(db)
    assert _deliver(db) == 5  # nobody listens: each fails and waits
    pending = _deliveries(db)
    assert {d.status for d in pending} == {"pending"}
    assert all("could not reach the receiver" in (d.last_error or "") for d in pending)
    with serving(Receiver(port=port)) as receiver:
        assert _deliver(db, after=timedelta(minutes=1)) == 5
    assert sorted(receiver.keys()) == sorted(d.idempotency_key for d in pending)
    assert [r.event for r in receiver.received if r.body["alarm"]["id"] == alarm_id] == [
        "raise", "acknowledge", "clear"
    ]  # fmt: skip
    assert {d.status for d in _deliveries(db)} == {"delivered"}


def test_a_receiver_that_always_fails_is_given_up_and_shown_failed(db, receiver: Receiver):
    _hook(db, receiver.url)
    transformer = make_component(db)
    receiver.answers = [503] * (2 * MAX_ATTEMPTS)
    post(db, transformer.id, "voltage", [125.0])
    for attempt in range(MAX_ATTEMPTS):
        assert _deliver(db, after=timedelta(hours=attempt + 1)) == 2
    assert _deliver(db, after=timedelta(days=2)) == 0
    failed = _deliveries(db)
    assert [(d.status, d.attempts, d.last_error) for d in failed] == [
        ("failed", MAX_ATTEMPTS, "answered 503")
    ] * 2
    with db.read() as session:
        (listed,) = list_webhooks(session=session, actor=MANAGER)
    assert listed.failed == 2


def test_a_rolled_back_transition_queues_nothing_and_no_webhook_costs_nothing(db, receiver):
    transformer = make_component(db)
    post(db, transformer.id, "voltage", [125.0])  # no webhook yet: nothing queued
    assert _deliveries(db) == []
    _hook(db, receiver.url)
    alarm = next(a for a in alarms(db) if a.kind.value == "high_alarm")
    with pytest.raises(RuntimeError), db.write() as session:
        acknowledge_alarm(session=session, actor=MANAGER, alarm_id=alarm.id)
        raise RuntimeError("the write fails after the transition")
    assert _deliveries(db) == []
    with db.write() as session:
        acknowledge_alarm(session=session, actor=MANAGER, alarm_id=alarm.id)
    assert [d.event for d in _deliveries(db)] == ["acknowledge"]


def test_a_deactivated_webhook_gets_nothing_new(db, receiver: Receiver):
    from core.notifications.webhooks import set_webhook_active

    hook = _hook(db, receiver.url)
    with db.write() as session:
        set_webhook_active(session=session, actor=MANAGER, webhook_id=hook, active=False)
    _raise_ack_clear(db)
    assert _deliveries(db) == [] and _deliver(db) == 0


def test_a_shelving_is_sent_with_its_end_and_reason(db, receiver: Receiver):
    from datetime import UTC, datetime

    from core.alarms.records import shelve_alarm

    _hook(db, receiver.url)
    transformer = make_component(db)
    post(db, transformer.id, "voltage", [125.0])
    alarm = next(a for a in alarms(db) if a.kind.value == "high_alarm")
    until = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    with db.write() as session:
        shelve_alarm(
            session=session, actor=MANAGER, alarm_id=alarm.id, until=until,
            reason="transformer in maintenance", now=until - timedelta(days=1),
        )  # fmt: skip
    _deliver(db)
    (shelved,) = [r for r in receiver.received if r.event == "shelve"]
    assert shelved.body["alarm"]["shelved_until"] == "2030-01-02T03:04:00Z"
    assert shelved.body["comment"] == "transformer in maintenance"
    assert shelved.body["to_state"] == "active_unacknowledged"
