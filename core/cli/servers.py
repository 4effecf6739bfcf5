"""The long-running commands, stopped by SIGTERM/SIGINT: ``worker`` (queued reports) and ``api``.
See docs/operations.md#report-workers."""

from __future__ import annotations

import argparse
import logging
import os
import signal

from core.cli.common import DatabaseCommand, non_negative_float, positive_float, positive_int
from core.config import get_settings
from core.db import Database
from core.reports import LEASE_SECONDS, STOP_GRACE_SECONDS


def _worker_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--poll-seconds",
        type=positive_float,
        default=2.0,
        help="how often an idle worker looks for reports and webhook deliveries (default 2)",
    )
    parser.add_argument(
        "--lease-seconds",
        type=positive_float,
        default=LEASE_SECONDS,
        help="how long a claim lasts without renewal; a report (or webhook delivery) whose "
        f"worker died is taken over this long after (default {LEASE_SECONDS:g}; a report's "
        "is renewed every third of it)",
    )
    parser.add_argument(
        "--stop-grace-seconds",
        type=non_negative_float,
        default=STOP_GRACE_SECONDS,
        help="on SIGTERM, how long to let the current report finish before handing it back "
        f"to the queue (default {STOP_GRACE_SECONDS:g}; keep it below the kill timeout)",
    )
    parser.add_argument("--once", action="store_true", help="stop when the queue is empty")


def _worker(args: argparse.Namespace, database: Database) -> int:
    """Run queued reports until SIGTERM/SIGINT: the current report is finished within
    ``--stop-grace-seconds``, else handed back to the queue for another runner."""
    from core.alarms.watch import SilenceWatch
    from core.notifications.watch import WebhookWatch
    from core.reports.jobs import ReportRunner

    runner = ReportRunner(
        database,
        poll_seconds=args.poll_seconds,
        lease_seconds=args.lease_seconds,
        stop_grace_seconds=args.stop_grace_seconds,
    )

    def request_stop(signum: int, _frame: object) -> None:
        logging.info("signal %s: stopping after the current report", signum)
        runner.request_stop()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    # Communication lost is checked every minute beside the reports (not in a --once run).
    watch = None if args.once else SilenceWatch(database).start()
    # Alarm events are sent to the webhooks every --poll-seconds (in a --once run: once, after).
    hooks = WebhookWatch(
        database, worker=runner.worker_id, lease_seconds=args.lease_seconds,
        every_seconds=args.poll_seconds,
    )  # fmt: skip
    if not args.once:
        hooks.start()
    try:
        logging.info("worker %s waiting for reports on %s", runner.worker_id, database.url)
        runner.run(until_idle=args.once)
        if args.once:
            hooks.run_once()
    finally:
        hooks.stop()
        if watch is not None:
            watch.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    logging.info("worker %s stopped", runner.worker_id)
    return 0


WORKER = DatabaseCommand(
    name="worker",
    help="Run queued reports (for deployments whose app replicas should not compute them).",
    arguments=_worker_arguments,
    run=_worker,
    logs_to="stdout",
    # A worker runs one report at a time, and a report is a few thousand rows for Polars: its
    # thread pool only adds contention there, and parallelism comes from running more workers
    # (bench/workers.py). Results do not depend on it. Read once, when Polars starts.
    environment={"POLARS_MAX_THREADS": "1"},
)


def _port(text: str) -> int:
    number = positive_int(text)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number up to 65535, got {number}")
    return number


def _api_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=_port, default=8000, help="default 8000")
    parser.add_argument(
        "--workers", type=positive_int, default=1, help="server processes (default 1)"
    )


def _api(args: argparse.Namespace, database: Database) -> int:
    """Serve the HTTP API until SIGTERM/SIGINT; each worker process opens the same database
    (already migrated here) and runs queued reports unless GRIDBOARD_APP_RUNS_REPORTS=false."""
    import uvicorn

    from core.cli.http_limits import LimitedHttpTools

    url = database.engine.url.render_as_string(hide_password=False)
    database.dispose()
    os.environ["GRIDBOARD_DATABASE_URL"] = url  # the worker processes read their settings anew
    get_settings.cache_clear()
    shown = "localhost" if args.host in ("0.0.0.0", "127.0.0.1", "::") else args.host  # noqa: S104
    logging.info("GridBoard API on http://%s:%s/docs", shown, args.port)
    print(f"GridBoard API: http://{shown}:{args.port}/docs", flush=True)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again for the
    # handler it found: this one, so a requested stop ends with status 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: logging.info("signal %s: stopped", signum))
    uvicorn.run(
        "api.app:serve_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,  # GridBoard's own logging (core.logs), configured already
        access_log=False,  # every write and sign-in has its audit record
        proxy_headers=True,
        http=LimitedHttpTools,  # refuses heads that are too large or too slow
    )
    return 0


API = DatabaseCommand(
    name="api",
    help="Serve the HTTP API (OpenAPI docs at /docs) for scripts, SCADA feeds and other tools.",
    arguments=_api_arguments,
    run=_api,
    logs_to="stdout",
)
