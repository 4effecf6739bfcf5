"""One process of a sign-in burst (``test_lockout_race``): ``python -m tests.security.guess_once
URL PASSWORD HASH``. Prints ``ready``, waits for a line on stdin, signs in once as carla, and
prints the outcome and how many times it checked a password against ``HASH``."""

from __future__ import annotations

import json
import sys

import bcrypt

from core.access.auth import sign_in
from core.db import Database
from core.errors import AuthenticationFailure, SignInLockout


def main(url: str, password: str, real_hash: bytes) -> None:
    checked: list[bytes] = []
    real_checkpw = bcrypt.checkpw

    def checkpw(candidate: bytes, hashed: bytes) -> bool:
        if hashed == real_hash:
            checked.append(candidate)
        return real_checkpw(candidate, hashed)

    bcrypt.checkpw = checkpw  # this process only
    database = Database.from_url(url)
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        sign_in(database, username="carla", password=password, sleep=lambda _: None)
        outcome = "signed in"
    except SignInLockout:
        outcome = "locked"
    except AuthenticationFailure:
        outcome = "refused"
    finally:
        database.dispose()
    print(json.dumps({"outcome": outcome, "checks": len(checked)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3].encode())
