"""The worker's webhook sender: ``deliver_due`` every few seconds on a thread beside the report
runner, until stopped. See docs/operations.md#webhooks."""

from __future__ import annotations

from core.config import get_settings
from core.db import Database
from core.notifications.delivery import deliver_due
from core.periodic import Periodic


class WebhookWatch(Periodic):
    """Sends due deliveries every ``every_seconds`` (at once again while there are more); a
    failure (a busy database) is logged and tried again next time."""

    name = "gridboard-webhooks"
    failure = "sending webhooks failed"
    at_once = True

    def __init__(
        self, database: Database, *, worker: str, lease_seconds: float, every_seconds: float
    ) -> None:
        super().__init__(every_seconds)
        self.database = database
        self.worker = worker
        self.lease_seconds = lease_seconds

    def tick(self) -> None:
        self.run_once()

    def run_once(self) -> int:
        """Send what is due now; how many deliveries were attempted."""
        total = 0
        while True:
            sent = deliver_due(
                self.database, worker=self.worker, lease_seconds=self.lease_seconds,
                allow_private=get_settings().webhook_allow_private,
            )  # fmt: skip
            total += sent
            if not sent or self.stopping():
                return total
