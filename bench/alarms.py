"""What evaluating alarms costs the write paths, and `gridboard alarms evaluate` at scale.

    python bench/alarms.py [--database-url URL] [--rows 1000000] [--posts 1000] [--rounds 2]
    python bench/alarms.py --before /tmp/checkout ...    # also the code of another checkout
    python bench/alarms.py --scale-url sqlite:////tmp/big.db --skip-writes   # evaluate only

Each figure is taken per variant, the variants interleaved round by round (the order turned
each round), every process a fresh child:

- ``off``: this checkout with alarm evaluation taken out of the write paths (an import's
  ``_evaluate`` and a post's quick look do nothing, the component's key is read without the
  alarms' columns): what the paths cost before alarms, today's figure the targets compare to;
- ``on``: this checkout as it is;
- ``before``: with ``--before DIR``, that checkout's code as it is (``PYTHONPATH=DIR``).

Write paths (on a copy of one seeded database, 100 components x ``--per-component``):
`gridboard import-measurements` of a ``--rows`` CSV (wall time, rows/s, peak RSS), then
`gridboard api` on another copy: ``--posts`` single `POST /measurements` with a feed's write
token over one keep-alive `http.client` connection (posts/s and the server's CPU per post),
then, with evaluation on, a post outside its limit and `GET /alarms` polled until it lists
the alarm (``--latency`` times: median and max), then `POST /measurements/import` of the
same CSV (wall time, rows/s, the server's and its import child's peak RSS).

The import file follows each component's ratings (voltage near its nominal kV, current and
a transformer's power about half their rating), with ``--outside`` of its rows beyond their
alarm limit for one sample each (each raises and clears an alarm). The single posts are
power on each component in turn: 1.1x a transformer's capacity (beyond its loading alarm
limit, so a transformer's posts land on a component in alarm), 0.2 MW per kV on the others
(no limit), all plausible.

``--scale-url``: a seeded database (e.g. `gridboard seed --components 1000 --per-component
100000` into a file under /tmp) on which each variant with evaluation runs `gridboard alarms
evaluate --since 1970-01-01` per round, its alarms deleted before each run (so each run
raises them all): wall time, rows/s and peak RSS.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
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
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api import (
    COOKIE_KEY,
    PASSWORD,
    _ChildPeak,
    _children,
    _copy_database,
    _cpu_seconds,
    _drop_copy,
    _hwm_mb,
)
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

# Loaded first by every Python process of the ``off`` variant (the CLI, the server, the
# server's spawned import child): alarm evaluation out of the write paths, patched into each
# module as it is imported, so that nothing is imported earlier than GridBoard imports it.
OFF_SITECUSTOMIZE = """
import importlib.machinery, sys


def _store(module):
    from sqlalchemy import bindparam, literal, null, select
    from core.driver_statements import DriverStatement
    c = module._components
    module._COMPONENT_KEY = DriverStatement(
        select(c.component_type, c.voltage_kv, c.capacity_mva, c.rated_current_a,
               null().label("limits_revision"), literal(0).label("active_kinds"),
               literal(0).label("own_limits")).where(c.id == bindparam("component_id"))
    )


def _single(module):
    from core.alarms.engine import AlarmCounts
    module.evaluate_sample = lambda *args, **kwargs: AlarmCounts()


def _imports(module):
    module._evaluate = lambda *args, **kwargs: None


PATCHES = {
    "core.measurements.measurement_store": _store,
    "core.measurements.measurements": _single,
    "core.imports.measurements": _imports,
}


class _Patcher:
    def find_spec(self, name, path, target=None):
        if name not in PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            PATCHES[name](module)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _Patcher())
"""


def _environment(variant: str, folder: Path, before: Path | None) -> dict[str, str]:
    paths = {"off": [folder / "off"], "on": [], "before": [before]}[variant]
    environment = {
        "GRIDBOARD_COOKIE_KEY": COOKIE_KEY,
        "GRIDBOARD_APP_RUNS_REPORTS": "false",
        "GRIDBOARD_LOG_LEVEL": "WARNING",
        "PATH": str(Path(sys.executable).parent),
    }
    if paths:
        environment["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths if p is not None)
    return environment


def _post_values(components: pl.DataFrame) -> list[tuple[int, float]]:
    """What each component's single posts send as power: a transformer 1.1x its capacity
    (beyond its loading alarm: it stays in alarm), any other component 0.2 MW per kV."""
    return [
        (row["id"], round(1.1 * row["capacity_mva"], 4))
        if row["component_type"] == "transformer" and row["capacity_mva"]
        else (row["id"], round(0.2 * (row["voltage_kv"] or 1.0), 4))
        for row in components.iter_rows(named=True)
    ]


def _post_body(index: int, values: list[tuple[int, float]]) -> dict[str, object]:
    moment = datetime(2029, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * (index // len(values)))
    component_id, value = values[index % len(values)]
    return {
        "component_id": component_id,
        "timestamp": moment.isoformat(),
        "value": value,
        "measurement_type": "power",
    }


def _start_server(url: str, port: int, environment: dict[str, str]) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [str(GRIDBOARD), "--database-url", url, "api", "--port", str(port)],
        env=environment, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the API did not start")


def _posts(
    port: int, pid: int, token: str, count: int, values: list[tuple[int, float]]
) -> tuple[float, float]:
    """Posts per second and the server's CPU ms per post."""
    lean = http.client.HTTPConnection(f"127.0.0.1:{port}", timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    # warm-up, before the timed posts' first moment: each component twice (a transformer's
    # alarm is raised then), so the timed posts are a feed's steady state
    for index in range(-2 * len(values), 0):
        lean.request("POST", "/measurements", json.dumps(_post_body(index, values)), headers)
        reply = lean.getresponse()
        assert reply.status == 201, reply.read()
        reply.read()
    cpu_before = _cpu_seconds(pid)
    began = time.perf_counter()
    for index in range(count):
        lean.request("POST", "/measurements", json.dumps(_post_body(index, values)), headers)
        reply = lean.getresponse()
        answer = reply.read()
        assert reply.status == 201, answer
    seconds = time.perf_counter() - began
    cpu = _cpu_seconds(pid) - cpu_before
    lean.close()
    return count / seconds, cpu / count * 1000


def _latency(
    client: httpx.Client, feed_token: str, components: pl.DataFrame, times: int
) -> list[float]:
    """Seconds from sending a post outside its limit to the `GET /alarms` that lists it."""
    found: list[float] = []
    voltages = components.filter(pl.col("voltage_kv").is_not_null())
    for number in range(times):
        row = voltages.row(number % voltages.height, named=True)
        moment = datetime(2032, 1, 1, tzinfo=UTC) + timedelta(hours=number)
        began = time.perf_counter()
        answer = client.post(
            "/measurements",
            json={"component_id": row["id"], "measurement_type": "voltage",
                  "timestamp": moment.isoformat(), "value": 1.5 * row["voltage_kv"]},
            headers={"Authorization": f"Bearer {feed_token}"},
        )  # fmt: skip
        assert answer.status_code == 201, answer.text
        raised_us = int(moment.timestamp() * 1_000_000)
        while time.perf_counter() - began < 10:
            page = client.get(
                "/alarms", params={"component_id": row["id"], "state": "active", "limit": 1000}
            ).json()
            if any(
                a["kind"] == "high_alarm"
                and a["measurement_type"] == "voltage"
                and int(datetime.fromisoformat(a["raised_at"]).timestamp() * 1e6) == raised_us
                for a in page["alarms"]
            ):
                break
        else:
            raise AssertionError(f"no alarm listed 10 s after a post to component {row['id']}")
        found.append(time.perf_counter() - began)
    return found


class _ChildCpu:
    """The CPU time the children of ``pid`` (the server's import process) spend while it
    runs, read from /proc every 50 ms (the last reading of each)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _read(self) -> None:
        for child in _children(self.pid):
            try:
                used = _cpu_seconds(child)
            except OSError:
                continue
            self.first.setdefault(child, used)
            self.last[child] = used

    def _watch(self) -> None:
        while not self._done.wait(0.05):
            self._read()

    def seconds(self) -> float:
        return sum(self.last[child] - self.first[child] for child in self.last)

    def __enter__(self) -> _ChildCpu:
        self._read()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()
        self._read()


def _write_round(
    variant: str, base_url: str, folder: Path, csv: Path, feed_token: str,
    components: pl.DataFrame, args: argparse.Namespace,
) -> dict[str, float]:  # fmt: skip
    environment = _environment(variant, folder, args.before)
    figures: dict[str, float] = {}
    copy = _copy_database(base_url, folder)
    cli = run_child(
        [str(GRIDBOARD), "--database-url", copy, "import-measurements", str(csv)],
        env=environment,
    )
    assert cli.returncode == 0, cli.stderr
    _drop_copy(copy)
    if not is_postgresql(copy):
        Path(copy.removeprefix("sqlite:///")).unlink()
    figures |= {"cli_s": cli.seconds, "cli_cpu": cli.cpu_seconds, "cli_rss": cli.peak_rss_mb}

    copy = _copy_database(base_url, folder)
    server = _start_server(copy, args.port, environment)
    try:
        base = f"http://127.0.0.1:{args.port}"
        with httpx.Client(base_url=base, timeout=600) as client:
            token = client.post(
                "/auth/token", data={"username": "bench", "password": PASSWORD}
            ).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            figures["posts_per_s"], figures["cpu_ms"] = _posts(
                args.port, server.pid, feed_token, args.posts, _post_values(components)
            )
            if variant != "off":
                waits = _latency(client, feed_token, components, args.latency)
                figures["latency_p50"] = statistics.median(waits)
                figures["latency_max"] = max(waits)
            rss_before = _hwm_mb(server.pid)
            cpu_before = _cpu_seconds(server.pid)
            began = time.perf_counter()
            with (
                csv.open("rb") as body,
                _ChildPeak(server.pid) as child,
                _ChildCpu(server.pid) as cpu,
            ):
                answer = client.post(
                    "/measurements/import", content=body, headers={"Content-Type": "text/csv"}
                )
            figures["api_s"] = time.perf_counter() - began
            figures["api_cpu"] = _cpu_seconds(server.pid) - cpu_before + cpu.seconds()
            assert answer.status_code == 200, answer.text
            figures["api_child_rss"] = child.peak_mb
            figures["server_rss_growth"] = _hwm_mb(server.pid) - rss_before
    finally:
        server.terminate()
        server.wait(timeout=60)
        _drop_copy(copy)
        if not is_postgresql(copy):
            Path(copy.removeprefix("sqlite:///")).unlink(missing_ok=True)
    return figures


def _show(variant: str, round_: int, figures: dict[str, float], rows: int) -> None:
    latency = (
        f", post to GET /alarms p50 {figures['latency_p50'] * 1000:.0f} ms "
        f"(max {figures['latency_max'] * 1000:.0f})"
        if "latency_p50" in figures
        else ""
    )
    print(
        f"  round {round_} {variant:>6}: CLI import {figures['cli_s']:.2f} s "
        f"({rows / figures['cli_s']:,.0f} rows/s, CPU {figures['cli_cpu']:.2f} s, "
        f"peak {figures['cli_rss']:.0f} MB); API import {figures['api_s']:.2f} s "
        f"({rows / figures['api_s']:,.0f} rows/s, CPU {figures['api_cpu']:.2f} s, child "
        f"peak {figures['api_child_rss']:.0f} MB, server +{figures['server_rss_growth']:.0f} MB); "
        f"posts {figures['posts_per_s']:,.0f}/s, server CPU {figures['cpu_ms']:.3f} ms/post"
        f"{latency}",
        flush=True,
    )


def _writes(args: argparse.Namespace, variants: list[str], folder: Path) -> None:
    with throwaway_database(args.database_url, "alarms") as url:
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
        feed_token = made.stdout.strip().splitlines()[-1]
        components = grid_components(url)
        csv = folder / "import.csv"
        beyond = plausible_csv(csv, components, args.rows, args.outside)
        print(
            f"seeded {100 * args.per_component:,} measurements in "
            f"{time.perf_counter() - began:.1f} s; import file {args.rows:,} rows, "
            f"{csv.stat().st_size / 1e6:.1f} MB, {beyond} beyond their alarm limit",
            flush=True,
        )
        results: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
        for round_ in range(1, args.rounds + 1):
            order = variants if round_ % 2 else variants[::-1]
            for variant in order:
                figures = _write_round(variant, url, folder, csv, feed_token, components, args)
                results[variant].append(figures)
                _show(variant, round_, figures, args.rows)
        print("medians over the rounds; ratio to off (evaluation taken out) in brackets:")
        for variant in variants:
            _summary(variant, results[variant], results["off"])


def _summary(variant: str, runs: list[dict[str, float]], off_runs: list[dict[str, float]]) -> None:
    med = {k: statistics.median(f[k] for f in runs) for k in runs[0]}
    off = {k: statistics.median(f[k] for f in off_runs) for k in off_runs[0]}

    def ratio(key: str) -> str:
        return f"{med[key] / off[key]:.3f}x"

    print(
        f"  {variant:>6}: CLI import {med['cli_s']:.2f} s ({ratio('cli_s')}; "
        f"CPU {med['cli_cpu']:.2f} s, {ratio('cli_cpu')}), "
        f"API import {med['api_s']:.2f} s ({ratio('api_s')}; "
        f"CPU {med['api_cpu']:.2f} s, {ratio('api_cpu')}), "
        f"server CPU per post {med['cpu_ms']:.3f} ms ({ratio('cpu_ms')}; "
        f"best {min(f['cpu_ms'] for f in runs):.3f}), "
        f"posts {med['posts_per_s']:,.0f}/s ({ratio('posts_per_s')})"
    )


def _scale(args: argparse.Namespace, variants: list[str], folder: Path) -> None:
    engine = create_engine(args.scale_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT count(*) FROM measurements")).scalar_one()
    print(f"alarms evaluate over {rows:,} measurements ({args.scale_url})", flush=True)
    for round_ in range(1, args.scale_rounds + 1):
        order = variants if round_ % 2 else variants[::-1]
        for variant in order:
            with engine.begin() as connection:
                connection.execute(text("DELETE FROM alarm_events"))
                connection.execute(text("DELETE FROM alarms"))
            run = run_child(
                [str(GRIDBOARD), "--database-url", args.scale_url, "alarms", "evaluate",
                 "--since", "1970-01-01"],
                env=_environment(variant, folder, args.before),
            )  # fmt: skip
            assert run.returncode == 0, run.stderr
            with engine.connect() as connection:
                alarms = connection.execute(text("SELECT count(*) FROM alarms")).scalar_one()
            print(
                f"  round {round_} {variant:>6}: {run.seconds:.1f} s ({rows / run.seconds:,.0f} "
                f"rows/s), CPU {run.cpu_seconds:.1f} s ({rows / run.cpu_seconds:,.0f} rows per "
                f"CPU second), peak RSS {run.peak_rss_mb:.0f} MB, {alarms:,} alarms",
                flush=True,
            )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server, else SQLite")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the import file")
    parser.add_argument("--per-component", type=int, default=10_000)
    parser.add_argument("--outside", type=float, default=0.001, help="share of rows outside")
    parser.add_argument("--posts", type=int, default=1000, help="single posts per round")
    parser.add_argument("--latency", type=int, default=20, help="posts timed until listed")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--port", type=int, default=8479)
    parser.add_argument("--before", type=Path, help="another checkout, run as the 'before'")
    parser.add_argument("--skip-writes", action="store_true", help="only --scale-url")
    parser.add_argument("--scale-url", help="a seeded database to run alarms evaluate on")
    parser.add_argument("--scale-rounds", type=int, default=1)
    args = parser.parse_args()
    print(f"machine: {machine()}", flush=True)
    variants = ["off", "on", *(["before"] if args.before else [])]
    with tempfile.TemporaryDirectory(prefix="gridboard-bench-alarms-") as tmp:
        folder = Path(tmp)
        (folder / "off").mkdir()
        (folder / "off" / "sitecustomize.py").write_text(OFF_SITECUSTOMIZE)
        if not args.skip_writes:
            _writes(args, variants, folder)
        if args.scale_url:
            _scale(args, [v for v in variants if v != "off"], folder)
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (over 1 on 2 cores: under load)")


if __name__ == "__main__":
    main()
