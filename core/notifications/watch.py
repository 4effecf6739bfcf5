"""The worker's webhook sender: ``deliver_due`` every few seconds on a thread beside the report
runner, until stopped. See docs/operations.md#webhooks."""

from __future__ import annotations

import logging
import threading

from core.config import get_settings
from core.db import Database
from core.notifications.delivery import deliver_due

log = logging.getLogger(__name__)


class WebhookWatch:
    """Sends due deliveries every ``every_seconds`` (at once again while there are more); a
    failure (a busy database) is logged and tried again next time."""

    def __init__(
        self, database: Database, *, worker: str, lease_seconds: float, every_seconds: float
    ) -> None:
        self.database = database
        self.worker = worker
        self.lease_seconds = lease_seconds
        self.every_seconds = every_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> WebhookWatch:
        self._thread = threading.Thread(target=self._run, name="gridboard-webhooks", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> int:
        """Send what is due now; how many deliveries were attempted."""
        total = 0
        while True:
            sent = deliver_due(
                self.database, worker=self.worker, lease_seconds=self.lease_seconds,
                allow_private=get_settings().webhook_allow_private,
            )  # fmt: skip
            total += sent
            if not sent or self._stop.is_set():
                return total

    def _run(self) -> None:
        while True:
            try:
                self.run_once()
            except Exception:
                log.exception("sending webhooks failed; trying again in %g s", self.every_seconds)
            if self._stop.wait(self.every_seconds):
                return
