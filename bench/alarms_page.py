"""The Alarms page over 100,000 alarms in history: its first view's server time and peak memory,
its queries one by one, and their plans.

    python bench/alarms_page.py [--database-url URL] [--alarms 100000] [--repeat 5] [--explain]

Builds a throwaway database (SQLite, or a new database on the PostgreSQL server of ``URL``)
holding 1,000 components and ``--alarms`` alarms raised over a year, about 1% of them still
open (the rest closed), then, in a child process whose peak RSS is read when it exits, runs
``app.py`` with Streamlit's AppTest as a signed-in manager: the Overview first (a server that is
already running), then the Alarms page's first view, then its History view, then more runs of
each (medians). The page's queries are timed on their own too (the count and the page of the
open list, of the history, of a kind and of one substation, and the CSV file of a month), each
in its own read session as the page opens them. ``--explain`` prints each query's plan.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

from sqlalchemy import func, insert, select, text  # noqa: E402

from bench.benchlib import (  # noqa: E402
    child_result,
    is_postgresql,
    machine,
    run_python_child,
    throwaway_database,
)
from core.access.users import create_user  # noqa: E402
from core.alarms.records import AlarmFilter, AlarmKind, AlarmOrder  # noqa: E402
from core.alarms.states import ACTIVE, OPEN, AlarmState  # noqa: E402
from core.db import Database  # noqa: E402
from core.domain import SYSTEM_ACTOR, Role  # noqa: E402
from core.exports import alarms_csv  # noqa: E402
from core.models import Alarm, Component  # noqa: E402
from core.seed import seed_grid  # noqa: E402
from core.timestamps import to_micros  # noqa: E402

BENCH_PASSWORD = f"timing-{secrets.token_urlsafe(12)}"
END = datetime(2024, 12, 31, tzinfo=UTC)
YEAR_US = 365 * 24 * 3600 * 1_000_000
KIND_TYPES = {
    AlarmKind.HIGH_ALARM: "voltage",
    AlarmKind.HIGH_WARNING: "voltage",
    AlarmKind.LOW_WARNING: "voltage",
    AlarmKind.LOW_ALARM: "voltage",
    AlarmKind.LOADING_ALARM: "power",
    AlarmKind.LOADING_WARNING: "power",
    AlarmKind.COMMUNICATION_LOST: "",
}
OPEN_SHARE = 0.01


def build(url: str, alarms: int) -> None:
    """1,000 components and ``alarms`` alarms over the year before ``END``."""
    database = Database.from_url(url)
    database.migrate()
    with database.write() as session:
        seed_grid(session=session, actor=SYSTEM_ACTOR, components=1000, per_component=0)
        create_user(
            session=session, actor=SYSTEM_ACTOR, username="bench", password=BENCH_PASSWORD,
            role=Role.MANAGER,
        )  # fmt: skip
    with database.read() as session:
        ids = list(session.scalars(select(Component.id)))
    chance = random.Random(29)
    rows = []
    still_open = int(alarms * OPEN_SHARE)
    for index in range(alarms):
        kind = chance.choice(list(KIND_TYPES))
        raised = to_micros(END) - YEAR_US + index * (YEAR_US // alarms)
        lasted = chance.randint(60, 6 * 3600) * 1_000_000
        recent = index >= alarms - still_open
        state = chance.choice(OPEN) if recent else AlarmState.CLOSED
        cleared = None if state in ACTIVE else raised + lasted
        rows.append(
            {
                "component_id": chance.choice(ids),
                "measurement_type": KIND_TYPES[kind],
                "kind": kind.value,
                "severity": "warning" if kind.value.endswith("warning") else "alarm",
                "limit_value": 121.0,
                "worst_value": 124.0,
                "worst_at_us": raised,
                "raised_at_us": raised,
                "cleared_at_us": cleared,
                "state": state.value,
            }
        )
    with database.write() as session:
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Alarm), rows[start : start + 10_000])
    if is_postgresql(url):  # as autovacuum would; GridBoard never analyzes a SQLite file
        with database.write() as session:
            session.execute(text("ANALYZE"))
    database.dispose()


def _queries(database: Database) -> dict[str, AlarmFilter]:
    with database.read() as session:
        substation = session.scalar(select(func.min(Component.substation)))
    month = END - timedelta(days=30)
    return {
        "open list (default)": AlarmFilter(),
        "history (cleared)": AlarmFilter((AlarmState.CLEARED_UNACKNOWLEDGED, AlarmState.CLOSED)),
        "history, one kind": AlarmFilter(
            (AlarmState.CLEARED_UNACKNOWLEDGED, AlarmState.CLOSED), kind=AlarmKind.LOW_ALARM
        ),
        "every state, one substation": AlarmFilter(tuple(AlarmState), substation=substation),
        "every state, last 30 days": AlarmFilter(tuple(AlarmState), start=month, end=END),
    }


def _order(filters: AlarmFilter) -> AlarmOrder:
    return AlarmOrder.URGENCY if filters.states == OPEN else AlarmOrder.NEWEST


def explain(url: str) -> None:
    database = Database.from_url(url)
    prefix = "EXPLAIN " if is_postgresql(url) else "EXPLAIN QUERY PLAN "
    now = datetime.now(UTC)
    for label, filters in _queries(database).items():
        page = filters.ordered(_order(filters), now).limit(50)
        count = (
            filters.count_query(now)
            if hasattr(filters, "count_query")  # the code before the index counted so
            else select(func.count()).select_from(filters.query(now).subquery())
        )
        for part, query in (("page", page), ("count", count)):
            with database.read() as session:
                compiled = query.compile(
                    dialect=session.bind.dialect, compile_kwargs={"literal_binds": True}
                )
                plan = session.execute(text(prefix + str(compiled))).all()
            print(f"--- {label}: {part}")
            for row in plan:
                print("   ", row[-1])
    database.dispose()


def child(url: str, repeat: int) -> None:
    """The measured work: the page's views through AppTest, then its queries alone."""
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import sign_in_as
    from tests.pages.server_process import like_one_server_process

    os.environ["GRIDBOARD_DATABASE_URL"] = url
    os.environ["GRIDBOARD_COOKIE_KEY"] = "bench-cookie-key-that-is-long-enough"
    database = Database.from_url(url)
    figures: dict[str, float] = {}
    with like_one_server_process():
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        sign_in_as(at, database, "bench")
        at.run()  # the Overview: the server is running, its caches warm
        began = time.perf_counter()
        at.switch_page("pages/alarms.py").run()
        figures["first view ms"] = (time.perf_counter() - began) * 1000
        assert not at.exception, at.exception
        assert at.dataframe[0].value.shape[0] == 50
        samples = []
        for _ in range(repeat):
            began = time.perf_counter()
            at.run()
            samples.append((time.perf_counter() - began) * 1000)
        figures["again ms (median)"] = statistics.median(samples)
        began = time.perf_counter()
        at.segmented_control(key="alarms.view").set_value("History").run()
        figures["history first ms"] = (time.perf_counter() - began) * 1000
        assert not at.exception, at.exception
    for label, filters in _queries(database).items():
        samples = []
        for _ in range(repeat):
            began = time.perf_counter()
            with database.read() as session:
                page = filters.page(session, order=_order(filters), limit=50)
            samples.append((time.perf_counter() - began) * 1000)
        figures[f"{label} ms ({page.total:,} match)"] = statistics.median(samples)
    month = _queries(database)["every state, last 30 days"]
    began = time.perf_counter()
    with database.read() as session:
        size = len(alarms_csv(session=session, filters=month, order=AlarmOrder.NEWEST))
    figures[f"CSV of the last 30 days ms ({size / 1e6:.1f} MB)"] = (
        time.perf_counter() - began
    ) * 1000
    database.dispose()
    child_result(**figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--alarms", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.repeat)
        return
    print(machine())
    with throwaway_database(args.database_url, "alarms") as url:
        began = time.perf_counter()
        build(url, args.alarms)
        backend = "PostgreSQL" if is_postgresql(url) else "SQLite"
        print(f"{backend}: {args.alarms:,} alarms built in {time.perf_counter() - began:.1f} s")
        if args.explain:
            explain(url)
        run = run_python_child([__file__, "--child", url, "--repeat", str(args.repeat)])
        if run.returncode:
            print(run.stderr[-3000:])
            raise SystemExit(run.returncode)
        for label, value in run.output.items():
            print(f"  {label:48} {value:8.1f}")
        print(f"  {'peak RSS of the child MB':48} {run.peak_rss_mb:8.1f}")


if __name__ == "__main__":
    main()
