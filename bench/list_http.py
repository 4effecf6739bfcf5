"""`GET /components` through real HTTP, served by several checkouts side by side, interleaved.

    python bench/list_http.py                                  # this checkout alone
    python bench/list_http.py /tmp/before /tmp/after .         # each folder a checkout

For each checkout (a folder holding `core/` and `api/`; `.` is this one): a SQLite database
of its own, seeded by its own `gridboard seed` (100 components), and its own `gridboard api`
(`PYTHONPATH` set to the folder, so it serves that folder's code). Then `--rounds` rounds, each
asking every server in turn (the order rotated per round) for the first 100 components
`--requests` times over one keep-alive `http.client` connection with a sign-in token: per
server, the server's CPU time per request (from /proc, what the code costs) and the wall
time's median per round (what a client waits, the machine's load included).
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
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api import COOKIE_KEY, PASSWORD, _cpu_seconds
from bench.benchlib import GRIDBOARD, machine, seed_command


def _environment(checkout: Path) -> dict[str, str]:
    return {
        "GRIDBOARD_COOKIE_KEY": COOKIE_KEY,
        "GRIDBOARD_APP_RUNS_REPORTS": "false",
        "GRIDBOARD_LOG_LEVEL": "WARNING",
        "PATH": str(Path(sys.executable).parent),
        "PYTHONPATH": str(checkout),
    }


def _serve(checkout: Path, folder: Path, port: int) -> subprocess.Popen[bytes]:
    url = f"sqlite:///{folder / f'{port}.db'}"
    environment = _environment(checkout)
    subprocess.run(
        seed_command(url, 100, 10), check=True, capture_output=True, env=environment, cwd=checkout
    )
    subprocess.run(
        [str(GRIDBOARD), "--database-url", url, "create-user", "bench", "--role", "manager",
         "--password-stdin"],
        input=(PASSWORD + "\n").encode(), check=True, capture_output=True, env=environment,
        cwd=checkout,
    )  # fmt: skip
    return subprocess.Popen(
        [str(GRIDBOARD), "--database-url", url, "api", "--port", str(port)],
        env=environment, cwd=checkout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _token(port: int) -> str:
    for _ in range(300):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            form = urllib.parse.urlencode({"username": "bench", "password": PASSWORD})
            connection.request(
                "POST", "/auth/token", form, {"Content-Type": "application/x-www-form-urlencoded"}
            )
            answer = connection.getresponse()
            token: str = json.loads(answer.read())["access_token"]
            return token
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no server on port {port}")


def _round(port: int, token: str, requests: int, pid: int) -> tuple[float, float]:
    """Server CPU ms per request and the median wall ms of ``requests`` lists."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}"}
    walls = []
    cpu = _cpu_seconds(pid)
    for _ in range(requests):
        started = time.perf_counter()
        connection.request("GET", "/components?limit=100", headers=headers)
        answer = connection.getresponse()
        body = answer.read()
        walls.append((time.perf_counter() - started) * 1000)
        assert answer.status == 200 and body.startswith(b"[{"), (answer.status, body[:200])
    cpu = _cpu_seconds(pid) - cpu
    connection.close()
    return cpu * 1000 / requests, statistics.median(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="*", default=["."])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--port", type=int, default=8577)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    checkouts = [Path(name).resolve() for name in args.checkouts]
    with tempfile.TemporaryDirectory() as tmp:
        servers = [
            _serve(checkout, Path(tmp), args.port + at) for at, checkout in enumerate(checkouts)
        ]
        try:
            tokens = [_token(args.port + at) for at in range(len(checkouts))]
            for at in range(len(checkouts)):  # warm up
                _round(args.port + at, tokens[at], 50, servers[at].pid)
            cpu: list[list[float]] = [[] for _ in checkouts]
            wall: list[list[float]] = [[] for _ in checkouts]
            for number in range(args.rounds):
                order = list(range(len(checkouts)))
                order = order[number % len(order) :] + order[: number % len(order)]
                for at in order:
                    used, waited = _round(
                        args.port + at, tokens[at], args.requests, servers[at].pid
                    )
                    cpu[at].append(used)
                    wall[at].append(waited)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=60)
    print(f"{args.rounds} rounds of {args.requests} GET /components?limit=100 per checkout")
    print("checkout | server CPU per request, median (best) | wall p50, median round (best)")
    for at, checkout in enumerate(checkouts):
        print(
            f"{checkout} | {statistics.median(cpu[at]):.2f} ms ({min(cpu[at]):.2f}) | "
            f"{statistics.median(wall[at]):.2f} ms ({min(wall[at]):.2f})"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
