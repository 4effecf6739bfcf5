"""The Overview's reruns and sidebar page switches (Components <-> Reports) through ``app.py``,
as a signed-in manager in Streamlit's AppTest: what every page pays for the sidebar's alarm
count and the Overview for its alarm section.

    python bench/page_switch.py --database-url URL [--runs 15]

Run it from each checkout being compared, over the same database, interleaved (its code is
the checkout's: this folder's parent goes first on ``sys.path``); bench/alarm_views.py adds
alarms to a database. Prints median and fastest (milliseconds) and the load average.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

from streamlit.testing.v1 import AppTest  # noqa: E402

from core.access.users import create_user, list_users  # noqa: E402
from core.db import Database  # noqa: E402
from core.domain import SYSTEM_ACTOR, Role  # noqa: E402
from tests.pages.conftest import sign_in_as  # noqa: E402
from tests.pages.server_process import like_one_server_process  # noqa: E402


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return (time.perf_counter() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    os.environ["GRIDBOARD_DATABASE_URL"] = args.database_url
    os.environ.setdefault("GRIDBOARD_COOKIE_KEY", "bench-cookie-key-that-is-long-enough")
    database = Database.from_url(args.database_url)
    with database.write() as session:
        if not any(user.username == "bench" for user in list_users(session=session)):
            create_user(
                session=session, actor=SYSTEM_ACTOR, username="bench",
                password=f"timing-{secrets.token_urlsafe(12)}", role=Role.MANAGER,
            )  # fmt: skip
    with like_one_server_process():
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        sign_in_as(at, database, "bench")
        at.run()
        at.run()
        overview = [timed(at.run) for _ in range(args.runs)]
        switches = [
            timed(lambda page=page: at.switch_page(page).run())
            for _ in range(args.runs // 2 + 1)
            for page in ("pages/components.py", "pages/reports.py")
        ]
        assert not at.exception, at.exception

    def said(samples: list[float]) -> str:
        return f"median {statistics.median(samples):6.1f} ms, fastest {min(samples):6.1f} ms"

    print(
        f"Overview rerun {said(overview)} | page switch {said(switches)} | "
        f"load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
