"""The HTTP API through real HTTP to `gridboard api`, on the 1M-measurement database.

    python bench/api.py [--database-url URL] [--rows 1000000] [--readers 20] [--posts 2000]

A shorter run: ``--rows 300000`` (a 12 MB import instead of 39 MB, still large enough to run
in the server's import child process; the 1M-measurement database stays the same).

Seeds 100 components x 10,000 measurements into a throwaway database, starts `gridboard api`
(one worker process, reports left to workers), and measures over keep-alive connections:

1. `GET /components` (the first 100, as the reference client asks): p50 and p95;
2. single `POST /measurements` from one client, one request at a time: requests per second
   through httpx (what a Python script would use) and through the standard library's
   `http.client` (a lean client: closer to what the server alone can answer), with a
   person's sign-in token and with a machine's write token (what a SCADA feed sends);
3. `POST /measurements/import` of a CSV of `--rows` new measurements, against
   `gridboard import-measurements` of the same file into a copy of the same database
   (SQLite; on PostgreSQL a template copy): wall time of each, and the peak RSS of the server
   process before and after the import and of the CLI process;
4. `--readers` clients reading (`GET /components` and a downsampled series) while one more
   such import runs: errors and p50/p95 of the reads.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchlib import (
    GRIDBOARD,
    ROOT,
    grid_components,
    is_postgresql,
    machine,
    plausible_csv,
    run_child,
    seed_command,
    throwaway_database,
)

PASSWORD = "grid-watch-7731"  # noqa: S105 (a throwaway benchmark user)
COOKIE_KEY = "b" * 40


def _hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) ``pid`` has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class _ChildPeak:
    """The largest peak RSS of any child of ``pid`` (the server's import process) while it
    runs, read from /proc every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_mb = pid, 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._done.wait(0.05):
            for child in _children(self.pid):
                try:
                    self.peak_mb = max(self.peak_mb, _hwm_mb(child))
                except OSError:
                    continue

    def __enter__(self) -> _ChildPeak:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()


def _post_values(components: pl.DataFrame) -> list[tuple[int, float]]:
    """What each component's single posts send as power, inside its limits: a transformer
    half its capacity, any other component 0.2 MW per kV."""
    return [
        (row["id"], round(0.5 * row["capacity_mva"], 4))
        if row["component_type"] == "transformer" and row["capacity_mva"]
        else (row["id"], round(0.2 * (row["voltage_kv"] or 1.0), 4))
        for row in components.iter_rows(named=True)
    ]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _copy_database(url: str, folder: Path) -> str:
    if not is_postgresql(url):
        source = Path(url.removeprefix("sqlite:///"))
        target = folder / "copy.db"
        subprocess.run(
            ["sqlite3", str(source), f".backup {target}"], check=True, capture_output=True
        )
        return f"sqlite:///{target}"
    import psycopg
    from sqlalchemy import make_url

    server = make_url(url)
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    name = f"{server.database}_copy"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{server.database}"')
    return server.set(database=name).render_as_string(hide_password=False)


def _drop_copy(url: str) -> None:
    if not is_postgresql(url):
        return
    import psycopg
    from sqlalchemy import make_url

    copy = make_url(url)
    admin = copy.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{copy.database}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server, else SQLite")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--port", type=int, default=8477)
    parser.add_argument("--posts", type=int, default=2000, help="single posts per client kind")
    parser.add_argument(
        "--only-posts", action="store_true", help="measure single posts only (no import file)"
    )
    parser.add_argument(
        "--per-component", type=int, default=10_000, help="seeded measurements per component"
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    environment = {
        "GRIDBOARD_COOKIE_KEY": COOKIE_KEY,
        "GRIDBOARD_APP_RUNS_REPORTS": "false",
        "GRIDBOARD_LOG_LEVEL": "WARNING",
        "PATH": str(Path(sys.executable).parent),
        # a run over another checkout (PYTHONPATH=that folder) serves that checkout's code
        **{name: os.environ[name] for name in ("PYTHONPATH",) if name in os.environ},
    }
    with throwaway_database(args.database_url, "api") as url, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        subprocess.run(seed_command(url, 100, args.per_component), check=True, capture_output=True)
        subprocess.run(
            [str(GRIDBOARD), "--database-url", url, "create-user", "bench", "--role", "manager",
             "--password-stdin"],
            input=PASSWORD + "\n", text=True, check=True, capture_output=True,
        )  # fmt: skip
        made = subprocess.run(
            [str(GRIDBOARD), "--database-url", url, "create-token", "bench-feed", "--scope",
             "write"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        feed_token = made.stdout.strip().splitlines()[-1]  # a SCADA feed's write token
        print(
            f"seeded {100 * args.per_component:,} measurements in "
            f"{time.perf_counter() - began:.1f} s"
        )
        first_csv, second_csv = folder / "first.csv", folder / "second.csv"
        components = grid_components(url)
        cli_seconds = 0.0
        if not args.only_posts:
            plausible_csv(first_csv, components, args.rows, start=datetime(2030, 1, 1, tzinfo=UTC))
            plausible_csv(second_csv, components, args.rows, start=datetime(2031, 1, 1, tzinfo=UTC))
            print(f"import file: {args.rows:,} rows, {first_csv.stat().st_size / 1e6:.1f} MB")
            copy = _copy_database(url, folder)
            cli = run_child(
                [str(GRIDBOARD), "--database-url", copy, "import-measurements", str(first_csv)]
            )
            assert cli.returncode == 0, cli.stderr
            _drop_copy(copy)
            cli_seconds = cli.seconds
            print(
                f"gridboard import-measurements: {cli.seconds:.2f} s, "
                f"peak RSS {cli.peak_rss_mb:.0f} MB"
            )

        server = subprocess.Popen(
            [str(GRIDBOARD), "--database-url", url, "api", "--port", str(args.port)],
            env=environment, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{args.port}"
            for _ in range(300):
                try:
                    httpx.get(f"{base}/openapi.json", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            with httpx.Client(base_url=base, timeout=600) as client:
                token = client.post(
                    "/auth/token", data={"username": "bench", "password": PASSWORD}
                ).json()["access_token"]
                client.headers["Authorization"] = f"Bearer {token}"
                _bench(
                    client, base, (token, feed_token), server.pid, first_csv, second_csv,
                    cli_seconds, args, _post_values(components),
                )  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=60)
        if not is_postgresql(url):
            shutil.rmtree(folder, ignore_errors=True)
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (over 1 on 2 cores: under load)")


def _bench(
    client: httpx.Client,
    base: str,
    tokens: tuple[str, str],
    pid: int,
    first_csv: Path,
    second_csv: Path,
    cli_seconds: float,
    args: argparse.Namespace,
    values: list[tuple[int, float]],
) -> None:
    for _ in range(20):  # warm up: connection, caches
        client.get("/components").raise_for_status()
    timings = []
    for _ in range(500):
        began = time.perf_counter()
        answer = client.get("/components")
        timings.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200 and len(answer.json()) == 100
    print(
        f"GET /components (100 items): p50 {statistics.median(timings):.2f} ms, "
        f"p95 {_percentile(timings, 0.95):.2f} ms over {len(timings)} requests"
    )

    def body(index: int, year: int) -> dict[str, object]:
        moment = datetime(year, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * (index // len(values)))
        component_id, value = values[index % len(values)]
        return {
            "component_id": component_id,
            "timestamp": moment.isoformat(),
            "value": value,
            "measurement_type": "power",
        }

    count = args.posts
    began = time.perf_counter()
    for index in range(count):
        answer = client.post("/measurements", json=body(index, 2029))
        assert answer.status_code == 201, answer.text
    seconds = time.perf_counter() - began
    print(
        f"POST /measurements (httpx): {count / seconds:,.0f} per second "
        f"({count} in {seconds:.2f} s, {seconds / count * 1000:.2f} ms each)"
    )
    for kind, token, year in (("sign-in token", tokens[0], 2028), ("write token", tokens[1], 2027)):
        lean = http.client.HTTPConnection(base.removeprefix("http://"), timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        cpu_before = _cpu_seconds(pid)
        began = time.perf_counter()
        for index in range(count):
            lean.request("POST", "/measurements", json.dumps(body(index, year)), headers)
            reply = lean.getresponse()
            text = reply.read()
            assert reply.status == 201, text
        seconds = time.perf_counter() - began
        cpu = _cpu_seconds(pid) - cpu_before
        lean.close()
        print(
            f"POST /measurements (http.client, {kind}): {count / seconds:,.0f} per second "
            f"({count} in {seconds:.2f} s, {seconds / count * 1000:.2f} ms each); "
            f"server CPU {cpu / count * 1000:.2f} ms per post"
        )
    if args.only_posts:
        return

    before = _hwm_mb(pid)
    began = time.perf_counter()
    with first_csv.open("rb") as body, _ChildPeak(pid) as child:
        answer = client.post(
            "/measurements/import", content=body, headers={"Content-Type": "text/csv"}
        )
    seconds = time.perf_counter() - began
    assert answer.status_code == 200 and answer.json()["inserted"] == args.rows, answer.text
    print(
        f"POST /measurements/import: {seconds:.2f} s ({args.rows / seconds:,.0f} rows/s), "
        f"{seconds / cli_seconds:.2f}x the CLI; server peak RSS {before:.0f} -> "
        f"{_hwm_mb(pid):.0f} MB; "
        + (
            f"imported in a child process, its peak RSS {child.peak_mb:.0f} MB"
            if child.peak_mb
            else "imported in a thread (the body was under 8 MB)"
        )
    )

    errors: list[str] = []
    reads: list[float] = []
    done = threading.Event()

    def reader(number: int) -> None:
        with httpx.Client(
            base_url=base, timeout=120, headers={"Authorization": f"Bearer {tokens[0]}"}
        ) as own:
            paths = ["/components", f"/components/{1 + number % 100}/measurements?max_points=500"]
            turn = 0
            while not done.is_set():
                began = time.perf_counter()
                try:
                    answer = own.get(paths[turn % 2])
                    if answer.status_code != 200:
                        errors.append(f"{answer.status_code} {answer.text[:80]}")
                except httpx.HTTPError as error:
                    errors.append(repr(error))
                reads.append((time.perf_counter() - began) * 1000)
                turn += 1

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(args.readers)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    with second_csv.open("rb") as body:
        answer = client.post(
            "/measurements/import", content=body, headers={"Content-Type": "text/csv"}
        )
    seconds = time.perf_counter() - began
    done.set()
    for thread in threads:
        thread.join()
    assert answer.status_code == 200, answer.text
    print(
        f"{args.readers} readers during an import ({seconds:.2f} s): {len(reads)} reads, "
        f"{len(errors)} errors, p50 {statistics.median(reads):.1f} ms, "
        f"p95 {_percentile(reads, 0.95):.1f} ms"
    )
    if errors:
        print("first errors:", errors[:3])


if __name__ == "__main__":
    main()
