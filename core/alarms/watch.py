"""The worker's minute check for silent components: ``check_communication`` in its own
transaction every minute, on a thread beside the report runner. See docs/architecture.md#alarms."""

from __future__ import annotations

import logging
import threading

from core.alarms.engine import AlarmCounts, check_communication
from core.db import Database

log = logging.getLogger(__name__)

EVERY_SECONDS = 60.0


def check_silences(database: Database) -> AlarmCounts:
    """One check, committed: the communication-lost alarms raised and cleared."""
    with database.write() as session:
        return check_communication(session)


class SilenceWatch:
    """Calls ``check_silences`` every ``every_seconds`` until stopped; a failed check is
    logged and tried again next time (a busy database, a restart)."""

    def __init__(self, database: Database, every_seconds: float = EVERY_SECONDS) -> None:
        self.database = database
        self.every_seconds = every_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> SilenceWatch:
        self._thread = threading.Thread(target=self._run, name="gridboard-silence", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.every_seconds):
            try:
                counts = check_silences(self.database)
            except Exception:
                log.exception("the check for silent components failed; next in a minute")
                continue
            if counts.raised or counts.cleared:
                log.info("communication lost: %d raised, %d cleared", counts.raised, counts.cleared)
