"""The worker's watches share core.periodic: a tick every few seconds, failures logged and
tried again, a prompt stop."""

import threading
import time

from core.periodic import Periodic


class Counting(Periodic):
    def __init__(self, *, at_once: bool, fail: bool = False) -> None:
        super().__init__(every_seconds=0.05)
        self.at_once = at_once
        self.fail = fail
        self.ticks = 0
        self.first = threading.Event()

    def tick(self) -> None:
        self.ticks += 1
        self.first.set()
        if self.fail:
            raise RuntimeError("the database is busy")


def test_ticks_go_on_after_a_failure_and_stop_when_asked(caplog):
    watch = Counting(at_once=False, fail=True).start()
    time.sleep(0.4)
    watch.stop(timeout=2)
    ticked = watch.ticks
    time.sleep(0.15)
    assert ticked >= 2  # a failed tick did not end the thread
    assert watch.ticks == ticked  # nothing after stop
    assert "trying again in 0.05 s" in caplog.text


def test_at_once_ticks_before_the_first_wait_and_otherwise_after_it():
    eager = Counting(at_once=True)
    eager.every_seconds = 30.0
    eager.start()
    assert eager.first.wait(2)
    eager.stop(timeout=2)
    patient = Counting(at_once=False)
    patient.every_seconds = 30.0
    patient.start()
    assert not patient.first.wait(0.3)
    patient.stop(timeout=2)
    assert patient.ticks == 0
