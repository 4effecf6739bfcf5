"""The image as compose.yaml runs it, on the host's PostgreSQL: two app replicas that only
queue reports, `gridboard worker`, and the HTTP API, each given the database URL and the
cookie key as secret files in /run/secrets.

The containers share the host's network (the PostgreSQL server listens on 127.0.0.1 only), so
each app is moved to a free port with STREAMLIT_SERVER_PORT. The tests run in order.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from core.db import Database
from core.domain import Actor, Role
from core.reports.jobs import request_report
from tests.deployment.browser import open_app, settle, sign_in
from tests.deployment.conftest import PostgresDatabase
from tests.deployment.engine import GUARD_SECONDS, Container, Engine

pytestmark = pytest.mark.image

MANAGER = "mona"
PASSWORD = "manager-pass-1"
COMPONENTS = 8
STOP_SECONDS = 60  # what `stop -t` gives a worker; compose.yaml gives 2 minutes
MEASUREMENT_TABLES = "measurements, measurement_rollups"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Replica:
    container: Container
    url: str


def audit(container: Container, action: str) -> list[dict[str, Any]]:
    """The container's JSON log records of one audit action."""
    records = []
    for line in container.logs().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("action") == action:
                records.append(record)
    return records


def report_row(postgres: PostgresDatabase, report_id: int) -> tuple[str, str | None, int]:
    with psycopg.connect(postgres.url.replace("+psycopg", "")) as connection:
        row = connection.execute(
            "SELECT status, claimed_by, attempts FROM reports WHERE id = %s", (report_id,)
        ).fetchone()
    assert row is not None, f"report {report_id} is not in the database"
    return row[0], row[1], row[2]


def wait_for_status(postgres: PostgresDatabase, report_id: int, status: str) -> None:
    deadline = time.monotonic() + GUARD_SECONDS
    while time.monotonic() < deadline:
        if report_row(postgres, report_id)[0] == status:
            return
        time.sleep(0.2)
    pytest.fail(f"report {report_id} never became {status}: {report_row(postgres, report_id)}")


def queue_report(postgres: PostgresDatabase) -> int:
    """A report asked for with the call the Reports page makes when a manager clicks."""
    database = Database.from_url(postgres.url)
    try:
        end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        with database.write() as session:
            record = request_report(
                session=session,
                actor=Actor(username=MANAGER, role=Role.MANAGER),
                start=end - timedelta(days=30),
                end=end,
                time_zone="Europe/Berlin",
            )
        return record.id
    finally:
        database.dispose()


class MeasurementsLocked:
    """The measurement tables locked by another transaction: a report claimed now blocks in
    its first query, so a test can stop its worker mid-report."""

    def __init__(self, postgres: PostgresDatabase) -> None:
        self.connection = psycopg.connect(postgres.url.replace("+psycopg", ""))
        self.connection.execute("SET lock_timeout = '30s'")
        self.connection.execute(f"LOCK TABLE {MEASUREMENT_TABLES} IN ACCESS EXCLUSIVE MODE")

    def release(self) -> None:
        if not self.connection.closed:
            self.connection.rollback()
            self.connection.close()


@pytest.fixture
def measurements_locked(postgres: PostgresDatabase) -> Iterator[MeasurementsLocked]:
    lock = MeasurementsLocked(postgres)
    yield lock
    lock.release()


@pytest.fixture(scope="module")
def secrets_dir(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresDatabase, cookie_key: str
) -> Path:
    """What compose.yaml mounts at /run/secrets: the database URL and the cookie key."""
    folder = tmp_path_factory.mktemp("secrets")
    folder.chmod(0o755)
    for name, value in (
        ("gridboard_database_url", postgres.url),
        ("gridboard_cookie_key", cookie_key),
    ):
        (folder / name).write_text(value + "\n", encoding="utf-8")
        (folder / name).chmod(0o644)  # read by uid 10001 in the container
    return folder


def gridboard_options(secrets_dir: Path, *extra: str) -> list[str]:
    return [
        "--network", "host", "-v", f"{secrets_dir}:/run/secrets:ro",
        "-e", "GRIDBOARD_LOG_FORMAT=json", *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def replicas(engine: Engine, secrets_dir: Path) -> list[Replica]:
    """Two app replicas, started together (both migrate the new database: one waits)."""
    started = []
    for number in (1, 2):
        port = _free_port()
        options = gridboard_options(
            secrets_dir,
            "-e", "GRIDBOARD_APP_RUNS_REPORTS=false",
            "-e", f"STREAMLIT_SERVER_PORT={port}", "-e", "STREAMLIT_SERVER_ADDRESS=127.0.0.1",
        )  # fmt: skip
        started.append(
            Replica(engine.start(f"pg-app-{number}", options), f"http://127.0.0.1:{port}")
        )
    for replica in started:
        replica.container.wait_for_http(f"{replica.url}/_stcore/health")
    return started


@pytest.fixture(scope="module")
def worker(engine: Engine, secrets_dir: Path) -> Container:
    started = engine.start("pg-worker", gridboard_options(secrets_dir), ["gridboard", "worker"])
    started.wait_for_log("waiting for reports")
    return started


def test_two_app_replicas_share_the_database_and_the_signed_in_session(
    postgres: PostgresDatabase, replicas: list[Replica], browser: Any, context: Any
):
    first, second = replicas
    first.container.exec(
        "gridboard", "create-user", "--role", "manager", MANAGER, "--password-stdin",
        input=f"{PASSWORD}\n",
    )  # fmt: skip
    first.container.exec(
        "gridboard", "seed", "--components", str(COMPONENTS), "--per-component", "300"
    )
    # the database URL came from the secret file: the users are in PostgreSQL
    with psycopg.connect(postgres.url.replace("+psycopg", "")) as connection:
        assert connection.execute("SELECT username FROM users").fetchall() == [(MANAGER,)]

    signed_in = context.new_page()
    sign_in(signed_in, first.url, MANAGER, PASSWORD)
    signed_in.get_by_role("heading", name="Overview").first.wait_for()  # where everyone starts
    open_app(signed_in, f"{first.url}/components")
    signed_in.get_by_text(f"1-{COMPONENTS} of {COMPONENTS}.").wait_for()

    # the same browser at the other replica: its cookie signs it in there too
    elsewhere = context.new_page()
    open_app(elsewhere, f"{second.url}/components")
    elsewhere.get_by_text("Signed in as").wait_for()
    elsewhere.get_by_text(f"1-{COMPONENTS} of {COMPONENTS}.").wait_for()
    assert elsewhere.get_by_role("button", name="Sign in").count() == 0

    # ...and only the cookie did: a browser without it gets the sign-in form
    stranger = browser.new_context()
    try:
        page = stranger.new_page()
        page.set_default_timeout(60_000)
        open_app(page, second.url)
        page.get_by_role("button", name="Sign in").wait_for()
        assert page.get_by_text("Signed in as").count() == 0
    finally:
        stranger.close()


def test_the_api_container_answers_a_token_request_and_lists_components(
    engine: Engine, secrets_dir: Path, postgres: PostgresDatabase
):
    port = _free_port()
    api = engine.start(
        "pg-api",
        # as compose.yaml runs it: the worker computes reports, never this API container
        gridboard_options(secrets_dir, "-e", "GRIDBOARD_APP_RUNS_REPORTS=false"),
        ["gridboard", "api", "--host", "127.0.0.1", "--port", str(port)],
    )
    url = f"http://127.0.0.1:{port}"
    api.wait_for_http(f"{url}/components", ok_statuses=(200, 401, 403))

    form = urllib.parse.urlencode({"username": MANAGER, "password": PASSWORD}).encode()
    with urllib.request.urlopen(f"{url}/auth/token", data=form, timeout=30) as answer:  # noqa: S310
        assert answer.status == 200
        token = json.loads(answer.read())["access_token"]
    listing = urllib.request.Request(  # noqa: S310 (localhost)
        f"{url}/components", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(listing, timeout=30) as answer:  # noqa: S310
        assert answer.status == 200
        body = answer.read().decode()
    with psycopg.connect(postgres.url.replace("+psycopg", "")) as connection:
        names = [name for (name,) in connection.execute("SELECT name FROM components")]
    assert len(names) == COMPONENTS
    missing = [name for name in names if json.dumps(name) not in body]
    assert missing == [], f"GET /components lacks {missing}: {body[:500]}"


def test_the_worker_computes_a_report_a_manager_asks_for_in_the_app(
    postgres: PostgresDatabase, replicas: list[Replica], worker: Container, context: Any
):
    first = replicas[0]
    page = context.new_page()
    sign_in(page, first.url, MANAGER, PASSWORD)
    page.get_by_test_id("stSidebar").get_by_role("link", name="Reports", exact=True).click()
    page.get_by_role("heading", name="Reports", exact=True).first.wait_for()
    settle(page)
    page.get_by_role("radio", name="All data").click()
    settle(page)
    page.get_by_role("button", name="Generate report").click()
    # an app that runs no reports says so: the report is the workers'
    queued = page.get_by_text(re.compile(r"Report #\d+ is queued for the report workers"))
    queued.wait_for()
    found = re.search(r"#(\d+)", queued.inner_text())
    assert found is not None
    report_id = int(found.group(1))

    page.goto(f"{first.url}/?report={report_id}")  # the report page waits for it live
    page.get_by_role("heading", name="Daily averages").first.wait_for()
    assert report_row(postgres, report_id)[0] == "completed"
    stored = [r for r in audit(worker, "report.completed") if r.get("report_id") == report_id]
    assert len(stored) == 1, f"the worker did not store report {report_id}:\n{worker.logs()}"
    assert all(r.get("report_id") != report_id for r in audit(first.container, "report.claimed"))


def _stop_in_background(container: Container) -> subprocess.Popen[str]:
    engine = container.engine
    return subprocess.Popen(
        engine.argv("stop", "-t", str(STOP_SECONDS), container.name),
        env=engine.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_stop_lets_the_worker_finish_its_report_and_exit_0(
    postgres: PostgresDatabase, worker: Container, measurements_locked: MeasurementsLocked
):
    report_id = queue_report(postgres)
    wait_for_status(postgres, report_id, "running")  # claimed, blocked in its first query
    started = time.monotonic()
    stopping = _stop_in_background(worker)
    worker.wait_for_log("stopping: waiting up to")  # SIGTERM arrived mid-report
    measurements_locked.release()  # the report can go on, inside the grace period
    stopping.communicate(timeout=STOP_SECONDS + 60)
    exit_code = int(worker.inspect("{{.State.ExitCode}}"))
    print(f"\n[image-test] the worker finished its report and stopped in "
          f"{time.monotonic() - started:.1f} s with status {exit_code}")  # fmt: skip
    assert exit_code == 0, worker.logs()[-4000:]
    status, _, attempts = report_row(postgres, report_id)
    assert (status, attempts) == ("completed", 1)
    assert [r["report_id"] for r in audit(worker, "report.completed")][-1] == report_id


def test_stop_makes_a_worker_hand_back_a_report_it_cannot_finish_and_exit_0(
    engine: Engine,
    secrets_dir: Path,
    postgres: PostgresDatabase,
    measurements_locked: MeasurementsLocked,
):
    short = engine.start(
        "pg-worker-short-grace",
        gridboard_options(secrets_dir),
        ["gridboard", "worker", "--stop-grace-seconds", "2"],
    )
    short.wait_for_log("waiting for reports")
    report_id = queue_report(postgres)
    wait_for_status(postgres, report_id, "running")
    exit_code, took = short.stop(STOP_SECONDS)
    print(f"\n[image-test] the worker handed back its report and stopped in {took:.1f} s "
          f"with status {exit_code}")  # fmt: skip
    assert exit_code == 0, short.logs()[-4000:]
    # back in the queue, not counted as an attempt, for another worker
    assert report_row(postgres, report_id) == ("pending", None, 0)
    assert [r["report_ids"] for r in audit(short, "report.released")] == [[report_id]]

    measurements_locked.release()
    engine.image_run(*gridboard_options(secrets_dir), engine.image, "gridboard", "worker", "--once")
    assert report_row(postgres, report_id)[0] == "completed"


def test_stop_ends_an_app_replica_promptly_with_status_0(replicas: list[Replica]):
    for replica in replicas:
        exit_code, took = replica.container.stop(10)
        print(f"\n[image-test] {replica.container.name} stopped in {took:.1f} s "
              f"with status {exit_code}")  # fmt: skip
        assert exit_code == 0, replica.container.logs()[-4000:]
