"""A flood of refused sign-ins, without a token, cannot stall readers: the checks run on the
sign-in threads and the slow-down is waited for without a thread, so the thread pool that
serves every other route stays free."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Any

from anyio import to_thread

import core.access.auth
from core.access.auth import sign_in
from core.errors import AuthenticationFailure, SignInLockout
from tests.api.conftest import bearer

SIGN_INS = 48  # more than the thread pool's 40 threads


def test_sign_ins_for_a_locked_name_never_take_the_readers_threads(
    client, world, people, monkeypatch
):
    for _ in range(5):  # lock a made-up name
        with suppress(AuthenticationFailure, SignInLockout):
            sign_in(people, username="nobody", password="guess-it-1", sleep=lambda _: None)
    counted = []
    reserve = core.access.auth.reserve_attempt

    def counting(*arguments: Any) -> Any:
        counted.append(1)
        return reserve(*arguments)

    monkeypatch.setattr(core.access.auth, "reserve_attempt", counting)

    def borrowed() -> float:
        return float(to_thread.current_default_thread_limiter().borrowed_tokens)

    def attempt(_: int) -> int:
        form = {"username": "nobody", "password": "guess-it-2"}
        return client.post("/auth/token", data=form).status_code

    taken_by_sign_ins = 0.0
    reader: tuple[int, int] | None = None  # its status, and sign-ins in flight when answered
    with ThreadPoolExecutor(SIGN_INS) as pool:
        pending = [pool.submit(attempt, n) for n in range(SIGN_INS)]
        while not all(future.done() for future in pending):
            # Sampled in the app's event loop, while only sign-ins are in flight.
            taken_by_sign_ins = max(taken_by_sign_ins, client.portal.call(borrowed))
            if reader is None and len(counted) >= SIGN_INS // 4:
                answer = client.get("/components", headers=bearer(world.read_token))
                in_flight = sum(not future.done() for future in pending)
                reader = answer.status_code, in_flight
            time.sleep(0.02)
        statuses = [future.result() for future in pending]
    assert statuses == [429] * SIGN_INS  # every sign-in was refused as locked
    assert taken_by_sign_ins == 0  # not one of the readers' threads held by a sign-in
    assert reader is not None
    status, in_flight = reader
    assert status == 200 and in_flight > 0  # the reader was served amid the flood
