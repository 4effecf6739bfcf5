"""A stoppable thread that does one piece of work every few seconds, as the worker's watches do.
See docs/operations.md#webhooks."""

from __future__ import annotations

import logging
import threading
from typing import Self

log = logging.getLogger(__name__)


class Periodic:
    """Calls ``tick`` every ``every_seconds`` on its own thread until ``stop``; a failed tick
    is logged as ``failure`` and tried again next time (a busy database, a restart). With
    ``at_once`` the first tick runs as the thread starts, else after the first wait."""

    name = "gridboard-periodic"
    failure = "a periodic task failed"
    at_once = False

    def __init__(self, every_seconds: float) -> None:
        self.every_seconds = every_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def stopping(self) -> bool:
        return self._stop.is_set()

    def _run(self) -> None:
        if not self.at_once and self._stop.wait(self.every_seconds):
            return
        while True:
            try:
                self.tick()
            except Exception:
                log.exception("%s; trying again in %g s", self.failure, self.every_seconds)
            if self._stop.wait(self.every_seconds):
                return
