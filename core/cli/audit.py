"""The ``audit-log`` command: the audit log's entries, filtered, newest first, as CSV (or
Parquet) to a file or stdout. See docs/reference.md#the-command-line."""

from __future__ import annotations

import argparse

from core.cli.common import DatabaseCommand, timestamp
from core.cli.grid_data import FORMAT_HELP, OUT_HELP, check_out, write_batches
from core.db import Database
from core.domain import SYSTEM_ACTOR


def _audit_log_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=timestamp, help="ISO 8601, inclusive")
    parser.add_argument("--until", type=timestamp, help="ISO 8601, exclusive")
    parser.add_argument("--actor", default="", help="who did it, exactly (a username)")
    parser.add_argument("--event", default="", help="the event, exactly (like user.create)")
    parser.add_argument("--text", default="", help="text found in any column, any case")
    parser.add_argument("--out", default="-", metavar="OUT", help=f"{OUT_HELP} (default: -)")
    parser.add_argument("--format", choices=["csv", "parquet"], help=FORMAT_HELP)


def _audit_log(args: argparse.Namespace, database: Database) -> int:
    from core.access.audit_log import AUDIT_SCHEMA, AuditFilter, audit_frames

    check_out(args.out)
    where = AuditFilter(
        actor=args.actor, event=args.event, since=args.since, until=args.until, text=args.text
    )
    with database.read() as session:
        frames = audit_frames(session=session, actor=SYSTEM_ACTOR, where=where)
        write_batches(args, frames, AUDIT_SCHEMA, "audit log entries")
    return 0


AUDIT_LOG = DatabaseCommand(
    name="audit-log",
    help="Write the audit log (who did what, newest first) as CSV or Parquet, filtered.",
    arguments=_audit_log_arguments,
    run=_audit_log,
)
