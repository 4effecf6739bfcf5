"""`gridboard api` killed (SIGKILL) during a large import: its import child dies with it (and
writes nothing), and the next server removes the body folder the killed one left. Linux: the
processes are read from /proc."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from core.access.api_tokens import create_api_token
from core.db import Database
from core.domain import SYSTEM_ACTOR
from tests.api.test_server import _free_port, _wait_for
from tests.faults.conftest import ROOT, make_components, measurement_count, measurements_csv


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.name.isdigit() and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _serve(url: str, port: int, temp: Path) -> subprocess.Popen[bytes]:
    environment = os.environ | {
        "GRIDBOARD_COOKIE_KEY": "k" * 40, "GRIDBOARD_LOG_LEVEL": "WARNING", "TMPDIR": str(temp),
        "GRIDBOARD_APP_RUNS_REPORTS": "false",
    }  # fmt: skip
    environment.pop("GRIDBOARD_DEMO", None)
    command = [sys.executable, "-m", "core.cli", "--database-url", url, "api", "--port", str(port)]
    return subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def _until(condition: Callable[[], object], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_a_killed_api_takes_its_import_child_along_and_a_restart_removes_its_folder(
    db: Database, tmp_path: Path
):
    make_components(db)
    with db.write() as session:
        token = create_api_token(session=session, actor=SYSTEM_ACTOR, name="feed", scope="write")
    body = measurements_csv(tmp_path / "big.csv", per_component=10_000).read_bytes()
    assert len(body) > 8 << 20  # imported in a child process
    temp = tmp_path / "tmp"
    temp.mkdir()
    url = db.engine.url.render_as_string(hide_password=False)
    port = _free_port()
    server = _serve(url, port, temp)
    try:
        _wait_for(port, server)

        def post() -> None:
            headers = {"Authorization": f"Bearer {token.secret}", "Content-Type": "text/csv"}
            with contextlib.suppress(httpx.HTTPError):  # the server is killed under it
                httpx.post(f"http://127.0.0.1:{port}/measurements/import", content=body,
                           headers=headers, timeout=120)  # fmt: skip

        poster = threading.Thread(target=post, daemon=True)
        poster.start()
        _until(lambda: _children(server.pid), "the import never started a child process")
        child = _children(server.pid)[0]
        folders = list(temp.glob("gridboard-import-*"))
        server.send_signal(signal.SIGKILL)
        server.wait()
        poster.join(timeout=60)
        _until(lambda: not _running(child), "the import child outlived the killed server")
        assert measurement_count(db) == 0
        # Nothing ran in the killed server: its body's folder is left, named after it.
        assert [folder.name.split("-")[2] for folder in folders] == [str(server.pid)]
        assert all(folder.exists() for folder in folders)

        restarted = _serve(url, port, temp)
        try:
            _wait_for(port, restarted)
            assert not any(folder.exists() for folder in folders)
            assert list(temp.glob("gridboard-import-*")) == []
        finally:
            restarted.kill()
            restarted.wait()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
