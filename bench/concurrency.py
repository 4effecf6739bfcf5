"""Twenty people browsing and charting while a 1M-row import and five reports run.

    python bench/concurrency.py [--database-url URL] [--sessions 20]
                                [--components 100] [--per-component 10000]

Seeds a throwaway database (SQLite, or a new database on the PostgreSQL server of ``URL``),
starts ``--sessions`` browsing sessions and lets each open every page once (a production
server process is warm: its sessions share one), and once all are browsing starts at once:

- ``gridboard import-measurements`` of a CSV with as many new rows as the seed (the next
  stretch of time for every seeded series, so every row is new);
- five full-period reports, queued, and one ``gridboard worker`` to run them.

Each session is its own process running ``app.py`` with Streamlit's AppTest as a signed-in
user: the components list (half the time followed by a search), a component page with its
chart over all its data, the reports list, with a think time of 0.3-1.5 s between clicks,
until the import and the reports are done.

Prints the page script-run times (median, p95, max; the target is every run under 1 s), the
errors (the target is none), and checks that nothing was lost or duplicated: the measurement
count is the seed plus the import exactly, the import says it added every row, the rollups
equal the raw data, and each report completed exactly once.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.chdir(ROOT)

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
from benchlib import GRIDBOARD, machine, seed_command, throwaway_database  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from core import rollups  # noqa: E402
from core.access.users import create_user  # noqa: E402
from core.db import Database  # noqa: E402
from core.domain import SYSTEM_ACTOR, Role  # noqa: E402
from core.models import Component, Measurement, Report  # noqa: E402
from core.reports.jobs import ReportStatus, request_report  # noqa: E402

PASSWORD = "bench-browsing-passphrase-1"  # noqa: S105 -- throwaway bench users
COOKIE_KEY = "bench-cookie-key-that-is-long-enough-to-sign"


def session_loop(url: str, number: int, components: int, folder: str) -> None:
    """One person: sign in and open each page once (a warm server process, as in production,
    where every session shares one), say so, wait for the start, then click around until
    the stop file exists. Every script run is one sample."""
    import logging

    os.environ["GRIDBOARD_DATABASE_URL"] = url
    os.environ["GRIDBOARD_COOKIE_KEY"] = COOKIE_KEY
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import sign_in_as
    from tests.pages.server_process import like_one_server_process

    for name in logging.root.manager.loggerDict:  # AppTest's bare-mode warnings
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)

    here = Path(folder)
    samples: list[dict[str, object]] = []
    with like_one_server_process():  # this process is one server: only its first run is new
        rng = random.Random(number)
        component_ids = list(range(1, components + 1))
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        sign_in_as(at, Database.from_url(url), f"viewer{number}")

        def run(action: str) -> None:
            began = time.perf_counter()
            try:
                at.query_params.clear()
                if action == "components":
                    at.switch_page("pages/components.py").run()
                elif action == "search":
                    at.text_input[0].input(rng.choice(["T", "L", "SS-00", "feeder"])).run()
                elif action == "component":
                    at.query_params["component"] = str(rng.choice(component_ids))
                    at.switch_page("pages/component.py").run()
                else:
                    at.switch_page("pages/reports.py").run()
                error = str(at.exception[0].value) if at.exception else None
                if not error and at.error:
                    error = at.error[0].value
            except Exception as failure:  # a bench records every failure
                error = repr(failure)
            samples.append(
                {"action": action, "seconds": time.perf_counter() - began, "error": error}
            )

        at.run()
        for action in ("components", "search", "component", "reports"):
            run(action)
        samples.clear()  # the warm-up is not measured
        (here / f"ready-{number}").touch()
        while not (here / "go").exists():
            time.sleep(0.05)
        while not (here / "stop").exists():
            action = rng.choice(["components", "component", "component", "reports"])
            run(action)
            if action == "components" and rng.random() < 0.5:
                time.sleep(rng.uniform(0.3, 1.5))
                run("search")
            time.sleep(rng.uniform(0.3, 1.5))
    (here / f"s{number}.json").write_text(json.dumps(samples))


def import_file(database: Database, folder: Path) -> tuple[Path, int]:
    """The next stretch of every seeded series: as many rows as the seed, all of them new."""
    with database.read() as session:
        components = session.execute(
            select(Component.name, Component.substation).order_by(Component.id)
        ).all()
        last_us = session.scalar(select(func.max(Measurement.timestamp_us)))
        per_series = session.scalar(
            select(func.count()).where(
                Measurement.component_id == 1, Measurement.measurement_type == "power"
            )
        )
    assert last_us is not None and per_series
    first = last_us // 1_000_000 + 900
    stamps = (
        pl.Series(np.arange(first, first + 900 * per_series, 900) * 1_000_000)
        .cast(pl.Datetime("us", "UTC"))
        .dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    rows = len(components) * 3 * per_series
    rng = np.random.default_rng(7)
    frame = pl.DataFrame(
        {
            "component_name": np.repeat([c.name for c in components], 3 * per_series),
            "substation": np.repeat([c.substation for c in components], 3 * per_series),
            "timestamp": np.tile(stamps.to_numpy(), 3 * len(components)),
            "measurement_type": np.tile(
                np.repeat(["voltage", "current", "power"], per_series), len(components)
            ),
            "value": rng.normal(20, 2, rows).round(4),
        }
    )
    path = folder / "more-measurements.csv"
    frame.write_csv(path)
    return path, rows


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="a postgresql+psycopg:// URL (default: SQLite)")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--per-component", type=int, default=10_000)
    parser.add_argument("--reports", type=int, default=5)
    args = parser.parse_args()
    print(machine())
    folder = Path(tempfile.mkdtemp(prefix="gridboard-bench-concurrency-"))
    with throwaway_database(args.database_url, "concurrency") as url:
        subprocess.run(
            seed_command(url, args.components, args.per_component),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        database = Database.from_url(url)
        with database.write() as session:
            for number in range(args.sessions):
                create_user(session=session, actor=SYSTEM_ACTOR, username=f"viewer{number}",
                            password=PASSWORD, role=Role.USER)  # fmt: skip
            seeded = session.scalar(select(func.count()).select_from(Measurement)) or 0
            first, last = session.execute(
                select(func.min(Measurement.timestamp_us), func.max(Measurement.timestamp_us))
            ).one()
        csv_path, csv_rows = import_file(database, folder)
        print(f"seeded {seeded:,} measurements; importing {csv_rows:,} more from {csv_path.name}")

        from core.timestamps import from_micros

        with database.write() as session:
            report_ids = [
                request_report(
                    session=session,
                    actor=SYSTEM_ACTOR,
                    start=from_micros(first),
                    end=from_micros(last) + timedelta(seconds=1),
                ).id
                for _ in range(args.reports)
            ]
        stop_file = folder / "stop"
        context = multiprocessing.get_context("spawn")
        sessions = [
            context.Process(target=session_loop, args=(url, n, args.components, str(folder)))
            for n in range(args.sessions)
        ]
        for process in sessions:
            process.start()
        while len(list(folder.glob("ready-*"))) < args.sessions:
            if not all(process.is_alive() for process in sessions):
                raise SystemExit("a browsing session died while warming up")
            time.sleep(0.2)
        (folder / "go").touch()
        time.sleep(3)  # the sessions browse a little before the writes start
        began = time.perf_counter()
        env = {**os.environ, "GRIDBOARD_DATABASE_URL": url}
        importer = subprocess.Popen(
            [str(GRIDBOARD), "import-measurements", str(csv_path)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        worker = subprocess.Popen(
            [str(GRIDBOARD), "worker", "--poll-seconds", "0.5"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import_out, _ = importer.communicate()
        import_seconds = time.perf_counter() - began
        while True:
            with database.read() as session:
                statuses = session.scalars(
                    select(Report.status).where(Report.id.in_(report_ids))
                ).all()
            if all(s in (ReportStatus.COMPLETED, ReportStatus.FAILED) for s in statuses):
                break
            time.sleep(0.5)
        reports_seconds = time.perf_counter() - began
        time.sleep(2)  # a few more clicks after the writes are done
        stop_file.touch()
        for process in sessions:
            process.join()
        worker.terminate()
        worker.wait()

        samples = [
            sample
            for n in range(args.sessions)
            for sample in json.loads((folder / f"s{n}.json").read_text())
        ]
        with database.read() as session:
            total = session.scalar(select(func.count()).select_from(Measurement)) or 0
            reports = session.execute(
                select(Report.status, Report.attempts).where(Report.id.in_(report_ids))
            ).all()
            drift = rollups.differences(session)
        database.dispose()

    times = [float(s["seconds"]) for s in samples]
    errors = [s for s in samples if s["error"]]
    rate = csv_rows / import_seconds
    print(f"import: {import_out.strip()} in {import_seconds:.1f} s ({rate:,.0f} rows/s)")
    print(f"reports done {reports_seconds:.1f} s after the import started")
    median_ms, p95_ms = statistics.median(times) * 1000, percentile(times, 0.95) * 1000
    print(
        f"{args.sessions} sessions, {len(times)} page runs: median {median_ms:.0f} ms, "
        f"p95 {p95_ms:.0f} ms, max {max(times) * 1000:.0f} ms; "
        f"runs over 1 s: {sum(t > 1 for t in times)}"
    )
    for action in sorted({str(s["action"]) for s in samples}):
        some = [float(s["seconds"]) for s in samples if s["action"] == action]
        print(
            f"  {action:11} {len(some):5} runs, median {statistics.median(some) * 1000:5.0f} ms,"
            f" max {max(some) * 1000:5.0f} ms"
        )
    print(f"errors: {len(errors)}")
    for error in errors[:5]:
        print(f"  {error['action']}: {error['error']}")
    expected = seeded + csv_rows
    verdict = "exact" if total == expected else "MISMATCH"
    print(f"measurements: {total:,} (seeded {seeded:,} + imported {csv_rows:,}): {verdict}")
    print(f"reports: {[f'{status} after {attempts} attempt(s)' for status, attempts in reports]}")
    print(f"rollups equal raw data: {drift.is_empty()}")


if __name__ == "__main__":
    main()
