"""``gridboard worker`` processes send the outbox: one killed with SIGKILL in the middle of a
delivery loses nothing, and the worker after it sends the same delivery with the same key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from core.db import Database
from core.notifications.delivery import STOPPED
from core.notifications.webhooks import add_webhook
from core.webhook_models import WebhookAttempt, WebhookDelivery
from tests.alarms.support import post
from tests.factories import MANAGER, make_component
from tests.notifications.receiver import SECRET, Receiver

ROOT = Path(__file__).resolve().parents[2]
GUARD_SECONDS = 90  # only against a hang: each wait normally ends within seconds


def _worker(db: Database, log: Path) -> subprocess.Popen[bytes]:
    url = db.engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "GRIDBOARD_WEBHOOK_ALLOW_PRIVATE": "true", "GRIDBOARD_LOG_FORMAT": "json"}
    command = [
        sys.executable, "-m", "core.cli", "--database-url", url, "worker",
        "--poll-seconds", "0.1", "--lease-seconds", "3",
    ]  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _deliveries(db: Database) -> list[WebhookDelivery]:
    with db.read() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_a_worker_killed_mid_delivery_loses_nothing(db, receiver: Receiver, tmp_path):
    with db.write() as session:
        add_webhook(session=session, actor=MANAGER, url=receiver.url, secret=SECRET)
    transformer = make_component(db)
    post(db, transformer.id, "voltage", [125.0, 110.0, 126.0])  # 3 raised, 2 cleared
    queued = _deliveries(db)
    assert len(queued) == 6
    receiver.hold = threading.Event()  # the first request waits: the worker is mid-delivery
    log = tmp_path / "workers.log"
    first = _worker(db, log)
    try:
        assert receiver.arrived.wait(GUARD_SECONDS), log.read_text()
        first.send_signal(signal.SIGKILL)
        assert first.wait(GUARD_SECONDS) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
    hold, receiver.hold = receiver.hold, None
    hold.set()  # the request of the dead worker is answered to no one
    assert [d.status for d in _deliveries(db)] == ["pending"] * 6
    second = _worker(db, log)
    try:
        deadline = time.monotonic() + GUARD_SECONDS
        while {d.status for d in _deliveries(db)} != {"delivered"}:
            assert time.monotonic() < deadline, log.read_text()
            assert second.poll() is None, log.read_text()
            time.sleep(0.2)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(GUARD_SECONDS) == 0, log.read_text()
    delivered = _deliveries(db)
    seen = Counter(receiver.keys())
    assert set(seen) == {d.idempotency_key for d in delivered}  # every event arrived
    assert all(r.signed for r in receiver.received)
    (twice,) = [key for key, count in seen.items() if count > 1]  # the killed one, same key
    assert seen[twice] == 2
    again = next(d for d in delivered if d.idempotency_key == twice)
    assert again.attempts == 2
    with db.read() as session:
        tries = session.execute(
            select(WebhookAttempt.number, WebhookAttempt.status_code, WebhookAttempt.error)
            .where(WebhookAttempt.delivery_id == again.id)
            .order_by(WebhookAttempt.number)
        ).all()
    assert [tuple(t) for t in tries] == [(1, None, STOPPED), (2, 200, None)]


def test_a_worker_run_once_sends_what_is_due_and_exits(db, receiver: Receiver, tmp_path):
    with db.write() as session:
        add_webhook(session=session, actor=MANAGER, url=receiver.url, secret=SECRET)
    post(db, make_component(db).id, "voltage", [125.0])  # an alarm and a warning raised
    url = db.engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "GRIDBOARD_WEBHOOK_ALLOW_PRIVATE": "true"}
    done = subprocess.run(
        [sys.executable, "-m", "core.cli", "--database-url", url, "worker", "--once"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=GUARD_SECONDS,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert [d.status for d in _deliveries(db)] == ["delivered", "delivered"]
    assert sorted(receiver.keys()) == sorted(d.idempotency_key for d in _deliveries(db))
