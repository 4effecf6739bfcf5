"""Server-side script run time of every page, on a seeded database with 1,000 reports.

    python bench/pages.py [--database-url URL] [--repeat 10]
    python bench/pages.py --components 10000 --per-component 300   # the Overview's scale

Seeds a throwaway SQLite database (100 components x 10,000 measurements, or the given sizes)
when none is given, adds 1,000 completed reports, then runs ``app.py`` as a signed-in manager
with Streamlit's AppTest and times each page's script run (median of the repeats after one
warm-up run, whose time is printed too: it includes what the process then remembers, the
newest measurement of every component and the network layout). AppTest builds the element tree
a browser would get, so the figures are an upper bound of the server's share of a page view.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

from sqlalchemy import insert, select  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from core.access.users import create_user  # noqa: E402
from core.db import Database  # noqa: E402
from core.domain import SYSTEM_ACTOR, Role  # noqa: E402
from core.grid.components import get_component  # noqa: E402
from core.measurements.measurements import series_bounds  # noqa: E402
from core.models import Report  # noqa: E402
from core.reports.jobs import generate_report  # noqa: E402
from tests.pages.conftest import sign_in_as  # noqa: E402
from tests.pages.server_process import like_one_server_process  # noqa: E402

BENCH_PASSWORD = f"timing-{secrets.token_urlsafe(12)}"  # must not contain the username

PAGES = [
    ("Overview", "pages/overview.py", {}),
    ("Network", "pages/network.py", {}),
    ("Substation", "pages/substation.py", {"name": "?"}),  # component 1's, found in prepare()
    ("Components", "pages/components.py", {}),
    ("Component (chart, all its data)", "pages/component.py", {"component": "1"}),
    ("Reports (list of 1,000)", "pages/reports.py", {}),
    ("Report", "pages/report.py", {"report": "1"}),
    ("Manage components", "pages/manage-components.py", {}),
    ("Measurements", "pages/measurements.py", {}),
    ("Users", "pages/users.py", {}),
]


def prepare(url: str) -> None:
    database = Database.from_url(url)
    database.migrate()
    with database.read() as session:
        PAGES[2][2]["name"] = get_component(session=session, component_id=1).substation
        bounds = series_bounds(session=session, component_id=1)
        has_reports = session.scalar(select(Report.id).limit(1)) is not None
    if not has_reports:
        assert bounds.first and bounds.last
        first = generate_report(
            database,
            actor=SYSTEM_ACTOR,
            start=bounds.first,
            end=bounds.last + timedelta(seconds=1),
        )
        with database.write() as session:
            template = session.get(Report, first.id)
            assert template is not None
            row = {
                column.name: getattr(template, column.key)
                for column in Report.__table__.columns
                if column.name != "id"
            }
            session.execute(insert(Report), [row] * 999)
            create_user(
                session=session,
                actor=SYSTEM_ACTOR,
                username="bench",
                password=BENCH_PASSWORD,
                role=Role.MANAGER,
            )
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--per-component", type=int, default=10_000)
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench-pages.db"
        gridboard = str(Path(sys.executable).with_name("gridboard"))
        sizes = ["--components", str(args.components), "--per-component", str(args.per_component)]
        subprocess.run([gridboard, "--database-url", url, "seed", *sizes], check=True)
    prepare(url)
    os.environ["GRIDBOARD_DATABASE_URL"] = url
    os.environ["GRIDBOARD_COOKIE_KEY"] = "bench-cookie-key-that-is-long-enough"
    print(f"database: {url}; medians of {args.repeat} script runs after a warm-up")
    with like_one_server_process():  # runs after the first are those of a running server
        time_pages(args.repeat, Database.from_url(url))


def time_pages(repeat: int, database: Database) -> None:
    for label, page, query in PAGES:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        sign_in_as(at, database, "bench")
        at.query_params.update(query)
        at.run()
        began = time.perf_counter()
        at.switch_page(page).run()
        first = (time.perf_counter() - began) * 1000
        if at.exception:
            print(f"{label}: {at.exception}")
            continue
        samples = []
        for _ in range(repeat):
            began = time.perf_counter()
            at.run()
            samples.append((time.perf_counter() - began) * 1000)
        title = at.title[0].value if at.title else "?"
        print(
            f"{label:34} {statistics.median(samples):7.1f} ms  (max {max(samples):.1f} ms,"
            f" first {first:.0f} ms)  page title: {title}"
        )


if __name__ == "__main__":
    main()
