"""The worker's minute check for silent components: ``check_communication`` in its own
transaction every minute, on a thread beside the report runner. See docs/architecture.md#alarms."""

from __future__ import annotations

import logging

from core.alarms.engine import AlarmCounts, check_communication
from core.db import Database
from core.periodic import Periodic

log = logging.getLogger(__name__)

EVERY_SECONDS = 60.0


def check_silences(database: Database) -> AlarmCounts:
    """One check, committed: the communication-lost alarms raised and cleared."""
    with database.write() as session:
        return check_communication(session)


class SilenceWatch(Periodic):
    """Calls ``check_silences`` every ``every_seconds`` until stopped; a failed check is
    logged and tried again next time (a busy database, a restart)."""

    name = "gridboard-silence"
    failure = "the check for silent components failed"

    def __init__(self, database: Database, every_seconds: float = EVERY_SECONDS) -> None:
        super().__init__(every_seconds)
        self.database = database

    def tick(self) -> None:
        counts = check_silences(self.database)
        if counts.raised or counts.cleared:
            log.info("communication lost: %d raised, %d cleared", counts.raised, counts.cleared)
